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
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from ._checks import check_real

_INF = math.inf
_LOG2 = math.log(2.0)

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


def _finite_inside(domain: Interval, dtype, device):
    """The smallest and largest finite values of ``dtype`` inside ``domain``."""
    info = torch.finfo(dtype)

    def end(value, closed, toward):
        if math.isinf(value):
            return info.max if value > 0 else info.min
        edge = torch.tensor(value, dtype=dtype, device=device)
        if not closed:
            edge = torch.nextafter(edge, torch.tensor(toward, dtype=dtype, device=device))
        return edge.item()

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
    _f: Callable = field(repr=False)
    _f_prime: Callable = field(repr=False)
    _conjugate: Callable = field(repr=False)
    _activation: Callable = field(repr=False)

    def f(self, u) -> torch.Tensor:
        """The generator ``f(u)``, convex with ``f(1) = 0``; ``+inf`` for ``u < 0``."""
        return _on_nonnegative(_as_tensor(u), self._f)

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
        return out.clamp(*_finite_inside(self.conjugate_domain, out.dtype, out.device))


def _tv():
    return dict(
        f=lambda u: 0.5 * torch.abs(u - 1.0),
        f_prime=lambda u: 0.5 * torch.sign(u - 1.0),
        conjugate=lambda t: t,
        domain=Interval(-0.5, 0.5, True, True),
        activation=lambda v: 0.5 * torch.tanh(v),
    )


def _kl():
    return dict(
        f=lambda u: torch.xlogy(u, u),
        f_prime=lambda u: torch.log(u) + 1.0,
        conjugate=lambda t: torch.exp(t - 1.0),
        domain=_REAL_LINE,
        activation=lambda v: v,
    )


def _reverse_kl():
    return dict(
        f=lambda u: -torch.log(u),
        f_prime=lambda u: -1.0 / u,
        conjugate=lambda t: -1.0 - torch.log(-t),
        domain=Interval(-_INF, 0.0),
        activation=lambda v: -torch.exp(-v),
    )


def _pearson_chi2():
    return dict(
        f=lambda u: (u - 1.0) ** 2,
        f_prime=lambda u: 2.0 * (u - 1.0),
        conjugate=lambda t: 0.25 * t * t + t,
        domain=_REAL_LINE,
        activation=lambda v: v,
    )


def _neyman_chi2():
    return dict(
        f=lambda u: (1.0 - u) ** 2 / u,
        f_prime=lambda u: 1.0 - 1.0 / (u * u),
        conjugate=lambda t: 2.0 - 2.0 * torch.sqrt(1.0 - t),
        # f*(1) = sup_u (2 - 1/u) = 2 is finite: the domain is closed at 1
        domain=Interval(-_INF, 1.0, False, True),
        activation=lambda v: 1.0 - torch.exp(-v),
    )


def _squared_hellinger():
    return dict(
        f=lambda u: (torch.sqrt(u) - 1.0) ** 2,
        f_prime=lambda u: 1.0 - 1.0 / torch.sqrt(u),
        conjugate=lambda t: t / (1.0 - t),
        domain=Interval(-_INF, 1.0),
        activation=lambda v: 1.0 - torch.exp(-v),
    )


def _jeffreys_conjugate(t):
    z = 1.0 - t
    w = wright_omega(z)
    # 1/w = exp(w - z) since w + log w = z: stays finite (or +inf) where w underflows to 0
    return w + torch.exp(w - z) + t - 2.0


def _jeffreys():
    return dict(
        f=lambda u: (u - 1.0) * torch.log(u),
        f_prime=lambda u: torch.log(u) + 1.0 - 1.0 / u,
        conjugate=_jeffreys_conjugate,
        domain=_REAL_LINE,
        activation=lambda v: v,
    )


def _js():
    return dict(
        f=lambda u: 0.5 * (torch.xlogy(u, u) - torch.xlogy(u + 1.0, 0.5 * (u + 1.0))),
        f_prime=lambda u: 0.5 * torch.log(2.0 * u / (u + 1.0)),
        conjugate=lambda t: -0.5 * torch.log(2.0 - torch.exp(2.0 * t)),
        domain=Interval(-_INF, 0.5 * _LOG2),
        activation=lambda v: 0.5 * (_LOG2 + F.logsigmoid(v)),
    )


def _weighted_js(pi: float = 0.5):
    pi = check_real(pi, "pi", low=0.0, high=1.0, low_open=True, high_open=True)
    mix = lambda u: 1.0 - pi + pi * u  # noqa: E731
    high = -pi * math.log(pi)
    return dict(
        f=lambda u: pi * torch.xlogy(u, u) - torch.xlogy(mix(u), mix(u)),
        f_prime=lambda u: pi * torch.log(u / mix(u)),
        conjugate=lambda t: (1.0 - pi)
        * (math.log(1.0 - pi) - torch.log(1.0 - pi * torch.exp(t / pi))),
        domain=Interval(-_INF, high),
        activation=lambda v: high + F.logsigmoid(v),
        params={"pi": pi},
    )


def _gan():
    return dict(
        f=lambda u: torch.xlogy(u, u) - torch.xlogy(u + 1.0, u + 1.0),
        f_prime=lambda u: torch.log(u / (u + 1.0)),
        conjugate=lambda t: -torch.log(-torch.expm1(t)),
        domain=Interval(-_INF, 0.0),
        activation=lambda v: F.logsigmoid(v),
    )


def _alpha(alpha: float = 0.5):
    a = check_real(alpha, "alpha")
    params = {"alpha": a}
    if a == 1.0:
        return dict(
            f=lambda u: torch.xlogy(u, u) - u + 1.0,
            f_prime=lambda u: torch.log(u),
            conjugate=lambda t: torch.expm1(t),
            domain=_REAL_LINE,
            activation=lambda v: v,
            params=params,
        )
    if a == 0.0:
        return dict(
            f=lambda u: u - 1.0 - torch.log(u),
            f_prime=lambda u: 1.0 - 1.0 / u,
            conjugate=lambda t: -torch.log1p(-t),
            domain=Interval(-_INF, 1.0),
            activation=lambda v: 1.0 - torch.exp(-v),
            params=params,
        )
    power = a / (a - 1.0)

    def conjugate(t):
        base = 1.0 + (a - 1.0) * t
        if a > 1.0:
            # below t = -1/(a-1) the supremum sits at u = 0: f* = -f(0) = -1/a
            base = torch.clamp(base, min=0.0)
        return (base**power - 1.0) / a

    if a > 1.0:
        domain, activation = _REAL_LINE, (lambda v: v)
    else:
        high = 1.0 / (1.0 - a)
        domain = Interval(-_INF, high, False, a < 0.0)
        activation = lambda v: high - torch.exp(-v)  # noqa: E731
    return dict(
        f=lambda u: (u**a - 1.0 - a * (u - 1.0)) / (a * (a - 1.0)),
        f_prime=lambda u: (u ** (a - 1.0) - 1.0) / (a - 1.0),
        conjugate=conjugate,
        domain=domain,
        activation=activation,
        params=params,
    )


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


def get_f_divergence(name, **params) -> TorchFDivergence:
    """The torch registry entry ``name`` (same names and parameters as ``divkit.get_f_divergence``).

    Parameters
    ----------
    name : str or TorchFDivergence
        One of ``"tv", "kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "squared_hellinger",
        "jeffreys", "js", "weighted_js", "gan", "alpha"``; an entry is returned unchanged.
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
    if not isinstance(name, str):
        raise TypeError(f"name must be a registry name (str), got {name!r}")
    if name not in F_DIVERGENCES:
        raise ValueError(f"unknown f-divergence name {name!r}; choose one of {sorted(F_DIVERGENCES)}")
    try:
        spec = F_DIVERGENCES[name](**params)
    except TypeError as exc:
        raise TypeError(f"invalid parameters {sorted(params)} for f-divergence {name!r}: {exc}") from None
    return TorchFDivergence(
        name=name,
        params=spec.get("params", {}),
        conjugate_domain=spec["domain"],
        _f=spec["f"],
        _f_prime=spec["f_prime"],
        _conjugate=spec["conjugate"],
        _activation=spec["activation"],
    )
