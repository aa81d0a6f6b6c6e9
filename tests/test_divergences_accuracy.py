"""Histogram divergences near p = q, at tiny and subnormal masses, against mpmath (40 digits).

The references take the float inputs as exact and share no code with divkit: each generator f
is written out in mpmath below, with the conventions 0 f(0/0) = 0, q f(0) at p = 0 and
p f'(inf) at q = 0 (CONVENTIONS.md §1, §2).
"""

import math

import mpmath as mp
import numpy as np
import pytest

import divkit
from divkit import get_f_divergence

DPS = 40


def _xlogx(u):
    return u * mp.log(u) if u > 0 else mp.mpf(0)


# name -> (params, f(u) in mpmath)
GENERATORS = {
    "tv": ({}, lambda u, **k: abs(u - 1) / 2),
    "kl": ({}, lambda u, **k: _xlogx(u)),
    "reverse_kl": ({}, lambda u, **k: -mp.log(u)),
    "pearson_chi2": ({}, lambda u, **k: (u - 1) ** 2),
    "neyman_chi2": ({}, lambda u, **k: (1 - u) ** 2 / u),
    "squared_hellinger": ({}, lambda u, **k: (mp.sqrt(u) - 1) ** 2),
    "jeffreys": ({}, lambda u, **k: (u - 1) * mp.log(u)),
    "js": ({}, lambda u, **k: (_xlogx(u) - (u + 1) * mp.log((u + 1) / 2)) / 2),
    "weighted_js": ({"pi": 0.25}, lambda u, pi: pi * _xlogx(u) - (1 - pi + pi * u) * mp.log(1 - pi + pi * u)),
    "gan": ({}, lambda u, **k: _xlogx(u) - (u + 1) * mp.log(u + 1)),
    "alpha": ({"alpha": 0.5}, lambda u, alpha: (u**alpha - 1 - alpha * (u - 1)) / (alpha * (alpha - 1))),
    "alpha_3": ({"alpha": 3.0}, lambda u, alpha: (u**alpha - 1 - alpha * (u - 1)) / (alpha * (alpha - 1))),
    "alpha_m2": ({"alpha": -2.0}, lambda u, alpha: (u**alpha - 1 - alpha * (u - 1)) / (alpha * (alpha - 1))),
}


def reference(name, p, q):
    """sum_i q_i f(p_i / q_i) at DPS digits; 0 bins by the conventions (limits taken in mpmath)."""
    params, f = GENERATORS[name]
    params = {k: mp.mpf(v) for k, v in params.items()}
    with mp.workdps(DPS):
        total = mp.mpf(0)
        for a, b in zip(p, q):
            a, b = mp.mpf(float(a)), mp.mpf(float(b))
            if a > 0 and b > 0:
                total += b * f(a / b, **params)
            elif b > 0:  # q f(0)
                total += b * LIMITS[name][0]
            elif a > 0:  # p lim f(u)/u
                total += a * LIMITS[name][1]
        return total


_HALF_LOG2 = mp.log(2) / 2
# name -> (f(0), lim_{u -> inf} f(u) / u), worked out by hand from the generators above
LIMITS = {
    "tv": (mp.mpf(1) / 2, mp.mpf(1) / 2), "kl": (0, mp.inf), "reverse_kl": (mp.inf, 0),
    "pearson_chi2": (1, mp.inf), "neyman_chi2": (mp.inf, 1), "squared_hellinger": (1, 1),
    "jeffreys": (mp.inf, mp.inf), "js": (_HALF_LOG2, _HALF_LOG2),
    "weighted_js": (-mp.mpf(0.75) * mp.log(0.75), -mp.mpf(0.25) * mp.log(0.25)), "gan": (0, 0),
    "alpha": (2, 2), "alpha_3": (mp.mpf(1) / 3, mp.inf), "alpha_m2": (mp.inf, mp.mpf(1) / 3),
}


def divkit_value(name, p, q):
    base = name.split("_")[0] if name.startswith("alpha") else name
    params = GENERATORS[name][0]
    return get_f_divergence(base, **params).divergence(p, q)


def near_pair(rng, n, eps, tiny=False):
    p = rng.random(n)
    if tiny:
        p[: n // 3] *= 1e-300  # masses down to 1e-300 (normal floats) beside O(1) ones
    p /= p.sum()
    q = p * (1 + eps * rng.standard_normal(n))
    q /= q.sum()
    return p, q


def check(name, p, q, rtol=1e-12):
    got = divkit_value(name, p, q)
    ref = reference(name, p, q)
    if ref == 0:
        assert got == 0.0
    elif mp.isinf(ref):
        assert got == math.inf
    else:
        assert abs(got - ref) <= rtol * abs(ref), (name, got, float(ref), float(abs(got - ref) / abs(ref)))


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("eps", [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12])
def test_near_equal_histograms_against_mpmath(name, eps):
    rng = np.random.default_rng(int(-math.log10(eps)) * 31 + len(name))
    check(name, *near_pair(rng, 50, eps))
    check(name, *near_pair(rng, 40, eps, tiny=True))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_far_tiny_subnormal_and_zero_masses_against_mpmath(name):
    rng = np.random.default_rng(len(name))
    p, q = rng.random(30), rng.random(30)
    p[:5] = [1e-300, 5e-324, 3e-310, 0.0, 1e-200]
    q[:5] = [1e-300, 5e-324, 1e-320, 1e-250, 0.0]
    p[5], q[5] = 0.0, 0.0  # an empty bin
    p /= p.sum()
    q /= q.sum()
    check(name, p, q)
    # subnormal near-equal bins beside normal ones
    p2, q2 = near_pair(rng, 20, 1e-9)
    p2[:3] = [5e-324, 1e-320, 2.5e-310]
    q2[:3] = [5e-324, 1.5e-320, 2.5e-310]
    check(name, p2 / p2.sum(), q2 / q2.sum())


def test_scipy_gh20710_rel_entr_cases():
    # one-bin values from scipy's gh-20710 tests: rel_entr(x, y) = x log(x / y); kl with
    # atol=1 evaluates the single bin without the sum-to-one check
    cases = [(0.9456657713430001, 0.9456657713430094), (0.48066098564791515, 0.48066098564794774),
             (0.786048657854217, 0.786048657854234), (0.5, 0.5 + 2**-53), (1.0, 1.0 - 2**-53)]
    for x, y in cases:
        with mp.workdps(DPS):
            ref = mp.mpf(x) * mp.log(mp.mpf(x) / mp.mpf(y))
        got = divkit.kl([x], [y], atol=1.0)
        assert abs(got - ref) <= 1e-13 * abs(ref), (x, y, got, float(ref))
    assert divkit.kl([0.9456657713430001], [0.9456657713430094], atol=1.0) == pytest.approx(
        -9.325873406851269e-15, rel=1e-14)


def test_issue_fifty_bin_cases_kl_reverse_js():
    # q = p (1 + eps N(0, 1)) (not renormalised: q sums to 1 within 1e-6 at these eps)
    rng = np.random.default_rng(20710)
    p = rng.random(50)
    p /= p.sum()
    for eps in (1e-6, 1e-8, 1e-10, 1e-12):
        q = p * (1 + eps * rng.standard_normal(50))
        for name, fn in (("kl", divkit.kl), ("reverse_kl", lambda a, b: divkit.kl(b, a)), ("js", divkit.js)):
            ref = reference(name, p, q)
            assert abs(fn(p, q) - ref) <= 1e-12 * abs(ref)


def test_js_with_equal_subnormal_bin():
    # the mixture of two 5e-324 masses underflowed to 0 (ZeroDivisionError before)
    assert divkit.js([1.0, 5e-324], [1.0, 5e-324]) == 0.0
    assert divkit.js_distance([1.0, 5e-324], [1.0, 5e-324]) == 0.0
    assert get_f_divergence("js").divergence([1.0, 5e-324], [1.0, 5e-324]) == 0.0
    assert get_f_divergence("weighted_js", pi=0.3).divergence([1.0, 5e-324], [1.0, 5e-324]) == 0.0
    p, q = [1.0 - 1e-300, 5e-324, 1e-300], [1.0 - 1e-300, 1e-323, 1e-300]
    ref = reference("js", p, q)  # 4.2e-325: a subnormal result, right to its last place
    assert 0 < ref < 2.2e-308 and abs(divkit.js(p, q) - ref) <= 5e-324


def test_identical_inputs_give_exact_zero():
    rng = np.random.default_rng(1)
    p = rng.random(1000)
    p[::7] = 0
    p[::11] *= 1e-300
    p /= p.sum()
    for name in GENERATORS:
        value = divkit_value(name, p, p.copy())
        expected = -2 * math.log(2) if name == "gan" else 0.0
        assert value == pytest.approx(expected, abs=1e-15) if name == "gan" else value == 0.0


def test_many_bins_accurate_pass_and_batches(rng):
    # several blocks, a batch with one near-equal row (recomputed) and one far row (fast pass)
    n = 3 * 65536 + 5
    p = rng.random(n)
    p /= p.sum()
    q_near = p * (1 + 1e-9 * rng.standard_normal(n))
    q_near /= q_near.sum()
    q_far = rng.random(n)
    q_far /= q_far.sum()
    out = divkit.kl(p, np.stack([q_near, q_far]))
    assert out[0] == divkit.kl(p, q_near) and out[1] == divkit.kl(p, q_far)
    # the near row against an independent accurate float route: math.fsum of exact per-bin terms
    x = (p - q_near) / q_near
    h = np.where(np.abs(x) < 1e-3, x * x / 2 - x**3 / 6 + x**4 / 12, (1 + x) * np.log1p(x) - x)
    independent = math.fsum(q_near * h) + math.fsum(p - q_near)
    assert out[0] == pytest.approx(independent, rel=1e-9)
