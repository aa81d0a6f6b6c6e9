r"""The f-divergence family: generators, conjugates, activations, and D_f on histograms.

An f-divergence (Csiszár 1963; Ali & Silvey 1966) between histograms p and q is

.. math:: D_f(p \| q) = \sum_i q_i f(p_i / q_i)

for a convex f on [0, inf) with f(1) = 0. Its variational form (Nguyen, Wainwright & Jordan
2010; Nowozin, Cseke & Tomioka 2016, "f-GAN") uses the Fenchel conjugate
:math:`f^*(t) = \sup_{u \ge 0} (t u - f(u))`, whose effective domain dom f* is an interval,
and an output activation g_f mapping the reals into dom f*.

Each :class:`FDivergence` carries f, f', f*, dom f*, g_f and the two limits that give D_f its
value at zero mass: ``f_at_zero`` = f(0) (by continuity, possibly +inf; a bin with p = 0 < q
contributes q f(0)) and ``slope_at_infinity`` = lim_{u->inf} f(u)/u (the upper end of dom f*;
a bin with q = 0 < p contributes p times it). Empty bins contribute 0.

=================  ================================  ==================================  ==============
name               f(u)                              f*(t)                               dom f*
=================  ================================  ==================================  ==============
tv                 |u - 1| / 2                       t                                   [-1/2, 1/2]
kl                 u log u                           exp(t - 1)                          R
reverse_kl         -log u                            -1 - log(-t)                        t < 0
pearson_chi2       (u - 1)^2                         t^2/4 + t                           R
neyman_chi2        (1 - u)^2 / u                     2 - 2 sqrt(1 - t)                   t <= 1
squared_hellinger  (sqrt u - 1)^2                    t / (1 - t)                         t < 1
jeffreys           (u - 1) log u                     W + 1/W + t - 2, W = W0(e^(1-t))    R
js                 [u log u - (u+1) log((u+1)/2)]/2  -log(2 - e^(2t)) / 2                t < log(2)/2
weighted_js (pi)   pi u log u - m log m,             (1-pi) log((1-pi)/(1-pi e^(t/pi)))  t < -pi log pi
                   m = 1 - pi + pi u
gan                u log u - (u+1) log(u+1)          -log(1 - e^t)                       t < 0
alpha (a)          (u^a - 1 - a(u-1)) / (a(a-1))     see below                           see below
=================  ================================  ==================================  ==============

Activations g_f: tv 0.5 tanh v; kl, pearson_chi2, jeffreys, alpha (a >= 1): v; reverse_kl
-exp(-v); neyman_chi2, squared_hellinger: 1 - exp(-v); js: (log 2 - log(1 + e^-v))/2;
weighted_js: -pi log pi - log(1 + e^-v); gan: -log(1 + e^-v); alpha (a < 1): 1/(1-a) - e^-v.
Rounded values are kept strictly inside open ends (and above -DBL_MAX).

The table (CONVENTIONS.md §2) corrects the widely copied f-GAN Table 1: ``"js"`` is the true
Jensen-Shannon divergence (f halved), Jeffreys' conjugate uses the principal Lambert branch via
``scipy.special.wrightomega`` (finite for very negative t), and ``"gan"`` gives
``2 JS - log 4``, which is negative between close distributions (it is -log 4 at p = q).
Pearson chi^2 and total variation use the conjugate of the formula extended to all real u
(``t^2/4 + t`` on R and ``t`` on [-1/2, 1/2]); these still give tight variational bounds.
Neyman chi^2 has f*(1) = 2 finite (the supremum is approached as u -> inf), so its dom f* is
the closed half-line t <= 1; the f-GAN table writes t < 1.

Amari alpha-divergence (Amari 1985; Cichocki & Amari 2010), any real ``alpha``:
f_a(u) = (u^a - 1 - a (u - 1)) / (a (a - 1)), with the limits a -> 1: u log u - u + 1 (KL)
and a -> 0: -log u + u - 1 (reverse KL), both evaluated exactly and continuously nearby.
Derivation of its conjugate (s = 1 + (a - 1) t, maximiser u* = s^(1/(a-1))):
f*_a(t) = (s^(a/(a-1)) - 1) / a where s > 0, written as z relexpm1(a z) with
z = log(s)/(a - 1) so that a -> 0, 1 are continuous (a = 1: e^t - 1; a = 0: -log(1 - t)).
Domain: a >= 1 (a > 1: s <= 0 has maximiser u = 0, so f* = -1/a there): all of R;
0 <= a < 1: t < 1/(1 - a); a < 0: t <= 1/(1 - a) with f*(1/(1 - a)) = -1/a.
Activation: v for a >= 1, 1/(1 - a) - exp(-v) for a < 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy import special

from . import _discrete as _d
from ._validation import SUM_ATOL, as_array, check_scalar, kind_check

_INF = math.inf
_LOG2 = math.log(2.0)
_LOG2_LO = 2.319046813846299558e-17  # log 2 - _LOG2

#: |f(1)| allowed for a user-defined generator.
F_ONE_ATOL = 1e-8

# search range of x = log u for the numerical conjugate; beyond e^40 the difference t u - f(u)
# loses all precision to cancellation, so larger maximisers are not chased
_X_LOW, _X_HIGH = -700.0, 40.0
_GRID_POINTS = 371  # spacing 2 in log u
_GOLDEN_STEPS = 64
_BLOCK = 1024  # values of t per vectorised block


@dataclass(frozen=True)
class Interval:
    """An interval of the real line with open or closed ends (``low``/``high`` may be inf).

    >>> from divkit import Interval
    >>> dom = Interval(-0.5, 0.5, True, True)
    >>> dom.contains([-0.5, 0.0, 0.7]).tolist()
    [True, True, False]
    >>> str(Interval(-math.inf, 0.0, False, False))
    '(-inf, 0)'
    """

    low: float
    high: float
    low_closed: bool
    high_closed: bool

    def contains(self, t):
        """Vectorised membership test; NaN is never inside. Scalars give a Python bool."""
        t = np.asarray(t, dtype=np.float64)
        above = t >= self.low if self.low_closed else t > self.low
        below = t <= self.high if self.high_closed else t < self.high
        inside = above & below
        return bool(inside) if inside.ndim == 0 else inside

    def __str__(self) -> str:
        return (f"{'[' if self.low_closed else '('}{self.low:g}, "
                f"{self.high:g}{']' if self.high_closed else ')'}")


_REAL_LINE = Interval(-_INF, _INF, False, False)


def _evaluate(fn, x, name: str):
    """``fn`` on ``x`` as float64 (NaN propagates); non-numeric or ragged ``x`` is an error
    naming the argument ``name``."""
    arr = as_array(x, name)
    kind_check(arr, name)
    x = arr.astype(np.float64)
    with np.errstate(all="ignore"):
        y = np.asarray(fn(x), dtype=np.float64)
    if y.shape != x.shape:
        y = np.broadcast_to(y, x.shape).copy()
    return float(y) if y.ndim == 0 else y


class FDivergence:
    """One member of the f-divergence family (see the module docstring for the conventions).

    Build one with :func:`get_f_divergence` (registry names) or
    :meth:`FDivergence.from_function` (your own convex f).

    Attributes
    ----------
    name : str
        Registry name (or the name given to a user-defined f).
    params : dict
        Parameters (``pi`` for ``"weighted_js"``, ``alpha`` for ``"alpha"``).
    conjugate_domain : Interval
        dom f*, the interval where f* is finite; :meth:`conjugate` is +inf outside it.
    f_at_zero : float
        f(0) = lim_{u->0} f(u), possibly +inf.
    slope_at_infinity : float
        lim_{u->inf} f(u)/u = sup dom f*, possibly +inf.
    conjugate_is_numerical : bool
        True when f* is computed by numerical maximisation (user-defined f without conjugate).

    Examples
    --------
    >>> from divkit import get_f_divergence
    >>> kl = get_f_divergence("kl")
    >>> round(kl.conjugate(1.0), 6), kl.conjugate_domain.contains(5.0)
    (1.0, True)
    >>> round(kl.divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    """

    def __init__(self, name, params, *, f, f_prime, conjugate, conjugate_domain, activation,
                 f_at_zero, slope_at_infinity, conjugate_is_numerical=False, kernel=None):
        self.name = name
        self.params = dict(params)
        self._f = f
        self._f_prime = f_prime
        self._conjugate = conjugate
        self.conjugate_domain = conjugate_domain
        self._activation = activation
        self.f_at_zero = float(f_at_zero)
        self.slope_at_infinity = float(slope_at_infinity)
        self.conjugate_is_numerical = bool(conjugate_is_numerical)
        # (code, parameter) of the fused numba kernel; None for user-defined f
        self._kernel = kernel

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"FDivergence({self.name!r}{args})"

    # -- the generator and its conjugate ----------------------------------------------------

    def f(self, u):
        """The generator f(u) for u >= 0 (f(0) as the limit); +inf for u < 0."""
        def fn(x):
            y = np.asarray(self._f(x), dtype=np.float64)
            y = np.where(x == 0, self.f_at_zero, y)
            return np.where(x < 0, _INF, y)
        return _evaluate(fn, u, "u")

    def f_prime(self, u):
        """The derivative f'(u) for u > 0 (a subgradient where f has a kink; the limit at 0)."""
        return _evaluate(lambda x: np.where(x < 0, np.nan, self._f_prime(x)), u, "u")

    def conjugate(self, t):
        """The Fenchel conjugate f*(t) = sup_{u >= 0} (t u - f(u)); +inf outside dom f*."""
        def fn(x):
            inside = self.conjugate_domain.contains(x)
            y = np.where(inside, self._conjugate(np.where(inside, x, 0.0)), _INF)
            return np.where(np.isnan(x), np.nan, y)
        return _evaluate(fn, t, "t")

    def activation(self, v):
        """The output activation g_f: maps every real v into dom f* (f-GAN)."""
        dom = self.conjugate_domain

        def fn(x):
            # the reals map into dom f* as reals: overflow to -inf is clipped to -DBL_MAX
            y = np.maximum(self._activation(x), -np.finfo(np.float64).max)
            if math.isfinite(dom.high) and not dom.high_closed:
                # keep the rounded value strictly inside an open end (e.g. 1 - exp(-40) == 1.0)
                y = np.minimum(y, np.nextafter(dom.high, -_INF))
            return y
        return _evaluate(fn, v, "v")

    # -- the divergence ---------------------------------------------------------------------

    def divergence(self, p, q, axis=-1, *, keepdims=False, normalize=False, atol=SUM_ATOL):
        r"""D_f(p ‖ q) = sum_i q_i f(p_i / q_i) between histograms; see :func:`f_divergence`."""
        keepdims = _d.check_bool(keepdims, "keepdims")
        normalize = _d.check_bool(normalize, "normalize")
        prep = _d.prepare_pair(p, q, axis)
        if self._kernel is not None:
            code, param = self._kernel
            values = _d.pair_sum(prep, code, param, self.f_at_zero, self.slope_at_infinity,
                                 normalize=normalize, atol=atol)
        else:
            values = self._generic_divergence(prep, normalize, atol)
        return _d.finish(values, prep, keepdims)

    def _generic_divergence(self, prep, normalize, atol):
        scale_p, scale_q = _d.validated_rows(prep, normalize=normalize, atol=atol)
        P = prep.P[prep.ip].astype(np.float64) * scale_p[prep.ip, None]
        Q = prep.Q[prep.iq].astype(np.float64) * scale_q[prep.iq, None]
        terms = np.zeros(P.shape)
        both = (P > 0) & (Q > 0)
        with np.errstate(all="ignore"):
            terms[both] = Q[both] * np.asarray(self._f(P[both] / Q[both]), dtype=np.float64)
            only_p = (P > 0) & (Q == 0)
            terms[only_p] = P[only_p] * self.slope_at_infinity
            only_q = (P == 0) & (Q > 0)
            terms[only_q] = Q[only_q] * self.f_at_zero
        if np.isnan(terms).any():
            raise ValueError(f"f of {self.name!r} returned NaN at some ratios p/q > 0: the "
                             "divergence is undefined (is f defined on all of (0, inf)?)")
        return terms.sum(axis=-1).reshape(prep.batch_shape)

    # -- user-defined generators ------------------------------------------------------------

    @classmethod
    def from_function(cls, f: Callable, *, f_prime: Callable | None = None,
                      conjugate: Callable | None = None,
                      conjugate_domain: Interval | None = None,
                      f_at_zero: float | None = None, slope_at_infinity: float | None = None,
                      name: str = "custom") -> FDivergence:
        r"""An f-divergence from your own convex generator ``f`` with ``f(1) = 0``.

        ``f`` should accept numpy arrays of u > 0 (a scalar-only function is vectorised with
        ``np.vectorize``). Whatever is not given is derived numerically:

        - ``f_at_zero``: f(0) if finite, else the limit estimated at u = 1e-100 ... 1e-300
          (+inf when f still grows there);
        - ``slope_at_infinity`` (= sup dom f*): lim f(u)/u estimated on u = 1e20 ... 1e300
          (+inf when it still grows, also where f overflows);
        - ``conjugate_domain``: (-inf, slope_at_infinity), closed at the top when
          slope * u - f(u) has converged by u = 1e12 (then f* there is that limit);
        - ``f_prime``: central finite differences;
        - ``conjugate``: f*(t) = sup_{u >= 0} (t u - f(u)) by golden-section search over
          x = log u in [-700, 40] (t u - f(u) is concave in u, hence unimodal in x) after a
          coarse grid over the same range, together
          with the limit u -> 0 (value -f(0)); +inf outside dom f*. ``conjugate_is_numerical``
          is then True. Accuracy is about 1e-12 (1 + |t| u*) with u* the maximiser; a ``t``
          whose maximiser lies beyond e^40 (outside the search range) raises ``ValueError``
          instead of returning a value that is too low.

        The probes evaluate ``f`` only where it is finite: a scalar function that raises
        ``OverflowError`` (``math.pow``, ``math.exp``) counts as +inf there.

        Slowly converging limits (e.g. f(u)/u approaching its limit like u^-0.001) fool the
        estimates: pass ``f_at_zero``, ``slope_at_infinity`` or ``conjugate_domain`` then.

        Raises
        ------
        ValueError
            If f(1) is not finite or differs from 0 by more than ``F_ONE_ATOL``, or f is
            visibly not convex on a grid of [1e-6, 1e6].

        Examples
        --------
        >>> import numpy as np
        >>> from divkit import FDivergence
        >>> chi2 = FDivergence.from_function(lambda u: (u - 1.0) ** 2, name="my_chi2")
        >>> chi2.conjugate_is_numerical, chi2.slope_at_infinity, chi2.f_at_zero
        (True, inf, 1.0)
        >>> round(chi2.conjugate(1.0), 6)  # t^2/4 + t
        1.25
        >>> round(chi2.divergence([0.5, 0.5], [0.25, 0.75]), 6)
        0.333333
        """
        if not callable(f):
            raise TypeError(f"f must be callable, got {f!r}")
        f = _vectorised(f, "f")
        with np.errstate(all="ignore"):
            f_one = float(np.asarray(f(np.array([1.0])), dtype=np.float64)[0])
        if not math.isfinite(f_one):
            raise ValueError(f"f(1) must be finite (and 0), got {f_one!r}")
        if abs(f_one) > F_ONE_ATOL:
            raise ValueError(f"f(1) must be 0 (within {F_ONE_ATOL:g}), got {f_one!r}")
        _check_convex(f)
        f0 = _limit_at_zero(f) if f_at_zero is None else _check_scalar_or_inf(f_at_zero, "f_at_zero")
        slope = (_slope_at_infinity(f) if slope_at_infinity is None
                 else _check_scalar_or_inf(slope_at_infinity, "slope_at_infinity"))
        if f_prime is None:
            f_prime = _finite_difference(f)
        else:
            f_prime = _vectorised(f_prime, "f_prime")
        conj_at_high = None
        if conjugate_domain is None:
            conjugate_domain, conj_at_high = _estimate_domain(f, slope)
        elif not isinstance(conjugate_domain, Interval):
            raise TypeError(f"conjugate_domain must be an Interval, got {conjugate_domain!r}")
        numerical = conjugate is None
        if numerical:
            conjugate = _numerical_conjugate(f, f0, conjugate_domain, conj_at_high)
        else:
            conjugate = _vectorised(conjugate, "conjugate")
        high = conjugate_domain.high
        if math.isfinite(high):
            def activation(v):
                return high - np.exp(-v)
        else:
            def activation(v):
                return v
        return cls(str(name), {}, f=f, f_prime=f_prime, conjugate=conjugate,
                   conjugate_domain=conjugate_domain, activation=activation, f_at_zero=f0,
                   slope_at_infinity=slope, conjugate_is_numerical=numerical)


def _check_scalar_or_inf(value, name):
    if isinstance(value, (int, float, np.floating, np.integer)) and value == _INF:
        return _INF
    return check_scalar(value, name)


def _vectorised(fn, name):
    """``fn`` if it maps arrays to arrays of the same shape, else ``np.vectorize(fn)``."""
    probe = np.array([0.5, 2.0])
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(probe), dtype=np.float64)
        if out.shape == probe.shape:
            return fn
    except (TypeError, ValueError, OverflowError):
        pass

    def guarded(u):
        # a scalar function (math.pow, math.exp) raises where numpy would give inf: the probes
        # of from_function treat that point as one where f is not finite
        try:
            return fn(u)
        except OverflowError:
            return math.inf
    return np.vectorize(guarded, otypes=[np.float64])


def _check_convex(f):
    u = np.logspace(-6, 6, 241)
    with np.errstate(all="ignore"):
        y = np.asarray(f(u), dtype=np.float64)
    ok = np.isfinite(y)
    u, y = u[ok], y[ok]
    # each interior value must lie below the chord of its neighbours
    w = (u[1:-1] - u[:-2]) / (u[2:] - u[:-2])
    chord = (1 - w) * y[:-2] + w * y[2:]
    excess = y[1:-1] - chord
    tol = 1e-9 * (1.0 + np.abs(y[:-2]) + np.abs(y[2:]))
    if np.any(excess > tol):
        k = int(np.argmax(excess - tol))
        raise ValueError(f"f does not look convex: near u = {u[k + 1]:.3g} it lies above its chord")


def _limit_at_zero(f):
    with np.errstate(all="ignore"):
        f0 = float(np.asarray(f(np.array([0.0])), dtype=np.float64)[0])
        if math.isfinite(f0) or f0 == _INF:
            return f0
        v = np.asarray(f(np.array([1e-100, 1e-200, 1e-300])), dtype=np.float64)
    if not np.all(np.isfinite(v)):
        if v[-1] == _INF:
            return _INF
        raise ValueError("f has no finite or +inf limit at u = 0; pass f_at_zero")
    if v[2] - v[1] > 1e-9 * (1.0 + abs(v[2])):
        return _INF
    return float(v[2])


def _slope_at_infinity(f):
    u = np.logspace(20, 300, 15)
    with np.errstate(all="ignore"):
        r = np.asarray(f(u), dtype=np.float64) / u
    if np.any(np.isnan(r)):
        raise ValueError("f(u)/u has no limit as u -> inf that can be estimated; pass slope_at_infinity")
    finite = np.flatnonzero(np.isfinite(r))
    if finite.size < 3:
        return _INF  # f overflows already near 1e60: superlinear
    r0, r1, r2 = r[finite[-3]], r[finite[-2]], r[finite[-1]]
    tol = 1e-9 * (1.0 + abs(r2))
    overflowed = finite[-1] < u.size - 1
    if r2 - r1 > tol or (overflowed and r2 - r0 > tol):
        return _INF  # f(u)/u still grows (or grew until f overflowed)
    # f(u)/u - slope decays like (growth of f - slope u)/u; at u >= 1e20 residues this small
    # are rounding, not a slope
    return 0.0 if abs(r2) < 1e-15 else float(r2)


def _estimate_domain(f, slope):
    if slope == _INF:
        return _REAL_LINE, None
    u = np.array([1e8, 1e12])
    with np.errstate(all="ignore"):
        g = slope * u - np.asarray(f(u), dtype=np.float64)
    if np.all(np.isfinite(g)) and g[1] - g[0] <= 1e-3 * (1.0 + abs(g[0])):
        return Interval(-_INF, slope, False, True), float(g[0])
    return Interval(-_INF, slope, False, False), None


def _finite_difference(f):
    step = np.cbrt(np.finfo(np.float64).eps)

    def f_prime(u):
        u = np.asarray(u, dtype=np.float64)
        h = step * np.maximum(np.abs(u), 1e-8)
        central = u - h >= 0
        lo = np.where(central, u - h, u)
        width = np.where(central, 2 * h, h)
        return (np.asarray(f(u + h), dtype=np.float64) - np.asarray(f(lo), dtype=np.float64)) / width
    return f_prime


def _numerical_conjugate(f, f_at_zero, domain, value_at_high):
    invphi = (math.sqrt(5.0) - 1.0) / 2.0
    grid = np.linspace(_X_LOW, _X_HIGH, _GRID_POINTS)

    def h(x, t):
        v = t * np.exp(x) - np.asarray(f(np.exp(x)), dtype=np.float64)
        return np.where(np.isnan(v), -_INF, v)

    def block(t):
        # coarse grid first: t u - f(u) is numerically flat at both ends of the range, which
        # would mislead a bracketing search started on the whole range
        values = h(grid[None, :], t[:, None])
        k = np.argmax(values, axis=1)
        best = values[np.arange(t.size), k]
        # the supremum lies at or beyond u = e^40 (the top of the search range) strictly
        # inside dom f*: the search cannot reach it, so refuse rather than return a lower value
        beyond = (k == grid.size - 1) & np.isfinite(best) & (t < domain.high)
        if np.any(beyond):
            raise ValueError(
                f"the numerical conjugate of this f cannot be trusted at t = {t[beyond][:3].tolist()}: "
                f"the maximiser of t u - f(u) lies beyond u = e^{_X_HIGH:g}, outside the search range; "
                "pass conjugate= (a closed form) to FDivergence.from_function")
        a = grid[np.maximum(k - 1, 0)]
        b = grid[np.minimum(k + 1, grid.size - 1)]
        c = b - invphi * (b - a)
        d = a + invphi * (b - a)
        hc, hd = h(c, t), h(d, t)
        best = np.maximum(best, np.maximum(hc, hd))
        for _ in range(_GOLDEN_STEPS):
            left = hc >= hd  # the maximum lies in [a, d]
            b = np.where(left, d, b)
            a = np.where(left, a, c)
            new = np.where(left, b - invphi * (b - a), a + invphi * (b - a))
            h_new = h(new, t)
            best = np.maximum(best, h_new)
            c, d = np.where(left, new, d), np.where(left, c, new)
            hc, hd = np.where(left, h_new, hd), np.where(left, hc, h_new)
        return best

    def conjugate(t):
        t = np.asarray(t, dtype=np.float64)
        flat = t.reshape(-1)
        best = np.empty(flat.shape)
        for start in range(0, flat.size, _BLOCK):
            best[start:start + _BLOCK] = block(flat[start:start + _BLOCK])
        best = np.maximum(best, -f_at_zero)  # the limit u -> 0
        if value_at_high is not None:
            best = np.where(flat == domain.high, value_at_high, best)
        return best.reshape(t.shape)
    return conjugate


# --------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------

def _tv():
    return FDivergence(
        "tv", {}, f=lambda u: 0.5 * np.abs(u - 1.0), f_prime=lambda u: 0.5 * np.sign(u - 1.0),
        conjugate=lambda t: t, conjugate_domain=Interval(-0.5, 0.5, True, True),
        activation=lambda v: 0.5 * np.tanh(v), f_at_zero=0.5, slope_at_infinity=0.5,
        kernel=(_d.CODE_TV, 0.0))


def _kl():
    return FDivergence(
        "kl", {}, f=lambda u: special.xlogy(u, u), f_prime=lambda u: np.log(u) + 1.0,
        conjugate=lambda t: np.exp(t - 1.0), conjugate_domain=_REAL_LINE,
        activation=lambda v: v, f_at_zero=0.0, slope_at_infinity=_INF, kernel=(_d.CODE_KL, 0.0))


def _reverse_kl():
    return FDivergence(
        "reverse_kl", {}, f=lambda u: -np.log(u), f_prime=lambda u: -1.0 / u,
        conjugate=lambda t: -1.0 - np.log(-t), conjugate_domain=Interval(-_INF, 0.0, False, False),
        activation=lambda v: -np.exp(-v), f_at_zero=_INF, slope_at_infinity=0.0,
        kernel=(_d.CODE_REVERSE_KL, 0.0))


def _pearson_chi2():
    return FDivergence(
        "pearson_chi2", {}, f=lambda u: (u - 1.0) ** 2, f_prime=lambda u: 2.0 * (u - 1.0),
        conjugate=lambda t: t * (0.25 * t + 1.0), conjugate_domain=_REAL_LINE,  # exact 0 at -4
        activation=lambda v: v, f_at_zero=1.0, slope_at_infinity=_INF,
        kernel=(_d.CODE_PEARSON, 0.0))


def _neyman_chi2():
    return FDivergence(
        "neyman_chi2", {}, f=lambda u: (1.0 - u) ** 2 / u, f_prime=lambda u: 1.0 - 1.0 / (u * u),
        # 2 - 2 sqrt(1 - t) = 2 t / (1 + sqrt(1 - t)): keeps the leading term t near 0
        conjugate=lambda t: 2.0 * t / (1.0 + np.sqrt(1.0 - t)),
        conjugate_domain=Interval(-_INF, 1.0, False, True),
        activation=lambda v: 1.0 - np.exp(-v), f_at_zero=_INF, slope_at_infinity=1.0,
        kernel=(_d.CODE_NEYMAN, 0.0))


def _squared_hellinger():
    return FDivergence(
        "squared_hellinger", {}, f=lambda u: (np.sqrt(u) - 1.0) ** 2,
        f_prime=lambda u: 1.0 - 1.0 / np.sqrt(u), conjugate=lambda t: t / (1.0 - t),
        conjugate_domain=Interval(-_INF, 1.0, False, False),
        activation=lambda v: 1.0 - np.exp(-v), f_at_zero=1.0, slope_at_infinity=1.0,
        kernel=(_d.CODE_SQ_HELLINGER, 0.0))


def _jeffreys_conjugate(t):
    # W = W0(e^(1-t)) = wrightomega(1 - t): no overflow of e^(1-t) for t < -708. The textbook
    # W + 1/W + t - 2 cancels at both ends; two exact rewritings do not:
    #   t + (W - 1)^2 / W            (W + 1/W - 2 = (W - 1)^2 / W; used for t >= -1, W <= 1.56)
    #   1/W - log W - 1              (W + log W = 1 - t, so W + t - 2 = -log W - 1; for t < -1)
    t = np.asarray(t, dtype=np.float64)
    w = special.wrightomega(1.0 - t).real
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = t + (w - 1.0) ** 2 / w
        far = 1.0 / w - np.log(w) - 1.0
    return np.where(t >= -1.0, near, far)


def _jeffreys():
    return FDivergence(
        "jeffreys", {}, f=lambda u: (u - 1.0) * np.log(u),
        f_prime=lambda u: np.log(u) + 1.0 - 1.0 / u, conjugate=_jeffreys_conjugate,
        conjugate_domain=_REAL_LINE, activation=lambda v: v, f_at_zero=_INF,
        slope_at_infinity=_INF, kernel=(_d.CODE_JEFFREYS, 0.0))


def _js_conjugate(t):
    # -1/2 log(2 - e^(2t)). Away from the open end, 2 - e^(2t) = 1 - expm1(2t) and
    # -1/2 log1p(-expm1(2t)) keeps the leading term (~t near 0, ~e^(2t)/2 for t -> -inf); near
    # the end, 2 - e^(2t) = -2 expm1(2 (t - log(2)/2)) keeps the digits of the gap.
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inner = -0.5 * np.log1p(-np.expm1(2.0 * t))
        # log 2 = _LOG2 + _LOG2_LO: the gap to the end is formed in two steps, exact to 1e-32
        edge = -0.5 * (_LOG2 + np.log(-np.expm1(2.0 * (t - 0.5 * _LOG2) - _LOG2_LO)))
    return np.where(t < 0.5 * math.log(1.5), inner, edge)


def _js():
    half_log2 = 0.5 * _LOG2
    return FDivergence(
        "js", {},
        f=lambda u: 0.5 * (special.xlogy(u, u) - (u + 1.0) * np.log((u + 1.0) / 2.0)),
        f_prime=lambda u: 0.5 * np.log(2.0 * u / (u + 1.0)),
        conjugate=_js_conjugate,
        conjugate_domain=Interval(-_INF, half_log2, False, False),
        activation=lambda v: 0.5 * (_LOG2 - np.logaddexp(0.0, -v)),
        f_at_zero=half_log2, slope_at_infinity=half_log2, kernel=(_d.CODE_WEIGHTED_JS, 0.5))


def _weighted_js(pi=0.5):
    pi = check_scalar(pi, "pi", low=0.0, high=1.0, low_open=True, high_open=True)
    rho = 1.0 - pi
    high = -pi * math.log(pi)

    def f(u):
        m = rho + pi * u
        return pi * special.xlogy(u, u) - m * np.log(m)

    def conjugate(t):
        # (1 - pi) log((1 - pi) / (1 - pi e^(t/pi))). Near the open end, 1 - pi e^(t/pi) is
        # -expm1((t - high)/pi) (pi e^(high/pi) = 1); elsewhere the value is
        # -(1 - pi) log1p(-pi expm1(t/pi) / (1 - pi)), which keeps its leading term (~t near 0).
        t = np.asarray(t, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = -pi * np.expm1(t / pi) / rho
            inner = -rho * np.log1p(r)
            edge = rho * (math.log(rho) - np.log(-np.expm1((t - high) / pi)))
        return np.where(r > -0.5, inner, edge)

    return FDivergence(
        "weighted_js", {"pi": pi}, f=f, f_prime=lambda u: pi * np.log(u / (rho + pi * u)),
        conjugate=conjugate, conjugate_domain=Interval(-_INF, high, False, False),
        activation=lambda v: high - np.logaddexp(0.0, -v),
        f_at_zero=-rho * math.log(rho), slope_at_infinity=high,
        kernel=(_d.CODE_WEIGHTED_JS, pi))


def _gan_conjugate(t):
    # -log(1 - e^t): -log1p(-e^t) keeps the value ~e^t for very negative t (-log(-expm1(t))
    # rounds it to 0 below t ~ -37); -log(-expm1(t)) is the accurate form near the end t -> 0
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t < -_LOG2, -np.log1p(-np.exp(t)), -np.log(-np.expm1(t)))


def _gan():
    return FDivergence(
        "gan", {}, f=lambda u: special.xlogy(u, u) - (u + 1.0) * np.log(u + 1.0),
        f_prime=lambda u: np.log(u / (u + 1.0)), conjugate=_gan_conjugate,
        conjugate_domain=Interval(-_INF, 0.0, False, False),
        activation=lambda v: -np.logaddexp(0.0, -v), f_at_zero=0.0, slope_at_infinity=0.0,
        kernel=(_d.CODE_GAN, 0.0))


def _relexpm1(x):
    """expm1(x)/x with value 1 at 0 (vectorised)."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, np.where(x == _INF, _INF, np.expm1(safe) / safe))


def _rellog1p(x):
    """log1p(x)/x with value 1 at 0 (vectorised)."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, np.log1p(safe) / safe)


_SPLITTER = 134217729.0  # 2^27 + 1 (Veltkamp)


def _two_product(a, b):
    """(x, e) with x = fl(a b) and x + e = a b exactly (Dekker 1971), elementwise; finite
    inputs below ~1e300 in magnitude (beyond, e is not needed: x itself is far from -1)."""
    with np.errstate(all="ignore"):
        x = a * b
        ca = _SPLITTER * a
        a_hi = ca - (ca - a)
        a_lo = a - a_hi
        cb = _SPLITTER * b
        b_hi = cb - (cb - b)
        b_lo = b - b_hi
        e = ((a_hi * b_hi - x) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return x, np.where(np.isfinite(e), e, 0.0)


def _alpha(alpha=0.5):
    a = check_scalar(alpha, "alpha")

    def f(u):
        L = np.log(u)
        if a >= 0.5:  # exact at a = 1
            return (u * L * _relexpm1((a - 1.0) * L) - (u - 1.0)) / a
        return (L * _relexpm1(a * L) - (u - 1.0)) / (a - 1.0)  # exact at a = 0

    f_prime_at_zero = -1.0 / (a - 1.0) if a > 1 else -_INF

    def f_prime(u):
        L = np.log(u)
        return np.where(u == 0, f_prime_at_zero, L * _relexpm1((a - 1.0) * L))

    def conjugate(t):
        x, x_err = _two_product(a - 1.0, np.asarray(t, dtype=np.float64))
        # s = 1 + (a - 1) t with the product's rounding error added back (1 + x is exact where
        # s is small, Sterbenz): exact near the end of dom f*, where s -> 0
        s = (1.0 + x) + x_err
        # z = log(s) / (a - 1), continuous at a = 1 through log1p(x)/x for small x
        with np.errstate(all="ignore"):
            z = np.where(np.abs(x) < 0.5, t * _rellog1p(x), np.log(s) / (a - 1.0) if a != 1 else t)
        value = z * _relexpm1(a * z)
        # s <= 0 inside dom f* (a > 1, or a < 0 at the closed end): the supremum is the
        # limit u -> 0 (a > 1) or u -> inf (a < 0), both equal to -1/a
        return np.where(s > 0, value, -1.0 / a if a != 0 else _INF)

    if a >= 1:
        domain, activation, slope = _REAL_LINE, (lambda v: v), _INF
    else:
        slope = 1.0 / (1.0 - a)
        domain = Interval(-_INF, slope, False, a < 0)
        activation = (lambda v: slope - np.exp(-v))
    f_at_zero = 1.0 / a if a > 0 else _INF
    return FDivergence("alpha", {"alpha": a}, f=f, f_prime=f_prime, conjugate=conjugate,
                       conjugate_domain=domain, activation=activation, f_at_zero=f_at_zero,
                       slope_at_infinity=slope, kernel=(_d.CODE_ALPHA, a))


_BUILDERS = {
    "tv": _tv,
    "kl": _kl,
    "reverse_kl": _reverse_kl,
    "pearson_chi2": _pearson_chi2,
    "neyman_chi2": _neyman_chi2,
    "squared_hellinger": _squared_hellinger,
    "jeffreys": _jeffreys,
    "js": _js,
    "weighted_js": _weighted_js,
    "gan": _gan,
    "alpha": _alpha,
}

#: Every registry name mapped to its f-divergence with default parameters
#: (``weighted_js``: pi = 0.5; ``alpha``: alpha = 0.5). Read-only.
F_DIVERGENCES = MappingProxyType({name: build() for name, build in _BUILDERS.items()})


def get_f_divergence(name: str, **params) -> FDivergence:
    """The registry's f-divergence ``name``, with parameters where it takes them.

    Names: ``tv, kl, reverse_kl, pearson_chi2, neyman_chi2, squared_hellinger, jeffreys, js,
    weighted_js`` (``pi`` in (0, 1), default 0.5, where it equals ``js``), ``gan`` and
    ``alpha`` (Amari, ``alpha`` any real, default 0.5; 1 gives KL, 0 reverse KL).

    Examples
    --------
    >>> from divkit import get_f_divergence
    >>> get_f_divergence("weighted_js", pi=0.25)
    FDivergence('weighted_js', pi=0.25)
    >>> get_f_divergence("alpha", alpha=2).conjugate_domain.contains(-100.0)
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    if name not in _BUILDERS:
        raise ValueError(f"unknown f-divergence {name!r}; choose one of {sorted(_BUILDERS)}")
    try:
        return _BUILDERS[name](**params)
    except TypeError as exc:
        if params and "argument" in str(exc):
            raise TypeError(f"f-divergence {name!r} does not take parameter(s) "
                            f"{sorted(params)}") from None
        raise


def f_divergence(p, q, f="kl", *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL,
                 **params):
    r"""The f-divergence :math:`D_f(p \| q) = \sum_i q_i f(p_i / q_i)` between histograms.

    Exact at zero mass: a bin with ``q_i = 0 < p_i`` contributes
    ``p_i * lim_{u->inf} f(u)/u`` (KL: +inf, TV: p_i/2, JS: (p_i/2) log 2), a bin with
    ``p_i = 0 < q_i`` contributes ``q_i f(0)`` (f(0) by continuity, possibly +inf) and an
    empty bin contributes 0. Values are in nats. Registry names run one fused numba pass
    (validation and sum together); user-defined f runs in numpy.

    Parameters
    ----------
    p, q : array_like
        Histograms along ``axis`` (non-negative, finite, summing to 1 within ``atol``); the
        other axes broadcast.
    f : str, FDivergence or callable
        A registry name (see :func:`get_f_divergence`), an :class:`FDivergence`, or a convex
        generator with f(1) = 0 (wrapped with :meth:`FDivergence.from_function`).
    axis : int, default -1
        Axis holding the bins: by default the last, one histogram per row (scipy's
        ``entropy`` uses ``axis=0``: pass ``axis=0`` for its column layout).
    keepdims : bool
        Keep the reduced axis with length 1.
    normalize : bool
        Divide each histogram by its total first instead of requiring totals of 1.
    atol : float
        Tolerance on ``|sum - 1|`` when ``normalize`` is false.
    **params
        Parameters of a registry name (``pi`` for ``weighted_js``, ``alpha`` for ``alpha``).

    Returns
    -------
    float or ndarray
        A Python float for a single pair, otherwise an array of the batch shape.

    Examples
    --------
    >>> from divkit import f_divergence
    >>> f_divergence([1.0, 0.0], [0.0, 1.0], "tv")
    1.0
    >>> round(f_divergence([1.0, 0.0], [0.0, 1.0], "js"), 6)  # log 2
    0.693147
    >>> round(f_divergence([0.5, 0.5], [0.25, 0.75], "alpha", alpha=1.0), 6)  # KL
    0.143841
    >>> round(f_divergence([0.5, 0.5], [0.5, 0.5], "gan"), 6)  # -log 4 at p = q
    -1.386294
    """
    if isinstance(f, str):
        div = get_f_divergence(f, **params)
    elif params:
        raise TypeError(f"parameters {sorted(params)} are only accepted with a registry name for f")
    elif isinstance(f, FDivergence):
        div = f
    elif callable(f):
        div = FDivergence.from_function(f)
    else:
        raise TypeError(f"f must be a registry name, an FDivergence or a callable, got {f!r}")
    return div.divergence(p, q, axis=axis, keepdims=keepdims, normalize=normalize, atol=atol)


__all__ = [
    "F_DIVERGENCES",
    "F_ONE_ATOL",
    "FDivergence",
    "Interval",
    "f_divergence",
    "get_f_divergence",
]
