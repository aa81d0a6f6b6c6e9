"""The result type shared by every exact optimal-transport solver, and its certificate.

The transport LP (CONVENTIONS.md §3)::

    primal:  min_G <G, C>           s.t.  G 1 = a,  G^T 1 = b,  G >= 0
    dual:    max_{f,g} <a,f> + <b,g> s.t.  f_i + g_j <= C_ij

A solver returns a plan ``G`` and potentials ``(f, g)``; :func:`certify` measures how far the
pair is from satisfying the optimality conditions, so the caller never has to trust a solver's
own claim of optimality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from .._numba import FASTMATH

#: Default relative tolerance used by :meth:`Certificate.is_optimal`; measured against the scale
#: ``total_mass * max|C|`` of the problem.
OPTIMALITY_RTOL = 1e-9


class OptimalityError(RuntimeError):
    """A solver stopped without a certified optimum (iteration cap, numerical trouble).

    divkit raises this instead of returning a number that looks final; ``result`` holds the
    best non-optimal answer and its certificate for inspection.
    """

    def __init__(self, message: str, result: "OTResult | None" = None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Certificate:
    """Evidence that a transport plan and a pair of potentials are optimal.

    All quantities are absolute, in the units of the cost. ``scale`` is
    ``total_mass * max|C_ij|``; :meth:`is_optimal` compares every cost residual with
    ``rtol * scale`` and every mass residual with ``rtol * total_mass``.

    Attributes
    ----------
    primal_value : float
        ``<G, C>``.
    dual_value : float
        ``<a, f> + <b, g>``.
    marginal_error : float
        ``max(||G 1 - a||_inf, ||G^T 1 - b||_inf)`` (primal feasibility).
    negative_mass : float
        ``max(0, -min G_ij)`` (primal feasibility).
    dual_infeasibility : float
        ``max(0, max_ij f_i + g_j - C_ij)`` (dual feasibility).
    duality_gap : float
        ``|primal_value - dual_value|``.
    complementary_slackness : float
        ``sum_ij G_ij |C_ij - f_i - g_j|``: zero iff mass moves only along arcs whose
        reduced cost vanishes.
    scale : float
        ``total_mass * max|C|``, the yardstick for relative cost residuals.
    total_mass : float
        ``max(sum a, sum b)``, the yardstick for relative marginal errors.
    """

    primal_value: float
    dual_value: float
    marginal_error: float
    negative_mass: float
    dual_infeasibility: float
    duality_gap: float
    complementary_slackness: float
    scale: float
    total_mass: float = 1.0

    def worst_relative_residual(self) -> float:
        """Largest residual divided by ``scale`` (0 for a zero-cost problem that is solved)."""
        worst = max(
            self.marginal_error / max(self._mass_scale, np.finfo(float).tiny),
            self.negative_mass / max(self._mass_scale, np.finfo(float).tiny),
            self.dual_infeasibility / self._cost_scale,
            self.duality_gap / self._cost_scale,
            self.complementary_slackness / self._cost_scale,
        )
        return float(worst)

    @property
    def _cost_scale(self) -> float:
        return self.scale if self.scale > 0 else 1.0

    @property
    def _mass_scale(self) -> float:
        # marginal errors are measured in units of mass, not cost
        return self.total_mass

    def is_optimal(self, rtol: float = OPTIMALITY_RTOL) -> bool:
        """True when every residual is at most ``rtol`` times its scale."""
        return self.worst_relative_residual() <= rtol


@dataclass(frozen=True)
class OTResult:
    """Solution of an exact discrete optimal-transport problem.

    Attributes
    ----------
    cost : float
        The optimal value ``<G, C>`` (for ``C = d^p`` this is ``W_p^p``).
    plan : ndarray of shape (n, m) or scipy.sparse.coo_array
        An optimal transport plan ``G``. Basic solutions have at most ``n + m - 1`` non-zeros.
    f, g : ndarray of shape (n,) and (m,)
        Optimal Kantorovich potentials, centred so that ``<a, f> == <b, g>`` (the same
        convention as POT). Potentials are unique only up to ``(f + c, g - c)``, and not at all on
        zero-mass points; there divkit returns the c-transform value, which keeps them
        dual-feasible.
    certificate : Certificate
        Residuals of the optimality conditions, computed independently of the solver.
    solver : str
        Which solver produced the result (``"highs-primal"``, ``"highs-dual"``, ...).
    iterations : int
        Solver iterations (pivots for simplex methods), or -1 when unknown.
    """

    cost: float
    plan: object
    f: np.ndarray
    g: np.ndarray
    certificate: Certificate
    solver: str
    iterations: int = -1
    extra: dict = field(default_factory=dict, repr=False, compare=False)
    #: Kantorovich–Rubinstein potential (:class:`KRPotential`), set by
    #: :func:`divkit.wasserstein` for ``p = 1`` and a metric ground cost; None otherwise.
    kr_potential: object = field(default=None, repr=False, compare=False)

    @property
    def dual_value(self) -> float:
        """``<a, f> + <b, g>``; equals :attr:`cost` at optimality."""
        return self.certificate.dual_value

    def dense_plan(self) -> np.ndarray:
        """The plan as a dense ``(n, m)`` array."""
        if sp.issparse(self.plan):
            return self.plan.toarray()
        return np.asarray(self.plan)

    def __repr__(self) -> str:
        cert = self.certificate
        return (
            f"OTResult(cost={self.cost!r}, solver={self.solver!r}, iterations={self.iterations}, "
            f"gap={cert.duality_gap:.3g}, marginal_error={cert.marginal_error:.3g}, "
            f"dual_infeasibility={cert.dual_infeasibility:.3g})"
        )


def require_optimal(result: OTResult, rtol: float = OPTIMALITY_RTOL) -> OTResult:
    """Return ``result`` if its certificate shows optimality to ``rtol``, else raise
    :class:`OptimalityError` carrying it."""
    cert = result.certificate
    if not cert.is_optimal(rtol):
        raise OptimalityError(
            f"solver {result.solver!r} did not reach a certified optimum: worst relative residual "
            f"{cert.worst_relative_residual():.3g} > rtol={rtol:g} ({cert})",
            result,
        )
    return result


#: Size of the deterministic sample of cost entries used for robust cost scales (the strict
#: check below, and the network simplex's artificial arcs).
COST_SAMPLE_SIZE = 4096


def _sample_pairs(n: int, m: int):
    if n * m <= COST_SAMPLE_SIZE:
        rows, cols = np.divmod(np.arange(n * m, dtype=np.int64), m)
        return rows, cols
    rng = np.random.default_rng(0)
    return (rng.integers(0, n, COST_SAMPLE_SIZE, dtype=np.int64),
            rng.integers(0, m, COST_SAMPLE_SIZE, dtype=np.int64))


@njit(cache=True, parallel=True)
def _entrywise_dual_violation(C, f, g, floor):
    """``max_ij (f_i + g_j - C_ij) / max(floor, |C_ij|, |f_i|, |g_j|)``: dual infeasibility
    measured against the magnitude of the numbers involved, so one huge entry elsewhere in
    ``C`` cannot hide a violation among the ordinary ones."""
    n, m = C.shape
    worst = np.empty(n)
    for i in prange(n):
        w = -np.inf
        fi = f[i]
        for j in range(m):
            c = C[i, j]
            r = (fi + g[j] - c) / max(max(floor, abs(c)), max(abs(fi), abs(g[j])))
            if r > w:
                w = r
        worst[i] = w
    return worst.max()


#: :func:`support_relative_residual` checks dual feasibility entry by entry only when
#: ``mass * max|C|`` exceeds this multiple of its rounding scale.
OUTLIER_RATIO = 16.0


def typical_abs_cost(values: np.ndarray) -> float:
    """Mean of ``|values|`` without its largest 1% (at least one entry when there are two or
    more): a cost scale that a few outliers cannot move."""
    v = np.sort(np.abs(np.ravel(values)))
    if v.size == 0:
        return 0.0
    drop = max(1, math.ceil(0.01 * v.size)) if v.size > 1 else 0
    return float(v[: v.size - drop].mean())


def support_relative_residual(result: OTResult, C: np.ndarray | None = None,
                              support_costs: np.ndarray | None = None,
                              typical_cost: float | None = None) -> float:
    """The certificate's residuals against the scale of the numbers actually involved.

    :class:`~divkit.ot.Certificate` measures cost residuals against ``mass * max|C|``. One
    outlier entry (``1e32``, POT issue 229) inflates that scale until a plainly wrong cost
    passes. Here the duality gap and complementary slackness are divided by
    ``s = max(sum_ij G_ij |C_ij| + sum_i a_i |f_i| + sum_j b_j |g_j|, mass * typical)``: the
    magnitude of the terms that make up the primal and dual values (hence of their rounding
    errors), with ``a, b`` the plan's marginals, floored by a robust typical cost
    (:func:`typical_abs_cost` of a fixed sample of entries). When ``C`` is given and
    ``mass * max|C| > OUTLIER_RATIO * s``, dual feasibility is also checked entry by entry
    against ``max(s / mass, |C_ij|, |f_i|, |g_j|)``.

    Parameters
    ----------
    result : OTResult
    C : ndarray, optional
        The dense cost matrix (needed unless ``support_costs`` and ``typical_cost`` are given).
    support_costs : ndarray, optional
        ``C`` at the plan's non-zeros, in the order of ``scipy.sparse.coo_array(plan).data``.
    typical_cost : float, optional
        The robust typical ``|C_ij|`` (computed from ``C`` when omitted).
    """
    cert = result.certificate
    coo = sp.coo_array(result.plan)
    vals = coo.data
    if support_costs is None:
        support_costs = C[coo.row, coo.col]
    if typical_cost is None:
        rows, cols = _sample_pairs(*C.shape)
        typical_cost = typical_abs_cost(C[rows, cols])
    row_mass = np.bincount(coo.row, weights=vals, minlength=result.f.shape[0])
    col_mass = np.bincount(coo.col, weights=vals, minlength=result.g.shape[0])
    mass = cert.total_mass
    scale = max(float(vals @ np.abs(support_costs)) + float(row_mass @ np.abs(result.f))
                + float(col_mass @ np.abs(result.g)), mass * typical_cost)
    if not scale > 0:  # every cost is zero
        scale = 1.0
    worst = max(cert.duality_gap, cert.complementary_slackness) / scale
    # without outliers the global certificate is already on this scale: skip the O(nm) pass
    if C is not None and cert.scale > OUTLIER_RATIO * scale:
        worst = max(worst, float(_entrywise_dual_violation(C, result.f, result.g, scale / mass)))
    return float(worst)


def require_optimal_strict(result: OTResult, rtol: float = OPTIMALITY_RTOL, C=None,
                           support_costs=None, typical_cost=None) -> OTResult:
    """:func:`~divkit.ot.require_optimal` plus :func:`support_relative_residual` <= ``rtol``."""
    require_optimal(result, rtol)
    local = support_relative_residual(result, C, support_costs, typical_cost)
    if not local <= rtol:
        raise OptimalityError(
            f"solver {result.solver!r} did not reach a certified optimum: residual {local:.3g} "
            f"relative to the costs on the plan's support exceeds rtol={rtol:g} "
            f"(the global certificate passes only because of large entries elsewhere in C)",
            result,
        )
    return result


def centre_potentials(a: np.ndarray, b: np.ndarray, f: np.ndarray, g: np.ndarray):
    """Shift ``(f, g) -> (f + c, g - c)`` so that ``<a, f> == <b, g>``.

    The shift leaves every constraint ``f_i + g_j <= C_ij`` and the dual objective unchanged.
    """
    c = (float(b @ g) - float(a @ f)) / (float(a.sum()) + float(b.sum()))
    return f + c, g - c


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _dense_residuals(C, plan, f, g):
    n, m = C.shape
    infeas = np.empty(n)
    slack = np.empty(n)
    for i in prange(n):
        worst = -np.inf
        s = 0.0
        for j in range(m):
            r = C[i, j] - f[i] - g[j]
            if -r > worst:
                worst = -r
            s += plan[i, j] * abs(r)
        infeas[i] = worst
        slack[i] = s
    return infeas.max(), slack.sum()


@njit(cache=True, parallel=True)
def _max_abs(C):
    # np.abs(C).max() would allocate a temporary as large as C
    n = C.shape[0]
    row_max = np.zeros(n)
    for i in prange(n):
        w = 0.0
        for v in C[i]:
            if abs(v) > w:
                w = abs(v)
        row_max[i] = w
    return row_max.max() if n else 0.0


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _max_violation(C, f, g):
    n, m = C.shape
    infeas = np.empty(n)
    for i in prange(n):
        worst = -np.inf
        for j in range(m):
            r = f[i] + g[j] - C[i, j]
            if r > worst:
                worst = r
        infeas[i] = worst
    return infeas.max()


def certify(a, b, C, plan, f, g, *, dual_infeasibility: float | None = None) -> Certificate:
    """Measure primal feasibility, dual feasibility, duality gap and complementary slackness.

    Parameters
    ----------
    a, b : ndarray
        Marginals, float64.
    C : ndarray of shape (n, m)
        Cost matrix, float64.
    plan : ndarray of shape (n, m) or scipy.sparse array
        Candidate plan.
    f, g : ndarray
        Candidate potentials.
    dual_infeasibility : float, optional
        Pass a precomputed ``max(f_i + g_j - C_ij)`` when ``C`` is only available implicitly.

    Returns
    -------
    Certificate
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if sp.issparse(plan):
        coo = sp.coo_array(plan)
        rows, cols, vals = coo.row, coo.col, coo.data
        row_sums = np.bincount(rows, weights=vals, minlength=a.shape[0])
        col_sums = np.bincount(cols, weights=vals, minlength=b.shape[0])
        c_on = C[rows, cols]
        primal = float(vals @ c_on)
        slack = float(vals @ np.abs(c_on - f[rows] - g[cols]))
        neg = float(max(0.0, -vals.min())) if vals.size else 0.0
        infeas = _max_violation(C, f, g) if dual_infeasibility is None else dual_infeasibility
    else:
        P = np.ascontiguousarray(plan, dtype=np.float64)
        row_sums = P.sum(axis=1)
        col_sums = P.sum(axis=0)
        primal = float(np.vdot(P, C))
        infeas, slack = _dense_residuals(C, P, f, g)
        if dual_infeasibility is not None:
            infeas = dual_infeasibility
        neg = float(max(0.0, -P.min()))
    dual = float(a @ f) + float(b @ g)
    marg = float(max(np.abs(row_sums - a).max(), np.abs(col_sums - b).max()))
    mass = float(max(a.sum(), b.sum()))
    cmax = float(_max_abs(C)) if C.size else 0.0
    return Certificate(
        primal_value=primal,
        dual_value=dual,
        marginal_error=marg,
        negative_mass=neg,
        dual_infeasibility=float(max(0.0, infeas)),
        duality_gap=abs(primal - dual),
        complementary_slackness=float(slack),
        scale=mass * cmax,
        total_mass=mass,
    )


def certified_result(a, b, C, plan, f, g, *, solver: str, iterations: int = -1, extra=None) -> OTResult:
    """An :class:`OTResult` whose cost and certificate come from :func:`certify`, never from the
    solver's own report."""
    cert = certify(a, b, C, plan, f, g)
    return OTResult(cost=cert.primal_value, plan=plan, f=f, g=g, certificate=cert, solver=solver,
                    iterations=int(iterations), extra=dict(extra or {}))


__all__ = [
    "OTResult",
    "certified_result",
    "Certificate",
    "OptimalityError",
    "certify",
    "require_optimal",
    "require_optimal_strict",
    "support_relative_residual",
    "typical_abs_cost",
    "centre_potentials",
    "OPTIMALITY_RTOL",
    "KRPotential",
]


@dataclass(frozen=True)
class KRPotential:
    """Kantorovich–Rubinstein potential for a metric cost (``p = 1``).

    A function ``phi`` on the support with ``|phi(z) - phi(z')| <= d(z, z')`` and
    ``W_1 = sum_i a_i phi(x_i) - sum_j b_j phi(y_j)``, obtained as the c-transform
    ``phi(z) = min_j d(z, y_j) - g_j`` of the optimal LP potential ``g``. It is defined up to an
    additive constant.

    Attributes
    ----------
    phi_x : ndarray of shape (n,)
        ``phi`` at the source points ``x_i``.
    phi_y : ndarray of shape (m,)
        ``phi`` at the target points ``y_j``.
    value : float
        ``sum_i a_i phi(x_i) - sum_j b_j phi(y_j)`` (equals ``W_1`` at optimality).
    """

    phi_x: np.ndarray
    phi_y: np.ndarray
    value: float
