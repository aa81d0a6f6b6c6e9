"""Exact optimal transport by the primal network simplex (numba).

The transportation LP (CONVENTIONS.md §3)::

    min_G <G, C>   s.t.  G 1 = a,  G^T 1 = b,  G >= 0

is a minimum-cost flow problem on the complete bipartite graph from the ``n`` sources to the
``m`` sinks. :func:`solve_network_simplex` runs the primal network simplex on it (Ahuja,
Magnanti & Orlin, *Network Flows*, 1993, ch. 11) with strongly feasible spanning trees (no
cycling) and Bonneel et al.'s block-search pricing (2011). Every answer carries a
:class:`~divkit.ot.Certificate` computed independently of the solver, and the thin public
wrappers :func:`network_simplex` / :func:`network_simplex_points` raise
:class:`~divkit.ot.OptimalityError` rather than return a number the certificate does not back.

Conventions
-----------
* Potentials ``(f, g)`` satisfy ``f_i + g_j <= C_ij`` and are centred, ``<a, f> == <b, g>``.
  ``g`` is the c-transform of ``f`` (``g_j = min_i C_ij - f_i``), which makes the dual exactly
  feasible up to rounding and gives zero-mass sinks their tight value; zero-mass sources get
  ``f_i = min_j C_ij - g_j``.
* Costs may be negative or sit on a large offset: reduced costs are computed relative to
  ``min C``. The artificial starting arcs cost ``M`` = twice a high percentile of the costs
  (so one outlier entry such as ``1e32`` cannot swamp the others), with a retry at the always
  safe ``M = max C - min C`` if an artificial arc keeps flow; the pricing tolerance is
  :data:`PRICE_RTOL` times ``M``.
* The raw solvers :func:`solve_dense_raw` / :func:`solve_points_raw` return a
  :class:`~divkit.ot.result.RawSolution`; the public wrappers go through
  :func:`divkit.ot.result.finish` (the strict certificate shared by every route).
* If ``sum(b)`` differs from ``sum(a)`` (by rounding: validation allows a relative
  ``MASS_RTOL``), ``b`` is rescaled to ``sum(a)`` once, in the problem
  (``result.b_rescaled`` is True).
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from ..._validation import as_float_array, as_points, check_int, check_scalar
from ..costs import METRIC_CODES
from ..problem import OTProblem, make_points_problem, sample_pairs
from ..result import OPTIMALITY_RTOL, OTResult, RawSolution, ctransform_cols_dense, ctransform_cols_points, finish
from ._network_simplex import (
    STATUS_MAX_ITER,
    STATUS_OPTIMAL,
    gauge_potentials,
    points_cost_range,
    solve_dense,
    solve_points,
    tree_plan,
)

#: Pricing tolerance relative to the artificial cost ``M`` (the scale of the potentials): an
#: arc enters the basis only if its reduced cost is below ``-PRICE_RTOL * M``. Far below the
#: certificate's ``OPTIMALITY_RTOL`` and far above the rounding noise of the potentials.
PRICE_RTOL = 1e-12


def default_max_iter(n: int, m: int) -> int:
    """The default pivot cap: ``10**6 + 1000 (n + m)``.

    Measured pivot counts are ~5-15 (n + m) for random problems (e.g. 85 396 pivots at
    n = m = 4000, 567 252 at n = m = 20000), so the cap is two orders of magnitude away from
    normal use; hitting it raises :class:`OptimalityError`, it never
    silently returns a non-optimal cost (unlike POT's ``numItermax=100000``).
    """
    return 10**6 + 1000 * (n + m)


def default_block_size(n: int, m: int) -> int:
    """Block-search pricing block: ``max(64, ceil(sqrt(n m)))`` arcs (Bonneel et al. 2011)."""
    return max(64, int(math.ceil(math.sqrt(n * m))))


def _warm_potentials(warm_start, n: int, m: int):
    if isinstance(warm_start, OTResult):
        f0, g0 = warm_start.f, warm_start.g
    else:
        try:
            f0, g0 = warm_start
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "warm_start must be a pair of potentials (f, g) or an OTResult, "
                f"got {type(warm_start).__name__}"
            ) from exc
    f0 = as_float_array(f0, "warm_start f", ndim=1)
    g0 = as_float_array(g0, "warm_start g", ndim=1)
    if f0.shape[0] != n or g0.shape[0] != m:
        raise ValueError(
            f"warm_start potentials have shapes {f0.shape} and {g0.shape}, expected ({n},) and ({m},)"
        )
    return f0, g0


#: An artificial arc still carrying more than this fraction of the total mass at the end means
#: the artificial cost was too small: the problem is solved again with the safe one.
ARTIFICIAL_FLOW_RTOL = 1e-12


def _artificial_cost(sample: np.ndarray, crange: float, cmin: float) -> float:
    """Half the cost of routing a unit of mass through the artificial root.

    ``2M > max C - min C`` (``M = crange``) is always enough to keep artificial arcs empty at
    the optimum, but the potentials then carry offsets of size ``M`` and, with one outlier entry
    (``1e32`` among O(1) costs), would lose every digit of the ordinary costs. So the first
    attempt uses ``M = 4 median(C - min C)`` over a fixed sample of entries (robust to a few
    outliers even in tiny problems); if an artificial arc ends with flow, the solve is repeated
    with ``M = crange`` (safe).
    """
    if crange <= 0:  # all costs equal: any M > 0 works; keep it on the costs' scale
        return abs(cmin) if cmin != 0 else 1.0
    q = float(np.median(sample)) if sample.size else crange
    if not q > 0:
        return crange
    return min(4.0 * q, crange)


def _initial_potentials(a, n, m, big_m, warm, sample_reduced):
    """Node potentials of the artificial starting tree (costs shifted by ``min C``).

    The artificial arcs' costs are implied by these potentials: cold, ``pi = +M`` on sources
    and ``-M`` on sinks, so a unit through the root costs ``2M``; warm, the given potentials
    offset by ``K = max(D, 0)/2 + M`` with ``D`` a high percentile of the warm reduced costs
    ``C_ij - f_i - g_j`` over the cost sample, so the first pivots enter the arcs that are tight
    for the warm potentials. Zero-mass sources hang from the root by an arc pointing away from
    it, with a potential low enough that no path through them is cheap.
    """
    pi0 = np.empty(n + m + 1)
    pi0[n + m] = 0.0
    if warm is None:
        pi0[:n] = np.where(a > 0, big_m, -big_m)
        pi0[n : n + m] = -big_m
        return pi0
    fs, g0 = warm
    d = float(np.quantile(sample_reduced, 0.99)) if sample_reduced.size else 0.0
    big_k = 0.5 * max(d, 0.0) + big_m
    zero_mass_pi = -(2.0 * big_k + 2.0 * float(np.abs(fs).max()) + big_m)
    pi0[:n] = np.where(a > 0, fs + big_k, zero_mass_pi)
    pi0[n : n + m] = -(g0 + big_k)
    return pi0


def _artificial_flow_left(parent, pflow, n, m, mass) -> bool:
    on_root = parent[: n + m] == n + m
    return bool(np.any(pflow[: n + m][on_root] > ARTIFICIAL_FLOW_RTOL * mass))


def _run_attempts(solve, a, n, m, cmin, crange, sample, warm, cap):
    """Solve with the robust artificial cost (and the warm potentials, if any); only if an
    artificial arc keeps flow, solve again cold with the always safe ``M = max C - min C``."""
    big_m = _artificial_cost(sample, crange, cmin)
    mass = float(a.sum())
    if warm is not None:
        f0, g0 = warm
        fs = f0 - cmin
        rows, cols = sample_pairs(n, m)
        pi0 = _initial_potentials(a, n, m, big_m, (fs, g0), sample - fs[rows] - g0[cols])
    else:
        pi0 = _initial_potentials(a, n, m, big_m, None, None)
    parent, pflow, pi, status, iterations = solve(pi0, PRICE_RTOL * big_m, cap)
    if (status == STATUS_OPTIMAL and (big_m < crange or warm is not None)
            and _artificial_flow_left(parent, pflow, n, m, mass)):
        big_m = max(big_m, crange)
        pi0 = _initial_potentials(a, n, m, big_m, None, None)
        parent, pflow, pi, status, more = solve(pi0, PRICE_RTOL * big_m, cap - iterations)
        iterations += more
    return parent, pflow, pi, status, iterations, big_m


_STATUS_NAMES = {STATUS_MAX_ITER: "max_iter"}


def _raw(parent, pflow, pi, status, iterations, cap, big_m, n, m, cmin, a, ctransform, solver):
    rows, cols, vals = tree_plan(parent, pflow, n, m)
    f = gauge_potentials(pi[:n] + cmin, a)
    g = ctransform(f)
    if status == STATUS_OPTIMAL:
        name, message = "optimal", ""
    elif status == STATUS_MAX_ITER:
        name = "max_iter"
        message = (f"network simplex hit the iteration cap max_iter={cap} before optimality "
                   "(the result attached is not optimal; raise max_iter)")
    else:
        name, message = "unbounded", "network simplex found an unbounded pivot cycle (numerical trouble)"
    return RawSolution(rows=rows, cols=cols, flows=vals, f=f, g=g, solver=solver, status=name,
                       iterations=int(iterations), message=message, artificial_cost=big_m,
                       c_transformed=True)


def solve_dense_raw(problem: OTProblem, *, warm=None, max_iter: int | None = None,
                    block_size: int | None = None) -> RawSolution:
    """Raw network simplex on a dense problem with strictly positive masses (no validation,
    no certificate). ``warm`` = ``(f, g)`` float64 arrays of the problem's shape."""
    a, b, C = problem.a, problem.b, cast(np.ndarray, problem.C)  # a dense problem: C is set
    n, m = C.shape
    cmin = problem.cost_min
    crange = problem.cost_max - cmin
    cap = default_max_iter(n, m) if max_iter is None else max_iter
    block = default_block_size(n, m) if block_size is None else block_size
    rows, cols = sample_pairs(n, m)
    sample = C[rows, cols] - cmin

    def solve(pi0, tol, budget):
        return solve_dense(a, b, C, cmin, problem.cost_max, pi0, tol, block, budget)

    parent, pflow, pi, status, iterations, big_m = _run_attempts(
        solve, a, n, m, cmin, crange, sample, warm, cap)
    return _raw(parent, pflow, pi, status, iterations, cap, big_m, n, m, cmin, a,
                lambda f: ctransform_cols_dense(C, f, np.arange(m, dtype=np.int64)), "network_simplex")


def solve_points_raw(problem: OTProblem, *, max_iter: int | None = None,
                     block_size: int | None = None) -> RawSolution:
    """Raw network simplex with on-the-fly costs ``d(x_i, y_j)**power`` (memory O(n + m))."""
    # a points problem: x and y are set
    a, b, x, y = problem.a, problem.b, cast(np.ndarray, problem.x), cast(np.ndarray, problem.y)
    code, mp, power = problem.metric_code, problem.minkowski_p, problem.power
    n, m = x.shape[0], y.shape[0]
    cmin = problem.cost_min
    crange = problem.cost_max - cmin
    cap = default_max_iter(n, m) if max_iter is None else max_iter
    block = default_block_size(n, m) if block_size is None else block_size
    sample = problem.sample - cmin

    def solve(pi0, tol, budget):
        return solve_points(a, b, x, y, code, mp, power, cmin, pi0, tol, block, budget)

    parent, pflow, pi, status, iterations, big_m = _run_attempts(
        solve, a, n, m, cmin, crange, sample, None, cap)
    return _raw(parent, pflow, pi, status, iterations, cap, big_m, n, m, cmin, a,
                lambda f: ctransform_cols_points(x, y, code, mp, power, f, np.arange(m, dtype=np.int64)), "network_simplex_points")


def check_network_simplex_options(max_iter, block_size):
    """``max_iter`` an int >= 0, ``block_size`` an int >= 1 (None: defaults)."""
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter", low=0)
    if block_size is not None:
        block_size = check_int(block_size, "block_size", low=1)
    return max_iter, block_size


def warm_potentials(warm_start, n: int, m: int):
    """``warm_start`` (``(f, g)`` or an OTResult) as validated float64 arrays."""
    return _warm_potentials(warm_start, n, m)


def network_simplex(
    a,
    b,
    C,
    *,
    warm_start=None,
    max_iter: int | None = None,
    sparse: bool = False,
    block_size: int | None = None,
    rtol: float = OPTIMALITY_RTOL,
    normalize: bool = False,
) -> OTResult:
    r"""Exact optimal transport cost and plan by the network simplex, certified.

    The same route as ``divkit.emd(a, b, C, method="network_simplex")``: solves
    :math:`\min_{G \ge 0,\ G 1 = a,\ G^T 1 = b} \langle G, C\rangle` with a primal network
    simplex on strongly feasible spanning trees (Ahuja, Magnanti & Orlin 1993, ch. 11) and
    block-search pricing (Bonneel, van de Panne, Paris & Heidrich 2011).

    Parameters
    ----------
    a, b : array_like or None
        Masses (uniform when None); equal totals to ``MASS_RTOL`` unless ``normalize=True``.
    C : array_like of shape (n, m)
        Finite ground costs, any sign and magnitude.
    warm_start : (f, g) or OTResult, optional
        Potentials of a related problem to start from.
    max_iter : int, optional
        Pivot cap (default :func:`default_max_iter`); hitting it raises.
    sparse : bool
        Make :attr:`OTResult.plan` the sparse plan.
    block_size : int, optional
        Pricing block size (default :func:`default_block_size`), a positive int.
    rtol : float
        Tolerance of the strict certificate (:mod:`divkit.ot.result`).
    normalize : bool
        Divide ``a`` and ``b`` by their totals first.

    Returns
    -------
    OTResult

    Raises
    ------
    OptimalityError
        If the pivot cap is hit or the certificate does not show optimality to ``rtol``.

    Examples
    --------
    >>> import numpy as np
    >>> from divkit.ot.solvers.network_simplex import network_simplex
    >>> res = network_simplex([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])
    >>> round(res.cost, 12)
    0.0
    >>> res = network_simplex([1.0, 0.0], [0.5, 0.5], np.array([[1.0, 3.0], [0.0, 0.0]]))
    >>> round(res.cost, 12), res.certificate.is_optimal()
    (2.0, True)
    """
    from ..api import emd

    return emd(a, b, C, method="network_simplex", sparse=sparse, rtol=rtol, normalize=normalize,
               warm_start=warm_start, max_iter=max_iter, block_size=block_size)


def network_simplex_points(
    x,
    y,
    a=None,
    b=None,
    *,
    metric: str = "euclidean",
    power: float = 1.0,
    minkowski_p: float = 2.0,
    max_iter: int | None = None,
    block_size: int | None = None,
    rtol: float = OPTIMALITY_RTOL,
    normalize: bool = False,
) -> OTResult:
    r"""Exact OT between point clouds with on-the-fly costs :math:`c_{ij} = d(x_i, y_j)^{power}`.

    Same algorithm and certificate as :func:`network_simplex`, but the cost matrix is never
    stored: memory is O((n + m) d) instead of 8 n m bytes, at the price of recomputing costs
    during pricing.

    Parameters
    ----------
    x : array_like of shape (n, d)
    y : array_like of shape (m, d)
        Support points (1-D input is points on the line).
    a, b : array_like or None
        Masses (uniform when ``None``), equal totals (or ``normalize=True``).
    metric : {"euclidean", "sqeuclidean", "cityblock", "chebyshev", "minkowski"}, default "euclidean"
        Ground metric ``d``, the default of every divkit function (it was ``"sqeuclidean"``
        here before divkit 0.2; ``metric="sqeuclidean"`` or ``power=2`` gives that cost).
    power : float, default 1
        Exponent applied to the metric (``power=p`` gives the cost of :math:`W_p^p`).
    minkowski_p : float
        The ``p`` of the Minkowski metric.
    max_iter, block_size, rtol, normalize
        As in :func:`network_simplex`.

    Returns
    -------
    OTResult
        With a sparse plan.

    Examples
    --------
    >>> from divkit.ot.solvers.network_simplex import network_simplex_points
    >>> res = network_simplex_points([[0.0], [1.0]], [[0.5], [3.0]])
    >>> round(res.cost, 12)
    1.25
    """
    x = as_points(x, "x")
    y = as_points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y have different dimensions ({x.shape[1]} vs {y.shape[1]})")
    code = _metric_code(metric)
    power = check_scalar(power, "power", low=0.0, low_open=True)
    minkowski_p = check_scalar(minkowski_p, "minkowski_p", low=1.0)
    rtol = check_scalar(rtol, "rtol", low=0.0, low_open=True)
    max_iter, block_size = check_network_simplex_options(max_iter, block_size)
    problem = points_problem(x, y, a, b, code, power, minkowski_p, normalize=normalize)
    return solve_points_problem(problem, rtol=rtol, max_iter=max_iter, block_size=block_size)


def points_problem(x, y, a, b, code, power, minkowski_p, *, normalize=False) -> OTProblem:
    """The point-cloud :class:`OTProblem` (``x``, ``y`` validated), cost range measured in one
    parallel pass."""
    lo, hi = points_cost_range(x, y, code, minkowski_p, power)
    if not math.isfinite(hi - lo):
        raise ValueError("the costs d(x, y)**power overflow float64; rescale x and y")
    return make_points_problem(x, y, a, b, metric_code=code, power=power, minkowski_p=minkowski_p,
                               normalize=normalize, cost_range=(lo, hi))


def solve_points_problem(problem: OTProblem, *, rtol=OPTIMALITY_RTOL, max_iter=None,
                         block_size=None) -> OTResult:
    """Raw points solver on the live atoms, then :func:`~divkit.ot.result.finish`."""
    rows, cols = problem.live_rows, problem.live_cols
    if rows.size == problem.a.size and cols.size == problem.b.size:
        raw = solve_points_raw(problem, max_iter=max_iter, block_size=block_size)
        return finish(problem, raw, rtol=rtol, sparse=True)
    raw = solve_points_raw(problem.restricted(rows, cols), max_iter=max_iter, block_size=block_size)
    return finish(problem, raw, rtol=rtol, sparse=True, live=(rows, cols))


def _metric_code(metric: str) -> int:
    if not isinstance(metric, str) or metric not in METRIC_CODES:
        raise ValueError(f"metric must be one of {sorted(METRIC_CODES)}, got {metric!r}")
    return METRIC_CODES[metric]


__all__ = [
    "PRICE_RTOL",
    "default_block_size",
    "default_max_iter",
    "network_simplex",
    "network_simplex_points",
    "solve_dense_raw",
    "solve_points_raw",
]
