"""Public entry points of exact discrete optimal transport: :func:`emd` and :func:`wasserstein`.

``emd`` validates, removes zero-mass points, dispatches to one solver of :data:`_SOLVERS`, puts
the zero-mass points back with c-transform potentials, centres the potentials, certifies the
answer independently of the solver and raises :class:`OptimalityError` unless the certificate
shows optimality.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import scipy.sparse as sp

from .._validation import (
    MASS_RTOL,
    as_float_array,
    as_points,
    as_weights,
    check_same_mass,
    check_scalar,
    power_of_two_scale,
)
from . import _lp
from ._result import (
    OPTIMALITY_RTOL,
    KRPotential,
    OptimalityError,
    OTResult,
    centre_potentials,
    certify,
    require_optimal_strict,
)
from ._pot_backend import solve_pot
from .costs import _metric_code, cost_matrix
from .network_simplex import network_simplex_points, solve_network_simplex
from .one_d import _wp_1d


#: metrics for which ``d`` satisfies the triangle inequality (Kantorovich–Rubinstein applies)
_TRUE_METRICS = ("euclidean", "cityblock", "chebyshev", "minkowski")


def _resolve_method(method) -> str:
    if method == "auto":
        return _AUTO_METHOD
    if not isinstance(method, str) or method not in _SOLVERS:
        raise ValueError(f"method must be 'auto' or one of {sorted(_SOLVERS)}, got {method!r}")
    return method


def _validate_problem(a, b, C):
    C = as_float_array(C, "C", ndim=2)
    n, m = C.shape
    if a is not None and np.ndim(a) == 1 and np.shape(a)[0] != n:
        raise ValueError(f"a has {np.shape(a)[0]} entries but C has {n} rows")
    if b is not None and np.ndim(b) == 1 and np.shape(b)[0] != m:
        raise ValueError(f"b has {np.shape(b)[0]} entries but C has {m} columns")
    if not np.isfinite(float(C.max()) - float(C.min())):
        # max - min overflows for costs spanning both signs near the float64 limit
        raise ValueError("C spans a range larger than the float64 maximum; rescale it")
    a = as_weights(a, n, "a")
    b = as_weights(b, m, "b")
    check_same_mass(a, b, ("a", "b"), rtol=MASS_RTOL)
    # Within MASS_RTOL the totals are taken as equal: b is rescaled to a's total so that the LP
    # is exactly feasible and the certificate measures the solver, not the input's rounding.
    b = b * (a.sum() / b.sum())
    return a, b, C


#: Costs more than this factor above the median cost (measured from min C) are clipped for a
#: first solve; see :func:`_solve_clipped`.
OUTLIER_CLIP_FACTOR = 1e6


def _solve_clipped(solve, a, b, C, options):
    """Solve, resolving ordinary costs exactly even next to huge "forbidden" entries.

    HiGHS works with absolute tolerances on the rescaled costs ``(C - min C) / span``, so next to
    a few entries of 1e32 (used as forbidden arcs, POT issue 229) every ordinary cost would
    rescale below 1e-28 and the plan among them would be arbitrary. We first solve with
    ``C_clip = min(C, min C + K)``, ``K = OUTLIER_CLIP_FACTOR * median(C - min C)``. Since
    ``C >= C_clip`` entrywise, a plan optimal for ``C_clip`` that puts no mass on a clipped arc
    is optimal for ``C`` (``<G, C> >= <G, C_clip> >= <G*, C_clip> = <G*, C>``), and the
    ``C_clip`` potentials stay dual-feasible for ``C``. Otherwise the problem is solved again
    unclipped (accuracy then relative to ``max|C|``, as the certificate states).
    """
    c_min = float(C.min())
    gap = float(np.median(C - c_min))
    limit = c_min + OUTLIER_CLIP_FACTOR * gap
    if gap > 0 and limit < float(C.max()):
        clipped = C > limit
        result = solve(a, b, np.minimum(C, limit), **options)
        if not np.any(result.dense_plan()[clipped] > 0):
            return result
    return solve(a, b, C, **options)


#: A first answer whose potentials violate some constraint by more than this fraction of
#: ``total_mass * max|C|`` is refined once (:func:`_refine`).
REFINE_THRESHOLD = 1e-14


def _refine(solve, a, b, C, first: OTResult, options) -> OTResult:
    """One step of iterative refinement on the reduced costs ``R = C - f - g``.

    With absolute tolerances of 1e-10 on costs rescaled to [0, 1], HiGHS can pick a vertex that
    is optimal only to ~1e-11 of the cost range (two plans whose costs differ by 2e-6 out of
    5e5 look tied). The reduced costs of the first answer are ~0 on the arcs that matter, so a
    second solve on ``R_clip = min(R, K)``, ``K = OUTLIER_CLIP_FACTOR * max violation``, sees
    them at full resolution. ``<G, R> = <G, C> - <a, f> - <b, g>`` differs from ``<G, C>`` by a
    constant, and the clip is verified as in :func:`_solve_clipped`, so an answer is kept only
    when it is exactly optimal for ``C`` (up to rounding), and only if its certificate is better.
    """
    cert = first.certificate
    if cert.dual_infeasibility <= REFINE_THRESHOLD * cert.scale:
        return first
    f = np.asarray(first.f, dtype=np.float64)
    g = np.asarray(first.g, dtype=np.float64)
    R = C - f[:, None] - g[None, :]
    limit = OUTLIER_CLIP_FACTOR * cert.dual_infeasibility
    clipped = R > limit
    try:
        second = solve(a, b, np.minimum(R, limit), **options)
    except OptimalityError:
        return first
    plan = second.dense_plan()
    if np.any(plan[clipped] > 0):
        return first
    f2 = f + second.f
    g2 = g + second.g
    cert2 = certify(a, b, C, plan, f2, g2)
    if cert2.worst_relative_residual() >= cert.worst_relative_residual():
        return first
    return OTResult(cost=cert2.primal_value, plan=plan, f=f2, g=g2, certificate=cert2,
                    solver=first.solver, iterations=first.iterations + second.iterations,
                    extra={**first.extra, "refined": True})


def _solve_exact(solve, a, b, C, options) -> OTResult:
    return _refine(solve, a, b, C, _solve_clipped(solve, a, b, C, options), options)


def _highs(solve):
    """An LP solver with the two safeguards HiGHS's absolute tolerances need."""

    def run(a, b, C, **options):
        return _solve_exact(solve, a, b, C, options)

    return run


def _on_unit_costs(solve):
    """Run ``solve`` on ``(C - min C) / span`` and map the potentials back (the plan does not
    change): POT works with absolute tolerances, so negative, huge or tiny costs are solved as
    well as costs in [0, 1]. ``emd`` recertifies the result on the original ``C``."""

    def run(a, b, C, **options):
        low = float(C.min())
        span = float(C.max()) - low
        span = span if span > 0 else 1.0
        result = solve(a, b, (C - low) / span, **options)
        return dataclasses.replace(result, f=result.f * span + low, g=result.g * span)

    return run


#: method name -> ``solve(a, b, C, **options) -> OTResult``; inputs are validated float64
#: C-contiguous arrays, ``a`` and ``b`` strictly positive with equal totals.
_SOLVERS = {
    "network_simplex": partial(solve_network_simplex, sparse=True),
    "highs-primal": _highs(_lp.solve_primal),
    "highs-dual": _highs(_lp.solve_dual),
    "pot": _on_unit_costs(solve_pot),
}

#: what ``method="auto"`` runs: the network simplex is exact and the fastest (benchmarks/exact_ot.py)
_AUTO_METHOD = "network_simplex"


def _c_transform_zero_mass(C, a, b, f, g):
    """Give zero-mass rows/columns the c-transform potential, keeping (f, g) dual-feasible."""
    zero_rows = np.flatnonzero(a == 0)
    zero_cols = np.flatnonzero(b == 0)
    live_cols = b > 0
    if zero_rows.size:
        f[zero_rows] = (C[np.ix_(zero_rows, np.flatnonzero(live_cols))] - g[live_cols]).min(axis=1)
    if zero_cols.size:
        g[zero_cols] = (C[:, zero_cols] - f[:, None]).min(axis=0)
    return f, g


def emd(a, b, C, *, method: str = "auto", sparse: bool = False, rtol: float = OPTIMALITY_RTOL, **options) -> OTResult:
    r"""Exact optimal transport between two discrete measures, with a certificate.

    Solves the Kantorovich problem (CONVENTIONS.md §3)

    .. math::

        \min_{\Gamma \ge 0} \langle \Gamma, C\rangle \quad \text{s.t.}\quad
        \Gamma \mathbf 1 = a,\ \Gamma^\top \mathbf 1 = b

    and its dual :math:`\max \langle a, f\rangle + \langle b, g\rangle` s.t.
    :math:`f_i + g_j \le C_{ij}`.

    Parameters
    ----------
    a : array_like of shape (n,), or None
        Source masses (non-negative; None means uniform ``1/n``).
    b : array_like of shape (m,), or None
        Target masses; ``sum(b)`` must equal ``sum(a)`` to relative tolerance
        ``MASS_RTOL`` = 1e-7, and ``b`` is then rescaled to ``sum(a)``.
    C : array_like of shape (n, m)
        Finite ground costs, any sign and magnitude (they are rescaled before the LP).
    method : {"auto", "network_simplex", "highs-primal", "highs-dual", "pot"}
        ``"network_simplex"`` (what ``"auto"`` runs) is divkit's numba network simplex;
        ``"highs-primal"`` solves the primal LP (potentials from its equality multipliers);
        ``"highs-dual"`` solves the Kantorovich dual LP (plan from its inequality
        multipliers); ``"pot"`` calls POT's ``ot.emd`` (when POT is installed) on the costs
        mapped to [0, 1]. Whatever the
        method, the answer is certified by divkit and raises rather than returns when it is
        not optimal.
    sparse : bool, default False
        Return the plan as a ``scipy.sparse.coo_array`` of its non-zeros (an optimal basic
        plan has at most ``n + m - 1``).
    rtol : float, default 1e-9
        Every certificate residual must be at most ``rtol`` times its scale
        (``total_mass * max|C|`` for costs, ``total_mass`` for masses); otherwise
        :class:`OptimalityError` is raised.
    **options
        Passed to the solver. Network simplex: ``warm_start`` (potentials ``(f, g)`` or an
        ``OTResult``), ``max_iter``, ``block_size``. HiGHS: ``highs_method`` ("highs-ds", "highs-ipm" or "highs"; the
        defaults are dual simplex for the primal LP, IPM with crossover for the dual LP),
        ``tolerance`` (HiGHS feasibility tolerances, default 1e-10), ``time_limit`` (s),
        ``maxiter``, ``presolve``. A solver stopped by ``time_limit`` or ``maxiter`` raises
        :class:`OptimalityError`; it never returns its partial answer as a number.

    Returns
    -------
    OTResult
        ``cost`` = ``<plan, C>``; potentials centred so that ``<a, f> = <b, g>``; zero-mass
        points carry the c-transform potential (``f_i = min_j C_ij - g_j`` and likewise for
        ``g``), so ``(f, g)`` is dual-feasible everywhere.

    Raises
    ------
    OptimalityError
        The solver stopped early (time limit, numerical trouble) or its answer failed the
        certificate.

    Examples
    --------
    >>> from divkit import emd
    >>> res = emd([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])
    >>> round(res.cost, 12)
    0.0
    >>> res = emd([1.0], [0.25, 0.75], [[2.0, 4.0]], method="highs-dual")
    >>> round(res.cost, 12), res.certificate.is_optimal()
    (3.5, True)
    """
    a, b, C = _validate_problem(a, b, C)
    name = _resolve_method(method)
    rtol = check_scalar(rtol, "rtol", low=0.0, low_open=True)
    rows = np.flatnonzero(a > 0)
    cols = np.flatnonzero(b > 0)
    solve = _SOLVERS[name]
    if rows.size == a.size and cols.size == b.size:
        reduced = solve(a, b, C, **options)
        plan = sp.coo_array(reduced.plan)
        f = np.array(reduced.f, dtype=np.float64)
        g = np.array(reduced.g, dtype=np.float64)
    else:
        # solve on the support, then put the zero-mass points back with c-transform potentials
        C_live = np.ascontiguousarray(C[np.ix_(rows, cols)])
        reduced = solve(np.ascontiguousarray(a[rows]), np.ascontiguousarray(b[cols]), C_live, **options)
        live = sp.coo_array(reduced.plan)
        plan = sp.coo_array((live.data, (rows[live.row], cols[live.col])), shape=C.shape)
        f = np.zeros(a.size)
        g = np.zeros(b.size)
        f[rows] = reduced.f
        g[cols] = reduced.g
        f, g = _c_transform_zero_mass(C, a, b, f, g)
    f, g = centre_potentials(a, b, f, g)
    cert = certify(a, b, C, plan, f, g)
    result = OTResult(
        cost=cert.primal_value,
        plan=plan if sparse else plan.toarray(),
        f=f,
        g=g,
        certificate=cert,
        solver=reduced.solver,
        iterations=reduced.iterations,
        extra=dict(reduced.extra),
    )
    # strict: residuals also on the scale of the costs the plan uses, so one huge entry of C
    # cannot make a wrong answer look optimal (POT issue 229)
    return require_optimal_strict(result, rtol, C=C)


def kantorovich_rubinstein_potential(x, y, result: OTResult, a=None, b=None, *, metric: str = "euclidean",
                                     minkowski_p: float = 2.0) -> KRPotential:
    r"""Kantorovich–Rubinstein potential from an optimal W_1 solution.

    For a metric ``d``, ``W_1(mu, nu) = max { sum_i a_i phi(x_i) - sum_j b_j phi(y_j) :
    phi 1-Lipschitz }`` (Kantorovich–Rubinstein duality; Villani 2009, Remark 6.5). From optimal
    LP potentials ``(f, g)`` for ``C_ij = d(x_i, y_j)``, the c-transform

    .. math:: \phi(z) = \min_j\, d(z, y_j) - g_j

    is 1-Lipschitz (a minimum of 1-Lipschitz functions), ``phi(x_i) >= f_i`` and
    ``-phi(y_j) >= g_j``, hence it attains the maximum. Evaluating it on ``x`` and ``y`` costs
    ``O((n + m) m)`` distance evaluations.

    Parameters
    ----------
    x, y : array_like of shape (n, d), (m, d)
        The points the result was computed for.
    result : OTResult
        An optimal result for ``C = cost_matrix(x, y, metric)`` (e.g. from ``emd``).
    a, b : array_like, optional
        Masses (default uniform); only used for :attr:`KRPotential.value`.
    metric : {"euclidean", "cityblock", "chebyshev", "minkowski"}
        Must be a metric (``"sqeuclidean"`` violates the triangle inequality).
    minkowski_p : float, default 2
        Exponent of the Minkowski metric.

    Returns
    -------
    KRPotential

    Examples
    --------
    >>> import numpy as np
    >>> from divkit import wasserstein
    >>> res = wasserstein([[0.0], [1.0]], [[2.0], [3.0]], p=1, return_result=True)
    >>> kr = res.kr_potential
    >>> round(kr.value, 12), round(float(kr.phi_x[0] - kr.phi_y[1]), 12)
    (2.0, 3.0)
    """
    if metric not in _TRUE_METRICS:
        raise ValueError(f"metric must be one of {list(_TRUE_METRICS)} for the Kantorovich-Rubinstein "
                         f"potential (a metric), got {metric!r}")
    xs = as_points(x, "x")
    ys = as_points(y, "y")
    g = np.asarray(result.g, dtype=np.float64)
    if g.shape != (ys.shape[0],):
        raise ValueError(f"result.g has shape {g.shape} but y has {ys.shape[0]} points")
    a = as_weights(a, xs.shape[0], "a")
    b = as_weights(b, ys.shape[0], "b")
    phi_x = (cost_matrix(xs, ys, metric, minkowski_p) - g).min(axis=1)
    phi_y = (cost_matrix(ys, ys, metric, minkowski_p) - g).min(axis=1)
    value = float(a @ phi_x) - float(b @ phi_y)
    return KRPotential(phi_x=phi_x, phi_y=phi_y, value=value)


def _centred_transport_cost(result: OTResult, C: np.ndarray | None = None) -> float:
    """``<plan, C>`` for a plan of total mass 1, accumulated as deviations from the cost on
    the heaviest arc: plans that move all mass at one cost (a pure translation, the parallel
    segments of WGAN Example 1) return that cost exactly.

    The costs on the plan's support come from ``C`` or, when ``C`` is None, from
    ``support_costs`` in the result's ``extra`` (on-the-fly solver)."""
    coo = sp.coo_array(result.plan)
    on = result.extra["support_costs"] if C is None else C[coo.row, coo.col]
    k = int(np.argmax(coo.data))
    ref = float(on[k])
    return ref + float(coo.data @ (on - ref))


#: Above this many cost entries (1 GiB of float64), ``wasserstein(method="auto")`` never
#: materialises the cost matrix and runs the network simplex with on-the-fly costs.
DENSE_COST_LIMIT = 2**27


def wasserstein(
    x,
    y,
    a=None,
    b=None,
    *,
    p: float = 1,
    metric: str = "euclidean",
    method: str = "auto",
    return_result: bool = False,
    minkowski_p: float = 2.0,
):
    r"""Exact p-Wasserstein distance between two weighted point clouds.

    .. math::

        W_p(\mu, \nu) = \Bigl(\min_{\Gamma \in \Pi(a, b)} \sum_{ij}
            \Gamma_{ij}\, d(x_i, y_j)^p\Bigr)^{1/p}

    solved exactly (:func:`emd`, with a certificate). Returns ``W_p`` itself, not ``W_p^p``.

    Parameters
    ----------
    x, y : array_like of shape (n, d), (m, d)
        Support points (1-D input is points on the line).
    a, b : array_like, optional
        Non-negative masses (default uniform). They must have the same total to relative
        tolerance ``MASS_RTOL`` = 1e-7; the distance is that between the probability measures
        ``a / sum(a)`` and ``b / sum(b)``.
    p : float, default 1
        Order, ``p >= 1``.
    metric : {"euclidean", "cityblock", "chebyshev", "minkowski"}
        Ground metric ``d``; the cost is ``d^p``.
    method : {"auto", "network_simplex", "highs-primal", "highs-dual", "pot"}
        Exact solver (see :func:`emd`). ``"auto"`` uses the exact quantile formula
        (:func:`wasserstein_1d`) for 1-D input when ``return_result=False``, the network simplex
        with on-the-fly costs when the cost matrix would exceed ``DENSE_COST_LIMIT`` entries
        (1 GiB), and the network simplex on the dense cost matrix otherwise.
    return_result : bool, default False
        Return the full :class:`OTResult` (for the normalised masses; its ``cost`` is
        ``W_p^p``) instead of the float. For ``p = 1`` its ``kr_potential`` holds the
        Kantorovich–Rubinstein potential (:func:`kantorovich_rubinstein_potential`).
    minkowski_p : float, default 2
        Exponent of the Minkowski metric.

    Returns
    -------
    float or OTResult

    Examples
    --------
    >>> from divkit import wasserstein
    >>> x = [[0.0, 0.0], [0.0, 1.0]]
    >>> y = [[0.7, 0.0], [0.7, 1.0]]
    >>> wasserstein(x, y, p=1)
    0.7
    >>> round(wasserstein(x, y, p=2), 12)
    0.7
    >>> round(wasserstein([[0.0]], [[1.0], [3.0]], a=[2.0], b=[1.0, 1.0]), 12)
    2.0
    """
    xs = as_points(x, "x")
    ys = as_points(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {xs.shape[1]} and {ys.shape[1]}")
    p = check_scalar(p, "p", low=1.0)
    _metric_code(metric)
    if metric == "sqeuclidean":
        raise ValueError("metric='sqeuclidean' is not a metric; for W_2 use metric='euclidean', p=2")
    if metric == "minkowski":
        minkowski_p = check_scalar(minkowski_p, "minkowski_p", low=1.0)
    _resolve_method(method)
    aw = as_weights(a, xs.shape[0], "a")
    bw = as_weights(b, ys.shape[0], "b")
    check_same_mass(aw, bw, ("a", "b"))
    aw = aw / aw.sum()
    bw = bw / bw.sum()
    if xs.shape[1] == 1 and method == "auto" and not return_result:
        uw = None if a is None else aw
        vw = None if b is None else bw
        return _wp_1d(xs[:, 0], ys[:, 0], uw, vw, p)
    # W_p is homogeneous of degree 1: at extreme magnitudes solve at unit scale (an exact
    # power-of-two rescaling) so that d^p neither overflows nor underflows
    scale = 1.0 if return_result else power_of_two_scale(xs, ys)
    if scale != 1.0:
        xs, ys = xs / scale, ys / scale
    if method == "auto" and xs.shape[0] * ys.shape[0] > DENSE_COST_LIMIT:
        C = None
        result = network_simplex_points(xs, ys, aw, bw, metric=metric, power=p, minkowski_p=minkowski_p)
    else:
        C = cost_matrix(xs, ys, metric, minkowski_p)
        if p != 1.0:
            np.power(C, p, out=C)
        result = emd(aw, bw, C, method=method, sparse=not return_result)
    if not return_result:
        return scale * max(_centred_transport_cost(result, C), 0.0) ** (1.0 / p)
    if p == 1.0:
        kr = kantorovich_rubinstein_potential(xs, ys, result, aw, bw, metric=metric, minkowski_p=minkowski_p)
        result = dataclasses.replace(result, kr_potential=kr)
    return result


__all__ = ["emd", "wasserstein", "kantorovich_rubinstein_potential"]
