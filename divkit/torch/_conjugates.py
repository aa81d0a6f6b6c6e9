r"""The f-divergence table in torch: f, f', the convex conjugate f*, dom f* and the activation.

``D_f(P || Q) = E_Q[f(dP/dQ)]`` and its variational lower bound (Nguyen, Wainwright & Jordan
2010; Nowozin, Cseke & Tomioka 2016, "f-GAN")::

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(y))],     T = g_f(V),  g_f(R) inside dom f*.

Names, parameters and formulas follow CONVENTIONS.md §2 and the numpy registry
(``divkit.get_f_divergence``). Outside ``dom f*`` the conjugate is ``+inf``, never NaN, and its
gradient there is 0 (never NaN): formulas are evaluated on a clamped copy of the argument and
selected with :func:`torch.where`. ``f(u)`` is ``+inf`` for ``u < 0`` (outside dom f).

The Amari alpha family (parameter ``alpha``)::

    f_a(u)  = (u^a - 1 - a (u - 1)) / (a (a - 1)),        f_a'(u) = (u^(a-1) - 1) / (a - 1)
    f_a*(t) = ((1 + (a - 1) t)^(a / (a - 1)) - 1) / a      (stationarity u = (1+(a-1)t)^(1/(a-1)))

with ``dom f_a* = R`` (``f_a* = -1/a`` for ``t <= -1/(a-1)``) when ``a > 1``,
``t < 1/(1-a)`` when ``0 <= a < 1`` and ``t <= 1/(1-a)`` when ``a < 0`` (the supremum is then
finite at the end point, approached as ``u -> inf``). The limits are ``f_1(u) = u log u - u + 1``
(KL; ``f_1*(t) = e^t - 1``) and ``f_0(u) = u - 1 - log u`` (reverse KL; ``f_0*(t) = -log(1-t)``);
the linear terms change f and f* but not ``D_f`` between probability measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ._checks import check_real

_INF = math.inf
_LOG2 = math.log(2.0)
#: log(2) - _LOG2 (the rounding error of the float64 log 2)
_LOG2_LO = 2.3190468138462996e-17

#: Newton iterations for the Wright omega function; from the starting point used, 8 reach
#: float64 round-off for every argument (tested against scipy.special.wrightomega).
WRIGHT_OMEGA_ITERATIONS = 8


@dataclass(frozen=True)
class Interval:
    """A real interval, the domain of a conjugate: ``low < t < high`` with ends closed on request."""

    low: float
    high: float
    low_closed: bool = False
    high_closed: bool = False

    def contains(self, t):
        """Elementwise membership for tensors (a bool tensor) or Python numbers (a bool)."""
        if isinstance(t, torch.Tensor):
            above = t >= self.low if self.low_closed else t > self.low
            below = t <= self.high if self.high_closed else t < self.high
            return above & below
        above = t >= self.low if self.low_closed else t > self.low
        below = t <= self.high if self.high_closed else t < self.high
        return bool(above and below)

    def interior_point(self) -> float:
        """A point strictly inside, used to clamp arguments before evaluating a formula."""
        if math.isinf(self.low) and math.isinf(self.high):
            return 0.0
        if math.isinf(self.low):
            return self.high - 1.0
        if math.isinf(self.high):
            return self.low + 1.0
        return 0.5 * (self.low + self.high)


_REAL_LINE = Interval(-_INF, _INF)


def _as_tensor(t) -> torch.Tensor:
    t = torch.as_tensor(t)
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def wright_omega(z: torch.Tensor) -> torch.Tensor:
    """Wright omega function: the solution ``w`` of ``w + log w = z``; equals ``W0(e^z)``.

    Newton's method on ``y + e^y = z`` with ``w = e^y`` (convex and increasing in ``y``, so it
    converges from any start), run without autograd; one last Newton step with autograd on
    re-attaches the graph and gives the exact derivative ``dw/dz = w / (1 + w)`` at the root. It
    stays finite where ``lambertw(exp(z))`` overflows (``z > 709``).

    Examples
    --------
    >>> import torch
    >>> w = wright_omega(torch.tensor([1.0, 0.0], dtype=torch.float64))
    >>> [round(v, 6) for v in w.tolist()]
    [1.0, 0.567143]
    """
    z = _as_tensor(z)
    with torch.no_grad():
        # y0: log(z - log z) for z > 1 (asymptotics of W0(e^z)), z for z <= 1 (w ~ e^z).
        zc = torch.clamp(z, min=1.0 + 1e-12)
        y = torch.where(z > 1.0, torch.log(zc - torch.log(zc)), torch.clamp(z, max=1.0) - 0.5)
        for _ in range(WRIGHT_OMEGA_ITERATIONS):
            ey = torch.exp(y)
            y = y - (y + ey - z) / (1.0 + ey)
        w = torch.exp(y)
    # Implicit-function step: value unchanged at the root, derivative w / (1 + w). The residual
    # uses y = log w from the solve: log(w) is -inf once w underflows (z < -745), and -inf * 0
    # would make the value NaN.
    return w - (w + y - z) * (w / (1.0 + w))


def _log_wright_omega(z: torch.Tensor) -> torch.Tensor:
    """``log W0(e^z)``, i.e. the ``y`` with ``y + e^y = z``; derivative ``1 / (1 + e^y)``.

    Finite for every finite ``z`` (``W0(e^z)`` itself underflows for ``z < -745``)."""
    with torch.no_grad():
        zc = torch.clamp(z, min=1.0 + 1e-12)
        y = torch.where(z > 1.0, torch.log(zc - torch.log(zc)), torch.clamp(z, max=1.0) - 0.5)
        for _ in range(WRIGHT_OMEGA_ITERATIONS):
            ey = torch.exp(y)
            y = y - (y + ey - z) / (1.0 + ey)
    # one Newton step with autograd: value unchanged at the root, exact derivative
    return y - (y + torch.exp(y) - z) / (1.0 + torch.exp(y))


_NUMPY_DTYPES: dict[torch.dtype, type[np.floating]] = {torch.float16: np.float16, torch.bfloat16: np.float32,
                                                        torch.float32: np.float32, torch.float64: np.float64}


def _finite_inside(domain: Interval, dtype):
    """The smallest and largest finite values of ``dtype`` inside ``domain`` (Python floats,
    computed on the host from the dtype alone: no synchronisation with the tensor's device)."""
    np_dtype = _NUMPY_DTYPES.get(dtype, np.float64)
    big = float(np.finfo(np_dtype).max)

    def end(value, closed, toward):
        if math.isinf(value):
            return big if value > 0 else -big
        edge = np_dtype(value)
        if not closed or float(edge) != value:
            # the rounded edge may fall outside an open (or closed, inexact) end: step inside
            while not domain.contains(float(edge)):
                edge = np.nextafter(edge, np_dtype(toward))
        return float(edge)

    return end(domain.low, domain.low_closed, _INF), end(domain.high, domain.high_closed, -_INF)


def _where_in_domain(t: torch.Tensor, domain: Interval, formula: Callable) -> torch.Tensor:
    """``formula(t)`` inside ``domain``, ``+inf`` outside, without NaN values or gradients."""
    if domain is _REAL_LINE:
        return formula(t)
    inside = domain.contains(t)
    safe = torch.where(inside, t, torch.full_like(t, domain.interior_point()))
    return torch.where(inside, formula(safe), torch.full_like(t, _INF))


def _on_nonnegative(u: torch.Tensor, formula: Callable) -> torch.Tensor:
    """``formula(u)`` for ``u >= 0`` and ``+inf`` for ``u < 0`` (outside dom f)."""
    ok = u >= 0
    safe = torch.where(ok, u, torch.ones_like(u))
    return torch.where(ok, formula(safe), torch.full_like(u, _INF))


@dataclass(frozen=True)
class TorchFDivergence:
    """One registry entry: f, f', f*, dom f* and the output activation, as torch functions.

    Attributes
    ----------
    name : str
        Registry name (``"kl"``, ``"js"``, ...).
    params : dict
        Parameters of the entry (``{"pi": 0.5}`` for ``"weighted_js"``, ``{"alpha": a}``).
    conjugate_domain : Interval
        ``dom f*``; :meth:`conjugate` is ``+inf`` outside it.
    """

    name: str
    params: dict
    conjugate_domain: Interval
    f_at_zero: float
    _f: Callable = field(repr=False)
    _f_prime: Callable = field(repr=False)
    _conjugate: Callable = field(repr=False)
    _activation: Callable = field(repr=False)
    _h: Callable = field(repr=False)
    _v_range: Callable = field(repr=False)

    def f(self, u) -> torch.Tensor:
        """The generator ``f(u)``, convex with ``f(1) = 0``; ``f(0)`` its limit; ``+inf`` for ``u < 0``."""
        u = _as_tensor(u)
        value = _on_nonnegative(u, self._f)
        return torch.where(u == 0, torch.full_like(value, self.f_at_zero), value)

    def f_prime(self, u) -> torch.Tensor:
        """``f'(u)`` for ``u > 0`` (a subgradient where f has a kink)."""
        return self._f_prime(_as_tensor(u))

    def conjugate(self, t) -> torch.Tensor:
        """``f*(t) = sup_u (t u - f(u))``; ``+inf`` outside :attr:`conjugate_domain`."""
        return _where_in_domain(_as_tensor(t), self.conjugate_domain, self._conjugate)

    def activation(self, v) -> torch.Tensor:
        """``g_f(v)``: maps R into dom f*, so ``conjugate(activation(v))`` is finite.

        The output is clamped strictly inside an open end of the domain (``1 - exp(-40)`` rounds
        to 1.0) and to finite values (``-exp(1000)`` overflows), as in the numpy registry."""
        out = self._activation(_as_tensor(v))
        return out.clamp(*_finite_inside(self.conjugate_domain, out.dtype))

    def critic_range(self, dtype) -> tuple[float, float]:
        """Critic outputs ``(lo, hi)`` inside which ``g_f(v)``, ``f*(g_f(v))`` and their
        derivatives stay below ``finfo(dtype).max / 2^24`` in magnitude (so batch sums of up to
        2^24 of them are finite); :func:`fgan_losses` clamps critic outputs to it."""
        big = float(np.finfo(_NUMPY_DTYPES.get(dtype, np.float64)).max) * 2.0**-24
        return self._v_range(big)

    def conjugate_of_activation(self, v) -> torch.Tensor:
        """``f*(g_f(v))`` computed directly in ``v`` (never through a rounded ``g_f(v)``), with
        ``v`` clamped to :meth:`critic_range`: finite values and gradients at every finite ``v``."""
        v = _as_tensor(v)
        return self._h(v.clamp(*self.critic_range(v.dtype)))

    def clamped_activation(self, v) -> torch.Tensor:
        """``g_f(v)`` with ``v`` clamped to :meth:`critic_range` (finite value and gradient)."""
        v = _as_tensor(v)
        return self.activation(v.clamp(*self.critic_range(v.dtype)))


# Each entry: f, f', f*, dom f*, the activation g, and two pieces for f-GAN losses:
#   h(v) = f*(g(v)) written directly in v (no round trip through a saturated g(v)), and
#   v_range(B) = the critic outputs (lo, hi) within which g, h and their derivatives stay below
#   about B in magnitude; fgan_losses clamps v to it (gradient 0 beyond, never NaN or inf).


def _softplus(v):
    # log(1 + e^v) to a few ulp everywhere (F.softplus returns v itself above its threshold 20,
    # 1e-9 off there), with a finite derivative sigmoid(v)
    return torch.logaddexp(v, torch.zeros_like(v))


def _tv():
    return dict(
        f=lambda u: 0.5 * torch.abs(u - 1.0),
        f_prime=lambda u: 0.5 * torch.sign(u - 1.0),
        conjugate=lambda t: t,
        domain=Interval(-0.5, 0.5, True, True),
        activation=lambda v: 0.5 * torch.tanh(v),
        h=lambda v: 0.5 * torch.tanh(v),
        v_range=lambda b: (-b, b),
    )


def _kl():
    return dict(
        f=lambda u: torch.xlogy(u, u),
        f_prime=lambda u: torch.log(u) + 1.0,
        conjugate=lambda t: torch.exp(t - 1.0),
        domain=_REAL_LINE,
        activation=lambda v: v,
        h=lambda v: torch.exp(v - 1.0),
        v_range=lambda b: (-b, 1.0 + math.log(b)),
    )


def _reverse_kl():
    return dict(
        f=lambda u: -torch.log(u),
        f_prime=lambda u: -1.0 / u,
        conjugate=lambda t: -1.0 - torch.log(-t),
        domain=Interval(-_INF, 0.0),
        activation=lambda v: -torch.exp(-v),
        h=lambda v: v - 1.0,  # -1 - log(exp(-v))
        v_range=lambda b: (-math.log(b), b),
    )


def _pearson_chi2():
    return dict(
        f=lambda u: (u - 1.0) ** 2,
        f_prime=lambda u: 2.0 * (u - 1.0),
        conjugate=lambda t: 0.25 * t * t + t,
        domain=_REAL_LINE,
        activation=lambda v: v,
        h=lambda v: 0.25 * v * v + v,
        v_range=lambda b: (-math.sqrt(b), math.sqrt(b)),
    )


def _neyman_chi2():
    return dict(
        f=lambda u: (1.0 - u) ** 2 / u,
        f_prime=lambda u: 1.0 - 1.0 / (u * u),
        conjugate=lambda t: 2.0 - 2.0 * torch.sqrt(1.0 - t),
        # f*(1) = sup_u (2 - 1/u) = 2 is finite: the domain is closed at 1
        domain=Interval(-_INF, 1.0, False, True),
        activation=lambda v: -torch.expm1(-v),
        h=lambda v: 2.0 - 2.0 * torch.exp(-0.5 * v),  # sqrt(1 - g) = exp(-v/2)
        v_range=lambda b: (-math.log(b), b),
    )


def _squared_hellinger():
    return dict(
        f=lambda u: (torch.sqrt(u) - 1.0) ** 2,
        f_prime=lambda u: 1.0 - 1.0 / torch.sqrt(u),
        conjugate=lambda t: t / (1.0 - t),
        domain=Interval(-_INF, 1.0),
        activation=lambda v: -torch.expm1(-v),
        h=lambda v: torch.expm1(v),  # g / (1 - g) = (1 - e^-v) e^v
        v_range=lambda b: (-math.log(b), math.log(b)),
    )


def _jeffreys_conjugate(t):
    # w = W0(e^(1-t)) and y = log w satisfy w + y = 1 - t, so w + 1/w + t - 2 = -1 - y + e^(-y):
    # no cancellation between w and t for very negative t, no overflow of e^(1-t)
    y = _log_wright_omega(1.0 - t)
    return torch.exp(-y) - y - 1.0


def _jeffreys():
    return dict(
        f=lambda u: (u - 1.0) * torch.log(u),
        f_prime=lambda u: torch.log(u) + 1.0 - 1.0 / u,
        conjugate=_jeffreys_conjugate,
        domain=_REAL_LINE,
        activation=lambda v: v,
        h=_jeffreys_conjugate,
        v_range=lambda b: (-b, 1.0 + math.log(b)),
    )


def _log1mexp(x):
    """log(1 - e^x) for x <= 0 (Mächler 2012: expm1 near 0, log1p far from it)."""
    near = x > -_LOG2
    return torch.where(
        near,
        torch.log(-torch.expm1(torch.where(near, x, -torch.ones_like(x)))),
        torch.log1p(-torch.exp(torch.where(near, -torch.ones_like(x), x))),
    )


def _js():
    half_log2 = 0.5 * _LOG2
    return dict(
        f=lambda u: 0.5 * (torch.xlogy(u, u) - torch.xlogy(u + 1.0, 0.5 * (u + 1.0))),
        f_prime=lambda u: 0.5 * torch.log(2.0 * u / (u + 1.0)),
        # 2 - e^(2t) = -2 expm1(2 (t - log(2)/2)): accurate up to the open end (as numpy)
        # log 2 = _LOG2 + _LOG2_LO: the gap to the end formed in two steps (as numpy); away from
        # the end -1/2 log1p(-expm1(2t)) keeps the leading term
        conjugate=lambda t: torch.where(
            t < 0.5 * math.log(1.5),
            -0.5 * torch.log1p(-torch.expm1(2.0 * t)),
            -0.5 * (_LOG2 + torch.log(-torch.expm1(2.0 * (t - half_log2) - _LOG2_LO)))),
        domain=Interval(-_INF, half_log2),
        activation=lambda v: 0.5 * (_LOG2 - _softplus(-v)),
        h=lambda v: 0.5 * (_softplus(v) - _LOG2),  # -1/2 log(2 sigmoid(-v))
        v_range=lambda b: (-b, b),
    )


def _weighted_js(pi: float = 0.5):
    pi = check_real(pi, "pi", low=0.0, high=1.0, low_open=True, high_open=True)
    rho = 1.0 - pi
    mix = lambda u: rho + pi * u
    high = -pi * math.log(pi)

    def h(v):
        # f*(high - softplus(-v)) = rho (log rho - log(1 - e^x)), x = -softplus(-v) / pi. For
        # large v, softplus(-v) ~ e^-v underflows: log(1 - e^x) ~ log(-x) = -v - e^-v/2 - log pi
        sp = _softplus(-v)
        big = v > 30.0
        tail = -v - 0.5 * torch.exp(-torch.where(big, v, torch.zeros_like(v))) - math.log(pi)
        body = _log1mexp(-torch.where(big, torch.ones_like(sp), sp) / pi)
        return rho * (math.log(rho) - torch.where(big, tail, body))

    return dict(
        f=lambda u: pi * torch.xlogy(u, u) - torch.xlogy(mix(u), mix(u)),
        f_prime=lambda u: pi * torch.log(u / mix(u)),
        # 1 - pi e^(t/pi) = -expm1((t - high)/pi): no cancellation near the open end (as numpy)
        conjugate=lambda t: rho * (math.log(rho) - torch.log(-torch.expm1((t - high) / pi))),
        domain=Interval(-_INF, high),
        activation=lambda v: high - _softplus(-v),
        h=h,
        v_range=lambda b: (-b, b),
        params={"pi": pi},
    )


def _gan():
    return dict(
        # u log u - (u+1) log(u+1) = -(u log1p(1/u) + log1p(u)): no cancellation for large u
        # (2e-16 relative against mpmath where the subtracted form loses 1e-10)
        f=lambda u: -(u * torch.log1p(1.0 / u) + torch.log1p(u)),
        f_prime=lambda u: torch.log(u / (u + 1.0)),
        conjugate=lambda t: -torch.log(-torch.expm1(t)),
        domain=Interval(-_INF, 0.0),
        activation=lambda v: -_softplus(-v),
        h=_softplus,  # -log(1 - sigmoid(v))
        v_range=lambda b: (-b, b),
    )


def _relexpm1(x):
    """expm1(x)/x, 1 at 0."""
    zero = x == 0
    safe = torch.where(zero, torch.ones_like(x), x)
    return torch.where(zero, torch.ones_like(x), torch.expm1(safe) / safe)


def _rellog1p(x):
    """log1p(x)/x, 1 at 0."""
    zero = x == 0
    safe = torch.where(zero, torch.ones_like(x), x)
    return torch.where(zero, torch.ones_like(x), torch.log1p(safe) / safe)


def _two_product(a: float, t):
    """(x, e) with x = fl(a t) and x + e = a t exactly (Dekker 1971; Veltkamp splitting at
    half the mantissa of t's dtype); e is 0 where it is not finite."""
    splitter = 134217729.0 if t.dtype == torch.float64 else 4097.0  # 2^27 + 1, 2^12 + 1
    at = torch.full_like(t, a)
    x = at * t
    ca = splitter * at
    a_hi = ca - (ca - at)
    a_lo = at - a_hi
    cb = splitter * t
    b_hi = cb - (cb - t)
    b_lo = t - b_hi
    e = ((a_hi * b_hi - x) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return x, torch.where(torch.isfinite(e), e, torch.zeros_like(e))


def _alpha(alpha: float = 0.5):
    a = check_real(alpha, "alpha")
    params = {"alpha": a}

    def f(u):
        # the numpy registry's forms: exact at a = 1 and a = 0, no cancellation near them
        L = torch.log(u)
        if a >= 0.5:
            return (u * L * _relexpm1((a - 1.0) * L) - (u - 1.0)) / a
        return (L * _relexpm1(a * L) - (u - 1.0)) / (a - 1.0)

    def f_prime(u):
        L = torch.log(u)
        return L * _relexpm1((a - 1.0) * L)

    def conjugate(t):
        x, x_err = _two_product(a - 1.0, t)
        # s = 1 + (a - 1) t with the product's rounding error added back (1 + x is exact where
        # s is small, Sterbenz): exact near the end of dom f*, where s -> 0 (as numpy)
        s = (1.0 + x) + x_err
        small = torch.abs(x) < 0.5
        if a == 1.0:
            z = t
        else:
            z = torch.where(
                small,
                t * _rellog1p(torch.where(small, x, torch.zeros_like(x))),
                torch.log(torch.where(small | (s <= 0), torch.ones_like(s), s)) / (a - 1.0),
            )
        value = z * _relexpm1(a * z)
        # s <= 0 inside dom f* (a > 1, or a < 0 at the closed end): the supremum is -1/a
        return torch.where(s > 0, value, torch.full_like(t, -1.0 / a if a != 0 else _INF))

    if a >= 1:
        domain, activation = _REAL_LINE, (lambda v: v)
        h = conjugate
        if a == 1.0:
            v_range = lambda b: (-b, math.log(b))
        else:
            # a z <= log(a b) with z = log(1 + (a - 1) v)/(a - 1)
            v_range = lambda b: (-b, min(b, math.expm1((a - 1.0) * math.log(a * b) / a) / (a - 1.0)))
    else:
        slope = 1.0 / (1.0 - a)
        domain = Interval(-_INF, slope, False, a < 0)
        activation = lambda v: slope - torch.exp(-v)

        def h(v):
            # s = (1 - a) e^-v, z = log(s)/(a - 1) = (v - log(1 - a)) / (1 - a), f* = z relexpm1(a z)
            z = (v - math.log1p(-a)) / (1.0 - a)
            return z * _relexpm1(a * z)

        def v_range(b):
            lo, hi = -math.log(b), b
            # keep |a z| <= log(|a| b) where e^(a z) could overflow
            if a > 0:
                hi = min(hi, math.log(a * b) * (1.0 - a) / a + math.log1p(-a))
            elif a < 0:
                lo = max(lo, math.log(-a * b) * (1.0 - a) / a + math.log1p(-a))
            return lo, hi

    return dict(f=f, f_prime=f_prime, conjugate=conjugate, domain=domain, activation=activation,
                h=h, v_range=v_range, params=params)


#: registry name -> builder taking the entry's parameters as keywords
F_DIVERGENCES: dict[str, Callable[..., dict]] = {
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


def _numpy_entry(name, params):
    from divkit.fdivergences import get_f_divergence as numpy_get

    return numpy_get(name, **params)


def get_f_divergence(name, **params) -> TorchFDivergence:
    """The torch registry entry ``name`` (same names and parameters as ``divkit.get_f_divergence``).

    Names, parameters, ``dom f*`` and ``f(0)`` are read from the numpy registry (one
    description); the torch formulas are the numpy registry's numerically careful forms.

    Parameters
    ----------
    name : str, TorchFDivergence or divkit.FDivergence
        One of ``"tv", "kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "squared_hellinger",
        "jeffreys", "js", "weighted_js", "gan", "alpha"``; a torch entry is returned unchanged;
        a numpy registry entry gives its torch counterpart (user-defined ``FDivergence.from_function``
        entries have no torch formulas and are refused).
    **params
        ``pi`` in (0, 1) for ``"weighted_js"`` (default 0.5), ``alpha`` (real, default 0.5) for
        ``"alpha"``.

    Returns
    -------
    TorchFDivergence

    Examples
    --------
    >>> import torch
    >>> kl = get_f_divergence("kl")
    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> [round(v, 6) for v in kl.conjugate(t).tolist()]
    [0.367879, 1.0]
    >>> get_f_divergence("gan").conjugate(torch.tensor([0.5])).tolist()
    [inf]
    """
    if isinstance(name, TorchFDivergence):
        if params:
            raise TypeError("params cannot be given together with a TorchFDivergence entry")
        return name
    from divkit.fdivergences import FDivergence

    if isinstance(name, FDivergence):
        if params:
            raise TypeError("params cannot be given together with an FDivergence entry")
        if name.name not in F_DIVERGENCES or name.conjugate_is_numerical:
            raise TypeError(
                f"{name!r} is not a registry entry (a user-defined f has no torch formulas); "
                f"use one of {sorted(F_DIVERGENCES)}"
            )
        name, params = name.name, dict(name.params)
    if not isinstance(name, str):
        raise TypeError(f"name must be a registry name (str), got {name!r}")
    if name not in F_DIVERGENCES:
        raise ValueError(f"unknown f-divergence name {name!r}; choose one of {sorted(F_DIVERGENCES)}")
    try:
        spec = F_DIVERGENCES[name](**params)
    except TypeError as exc:
        raise TypeError(f"invalid parameters {sorted(params)} for f-divergence {name!r}: {exc}") from None
    reference = _numpy_entry(name, params)
    dom = reference.conjugate_domain
    return TorchFDivergence(
        name=name,
        params=spec.get("params", {}),
        conjugate_domain=Interval(dom.low, dom.high, dom.low_closed, dom.high_closed),
        f_at_zero=reference.f_at_zero,
        _f=spec["f"],
        _f_prime=spec["f_prime"],
        _conjugate=spec["conjugate"],
        _activation=spec["activation"],
        _h=spec["h"],
        _v_range=spec["v_range"],
    )
