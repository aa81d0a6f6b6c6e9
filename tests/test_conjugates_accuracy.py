"""Every registry conjugate against an mpmath supremum sup_u (t u - f(u)) on a grid of t.

The maximiser u* solves f'(u) = t (f convex); it is found by bisection on s = log u in mpmath
with enough digits that t u* - f(u*) does not cancel (|t| up to 1e300 needs ~330 digits).
Pearson's f* is the conjugate of (u - 1)^2 over all of R (CONVENTIONS.md §2), so its maximiser
is searched on R. Points where the maximiser is the end u = 0 give -f(0).
"""

import math

import mpmath as mp
import numpy as np
import pytest

from divkit import get_f_divergence

PI = 0.3


def _f_and_fprime(name, a):
    log = mp.log
    table = {
        "kl": (lambda u: u * log(u), lambda u: log(u) + 1),
        "reverse_kl": (lambda u: -log(u), lambda u: -1 / u),
        "neyman_chi2": (lambda u: (1 - u) ** 2 / u, lambda u: 1 - 1 / u**2),
        "squared_hellinger": (lambda u: (mp.sqrt(u) - 1) ** 2, lambda u: 1 - 1 / mp.sqrt(u)),
        "jeffreys": (lambda u: (u - 1) * log(u), lambda u: log(u) + 1 - 1 / u),
        "js": (lambda u: (u * log(u) - (u + 1) * log((u + 1) / 2)) / 2, lambda u: log(2 * u / (u + 1)) / 2),
        "weighted_js": (lambda u: mp.mpf(PI) * u * log(u) - (1 - mp.mpf(PI) + mp.mpf(PI) * u) * log(1 - mp.mpf(PI) + mp.mpf(PI) * u),
                        lambda u: mp.mpf(PI) * log(u / (1 - mp.mpf(PI) + mp.mpf(PI) * u))),
        "gan": (lambda u: u * log(u) - (u + 1) * log(u + 1), lambda u: log(u / (u + 1))),
        "alpha": (lambda u: (u**a - 1 - a * (u - 1)) / (a * (a - 1)), lambda u: (u ** (a - 1) - 1) / (a - 1)),
    }
    return table[name]


def mp_conjugate(name, t, a=None):
    t_f = float(t)
    # |t| large: t u* - f(u*) cancels ~log10|t| digits; |t| tiny: u* must be good to sqrt(|t|)
    # and where u* ~ e^t is tiny, log(1 + u*) needs |t| / ln 10 digits
    dps = 40 + int(min(400.0, max(abs(math.log10(abs(t_f))), abs(t_f) / 2.3))) if t_f != 0 else 40
    with mp.workdps(dps):
        t = mp.mpf(t_f)
        if name == "pearson_chi2":  # maximiser 1 + t/2 on R, by bisection all the same
            g = lambda u: 2 * (u - 1) - t
            lo, hi = mp.mpf(-1), mp.mpf(1)
            while g(lo) > 0:
                lo *= 2
            while g(hi) < 0:
                hi *= 2
            u = _bisect(g, lo, hi, dps)
            return t * u - (u - 1) ** 2
        if name == "tv":  # piecewise linear: the supremum is at a breakpoint u in {0, 1}
            return max(t - 0, -mp.mpf(1) / 2) if t >= -0.5 else None
        f, fp = _f_and_fprime(name, mp.mpf(a) if a is not None else None)
        if name == "alpha" and a > 1 and t <= -1 / (mp.mpf(a) - 1):  # f'(0) = -1/(a-1): the end u = 0
            return -1 / mp.mpf(a)
        g = lambda s: fp(mp.exp(s)) - t
        lo, hi = mp.mpf(-1), mp.mpf(1)
        while g(lo) > 0:
            lo *= 2
            if lo < -mp.mpf(10) ** 320:  # no interior maximiser: the end u = 0
                return -f(mp.mpf(10) ** (-dps * 10)) if name == "alpha" else None
        while g(hi) < 0:
            hi *= 2
        s = _bisect(g, lo, hi, dps)
        u = mp.exp(s)
        return t * u - f(u)


def _bisect(g, lo, hi, dps):
    for _ in range(80):  # bracket to ~1e-24 relative, then the (superlinear) Illinois method
        mid = (lo + hi) / 2
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
    try:
        return mp.findroot(g, (lo, hi), solver="illinois", tol=mp.mpf(10) ** (-dps + 5), maxsteps=200)
    except (ValueError, ZeroDivisionError):
        pass
    tol = mp.mpf(10) ** (-(dps // 2) - 8)
    while hi - lo > tol * (1 + abs(lo) + abs(hi)):
        mid = (lo + hi) / 2
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


BASE_GRID = [-1e300, -1e100, -1e20, -1e5, -745.0, -700.0, -40.0, -5.0, -1.5, -1.0, -0.3, -1e-3,
             -1e-8, -1e-20, -1e-300, 0.0, 1e-300, 1e-20, 1e-8, 1e-3, 0.3, 1.0, 5.0, 40.0, 700.0]

CASES = [("kl", None), ("reverse_kl", None), ("pearson_chi2", None), ("neyman_chi2", None),
         ("squared_hellinger", None), ("jeffreys", None), ("js", None), ("weighted_js", None),
         ("gan", None), ("tv", None), ("alpha", 0.5), ("alpha", 3.0), ("alpha", -2.0)]


def _divergence(name, a):
    if name == "alpha":
        return get_f_divergence("alpha", alpha=a)
    if name == "weighted_js":
        return get_f_divergence("weighted_js", pi=PI)
    return get_f_divergence(name)


def _grid(div):
    dom = div.conjugate_domain
    pts = [t for t in BASE_GRID if dom.contains(t)]
    if math.isfinite(dom.high):  # up to the edge of the domain
        for gap in (1e-2, 1e-6, 1e-10):
            t = dom.high - gap * max(1.0, abs(dom.high))
            if dom.contains(t):
                pts.append(t)
        pts.append(float(np.nextafter(dom.high, -math.inf)))
    return sorted(set(pts))


@pytest.mark.parametrize("name,a", CASES)
def test_conjugate_against_mpmath_supremum(name, a):
    div = _divergence(name, a)
    for t in _grid(div):
        got = div.conjugate(t)
        ref = mp_conjugate(name, t, a)
        if ref is None:
            continue
        if mp.isinf(ref) or abs(ref) > 1.7e308:
            assert got == math.inf, (name, t, got)
            continue
        with mp.workdps(30):
            err = abs(mp.mpf(got) - ref)
        if abs(ref) < 1e-40 and t == 0.0:  # f*(0) = -min f = 0 exactly where min f = f(1) = 0
            assert got == 0.0, (name, got, ref)
        elif abs(ref) < 2.2250738585072014e-308:  # the value underflows: 0 or the right subnormal
            assert err <= 5e-324, (name, t, got, ref)
        else:
            # weighted JS: its domain end -pi log pi is itself rounded, so at the last float
            # below it the gap is known to ~1 ulp only (the JS end log(2)/2 is split in two)
            rtol = 1e-12
            if name == "weighted_js":  # the end's own rounding (2^-53 |high|) over the gap, through log
                rtol = max(rtol, 4 * 2.0**-53 * div.conjugate_domain.high / (div.conjugate_domain.high - t) / float(abs(ref)))
            assert err <= rtol * abs(ref), (name, a, t, got, float(ref), float(err / abs(ref)))


@pytest.mark.parametrize("name,a", CASES)
def test_conjugate_outside_domain_is_inf_never_nan(name, a):
    div = _divergence(name, a)
    dom = div.conjugate_domain
    outside = [x for x in (dom.high, dom.high + 1e-12, dom.high * 2 + 1, 1e300, dom.low, dom.low - 1, -1e300)
               if math.isfinite(x) and not dom.contains(x)]
    for t in outside:
        assert div.conjugate(t) == math.inf, (name, t)
    values = div.conjugate(np.linspace(-50, 50, 101))
    assert not np.any(np.isnan(values))


def test_issue_conjugate_cases():
    assert get_f_divergence("jeffreys").conjugate(-1e20) == pytest.approx(-47.05170185988091, rel=1e-14)
    assert get_f_divergence("gan").conjugate(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-14)
    assert get_f_divergence("neyman_chi2").conjugate(1e-20) == pytest.approx(1e-20, rel=1e-14)
