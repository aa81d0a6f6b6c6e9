"""Public entry points of exact discrete optimal transport: :func:`emd` and :func:`wasserstein`.

Every route is *problem -> raw solver -> one finisher*: the entry point validates its inputs
and options once and builds one :class:`~divkit.ot.problem.OTProblem`; :func:`solve_problem`
runs one raw solver (:data:`_RAW_SOLVERS`) on the problem's live atoms; and
:func:`divkit.ot.result.finish` restores the zero-mass atoms, centres the potentials, certifies
in one pass and applies the strict check with the caller's ``rtol``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import as_points, check_scalar, power_of_two_scale
from .costs import METRIC_CODES, cost_matrix
from .one_d import wp_1d
from .problem import (
    OTProblem,
    check_flag,
    dense_problem_trusted,
    make_problem,
    probability_weights,
)
from .result import (
    OPTIMALITY_RTOL,
    KRPotential,
    OptimalityError,
    OTResult,
    RawSolution,
    finish,
)
from .solvers import highs
from .solvers.network_simplex import (
    check_network_simplex_options,
    points_problem,
    solve_dense_raw,
    solve_points_problem,
    warm_potentials,
)
from .solvers.pot import solve_pot_raw

#: metrics for which ``d`` satisfies the triangle inequality (Kantorovich–Rubinstein applies)
_TRUE_METRICS = ("euclidean", "cityblock", "chebyshev", "minkowski")

#: the options each method takes (all spelled the same for every method)
_METHOD_OPTIONS = {
    "network_simplex": ("warm_start", "max_iter", "block_size"),
    "highs-primal": ("max_iter", "time_limit", "highs_method", "tolerance", "presolve"),
    "highs-dual": ("max_iter", "time_limit", "highs_method", "tolerance", "presolve"),
    "pot": ("max_iter",),
}

#: what ``method="auto"`` runs: the network simplex is exact and the fastest (benchmarks/exact_ot.py)
_AUTO_METHOD = "network_simplex"


def _resolve_method(method) -> str:
    if method == "auto":
        return _AUTO_METHOD
    if not isinstance(method, str) or method not in _METHOD_OPTIONS:
        raise ValueError(f"method must be 'auto' or one of {sorted(_METHOD_OPTIONS)}, got {method!r}")
    return method


def check_options(function: str, method: str, options: dict) -> dict:
    """Validate the solver options once; returns what the raw solver takes.

    An option the chosen method does not take is a ``TypeError`` naming the public function,
    the method and the options it accepts."""
    given = {k: v for k, v in options.items() if v is not None}
    accepted = _METHOD_OPTIONS[method]
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise TypeError(f"{function}(method={method!r}) does not take option(s) {unknown}; "
                        f"it accepts {list(accepted)}")
    if method == "network_simplex":
        max_iter, block_size = check_network_simplex_options(given.get("max_iter"),
                                                             given.get("block_size"))
        return {"warm_start": given.get("warm_start"), "max_iter": max_iter, "block_size": block_size}
    if method == "pot":
        from .._validation import check_int

        mi = given.get("max_iter")
        return {"max_iter": None if mi is None else check_int(mi, "max_iter", low=1)}
    return {"settings": highs.highs_settings(method, **given)}


#: Costs more than this factor above the median cost (measured from min C) are clipped for a
#: first solve; see :func:`_guarded_raw`.
OUTLIER_CLIP_FACTOR = 1e6

#: A first HiGHS answer whose potentials violate some constraint by more than this fraction of
#: ``max C - min C`` is refined once on its reduced costs.
REFINE_THRESHOLD = 1e-14


def _guarded_raw(solve, a, b, C, settings) -> RawSolution:
    """HiGHS or POT with the two safeguards their absolute tolerances need (both solve costs
    rescaled to [0, 1]).

    1. Clipping: next to a few "forbidden" entries (1e20), ordinary costs would rescale below
       HiGHS's tolerance. Solve first with ``C_clip = min(C, min C + K)``, ``K =
       OUTLIER_CLIP_FACTOR * median(C - min C)``; since ``C >= C_clip``, a plan optimal for
       ``C_clip`` that ships nothing on a clipped arc is optimal for ``C``.
    2. Refinement: if the potentials violate a constraint by more than ``REFINE_THRESHOLD``
       of the cost range, solve once more on the reduced costs ``R = C - f - g`` (clipped the
       same way), which are ~0 on the arcs that matter and so are seen at full resolution;
       kept only if its violation is smaller.
    The finisher certifies whatever comes out.
    """
    c_min = float(C.min())
    spread = float(np.median(C - c_min))
    limit = c_min + OUTLIER_CLIP_FACTOR * spread
    raw = None
    if spread > 0 and limit < float(C.max()):
        clipped = solve(a, b, np.minimum(C, limit), settings)
        if not np.any(C[clipped.rows, clipped.cols][clipped.flows > 0] > limit):
            raw = clipped
    if raw is None:
        raw = solve(a, b, C, settings)
    R = C - raw.f[:, None] - raw.g[None, :]
    viol = float(-R.min())
    crange = float(C.max()) - c_min
    if viol <= REFINE_THRESHOLD * max(crange, float(np.finfo(float).tiny)):
        return raw
    limit = OUTLIER_CLIP_FACTOR * viol
    try:
        second = solve(a, b, np.minimum(R, limit), settings)
    except OptimalityError:
        return raw
    if np.any(R[second.rows, second.cols][second.flows > 0] > limit):
        return raw
    f2 = raw.f + second.f
    g2 = raw.g + second.g
    if float(-(C - f2[:, None] - g2[None, :]).min()) >= viol:
        return raw
    return dataclasses.replace(second, f=f2, g=g2, iterations=raw.iterations + second.iterations)


def _raw_solve(problem: OTProblem, method: str, options: dict) -> RawSolution:
    if method == "network_simplex":
        return solve_dense_raw(problem, warm=options.get("warm"), max_iter=options["max_iter"],
                               block_size=options["block_size"])
    if method == "pot":
        return _guarded_raw(lambda a, b, C, s: solve_pot_raw(a, b, C, max_iter=s), problem.a,
                            problem.b, problem.C, options["max_iter"])
    solve = highs.solve_primal if method == "highs-primal" else highs.solve_dual
    return _guarded_raw(solve, problem.a, problem.b, problem.C, options["settings"])


def solve_problem(problem: OTProblem, method: str, options: dict, *, rtol: float,
                  sparse: bool = False) -> OTResult:
    """Run one raw solver on the problem's live atoms and :func:`~divkit.ot.result.finish`.

    ``options`` come from :func:`check_options`; a ``warm_start`` is restricted to the live
    atoms here (so it works with zero-mass atoms)."""
    rows, cols = problem.live_rows, problem.live_cols
    whole = rows.size == problem.a.size and cols.size == problem.b.size
    options = dict(options)
    warm = options.pop("warm_start", None)
    if warm is not None:
        f0, g0 = warm_potentials(warm, *problem.shape)
        options["warm"] = (f0, g0) if whole else (np.ascontiguousarray(f0[rows]),
                                                  np.ascontiguousarray(g0[cols]))
    if whole:
        return finish(problem, _raw_solve(problem, method, options), rtol=rtol, sparse=sparse)
    raw = _raw_solve(problem.restricted(rows, cols), method, options)
    return finish(problem, raw, rtol=rtol, sparse=sparse, live=(rows, cols))


def emd(a, b, C, *, method: str = "auto", sparse: bool = False, rtol: float = OPTIMALITY_RTOL,
        normalize: bool = False, warm_start=None, max_iter: int | None = None,
        block_size: int | None = None, time_limit: float | None = None,
        highs_method: str | None = None, tolerance: float | None = None,
        presolve: bool | None = None) -> OTResult:
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
        Target masses. Weight rule: ``sum(b)`` must equal ``sum(a)`` to relative tolerance
        ``MASS_RTOL`` = 1e-7 (``b`` is then rescaled to ``sum(a)``), unless
        ``normalize=True``, which divides both by their totals. Totals other than 1 are
        allowed (the LP is homogeneous in the mass).
    C : array_like of shape (n, m)
        Finite ground costs, any sign and magnitude.
    method : {"auto", "network_simplex", "highs-primal", "highs-dual", "pot"}
        ``"network_simplex"`` (what ``"auto"`` runs) is divkit's numba network simplex;
        ``"highs-primal"`` / ``"highs-dual"`` solve the primal / dual LP with HiGHS;
        ``"pot"`` calls POT's ``ot.emd`` on the costs mapped to [0, 1]. Whatever the method,
        the answer goes through the same finisher and strict certificate.
    sparse : bool, default False
        Make :attr:`OTResult.plan` the ``scipy.sparse.coo_array`` plan (``sparse_plan`` is
        always available; the dense plan is only built when asked for).
    rtol : float, default 1e-9
        Tolerance of the strict certificate (:mod:`divkit.ot.result`): the bound on
        ``cost - OPT`` relative to the cost (floored), and per-atom mass residuals.
    normalize : bool, default False
        Divide ``a`` and ``b`` by their totals.
    warm_start : (f, g) or OTResult, optional
        Network simplex: potentials of a related problem (full size, zero-mass atoms
        included).
    max_iter : int, optional
        Iteration cap, every method (network simplex pivots, HiGHS iterations, POT's
        ``numItermax``). Hitting it raises :class:`OptimalityError`.
    block_size : int, optional
        Network simplex pricing block, a positive int.
    time_limit : float, optional
        HiGHS: seconds, ``> 0``.
    highs_method : {"highs-ds", "highs-ipm", "highs"}, optional
        HiGHS algorithm (defaults: dual simplex for the primal LP, IPM + crossover for the dual).
    tolerance : float, optional
        HiGHS feasibility tolerance in [1e-10, 1e-3] (default 1e-10).
    presolve : bool, optional
        HiGHS presolve (default True).

    Returns
    -------
    OTResult
        ``cost`` = ``<plan, C>``; potentials centred so that ``<a, f> = <b, g>``; zero-mass
        points carry the c-transform potential; ``problem`` keeps the validated problem.

    Raises
    ------
    OptimalityError
        The solver stopped early or its answer failed the strict certificate.
    TypeError
        An option the chosen method does not take (the message names the method).

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
    rtol = check_scalar(rtol, "rtol", low=0.0, low_open=True)
    name = _resolve_method(method)
    sparse = check_flag(sparse, "sparse")
    options = check_options("emd", name, {
        "warm_start": warm_start, "max_iter": max_iter, "block_size": block_size,
        "time_limit": time_limit, "highs_method": highs_method, "tolerance": tolerance,
        "presolve": presolve})
    problem = make_problem(a, b, C, normalize=normalize)
    return solve_problem(problem, name, options, rtol=rtol, sparse=sparse)


def _kr_potential(xs, ys, g, aw, bw, metric, minkowski_p) -> KRPotential:
    phi_x = (cost_matrix(xs, ys, metric, minkowski_p) - g).min(axis=1)
    phi_y = (cost_matrix(ys, ys, metric, minkowski_p) - g).min(axis=1)
    return KRPotential(phi_x=phi_x, phi_y=phi_y, value=float(aw @ phi_x) - float(bw @ phi_y))


def kantorovich_rubinstein_potential(x, y, result: OTResult, a=None, b=None, *, metric: str = "euclidean",
                                     minkowski_p: float = 2.0) -> KRPotential:
    r"""Kantorovich–Rubinstein potential from an optimal W_1 solution.

    For a metric ``d``, ``W_1(mu, nu) = max { sum_i a_i phi(x_i) - sum_j b_j phi(y_j) :
    phi 1-Lipschitz }`` (Kantorovich–Rubinstein duality; Villani 2009, Remark 6.5). From optimal
    LP potentials ``(f, g)`` for ``C_ij = d(x_i, y_j)``, the c-transform

    .. math:: \phi(z) = \min_j\, d(z, y_j) - g_j

    is 1-Lipschitz, ``phi(x_i) >= f_i`` and ``-phi(y_j) >= g_j``, hence it attains the maximum.

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

    Returns
    -------
    KRPotential

    Examples
    --------
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
    aw = probability_weights(a, xs.shape[0], "a", normalize=True)
    bw = probability_weights(b, ys.shape[0], "b", normalize=True)
    return _kr_potential(xs, ys, g, aw, bw, metric, minkowski_p)


def _centred_transport_cost(result: OTResult) -> float:
    """``<plan, C>`` for a plan of total mass 1, accumulated as deviations from the cost on
    the heaviest arc: plans that move all mass at one cost (a pure translation) return that
    cost exactly."""
    coo = result.sparse_plan
    assert result.problem is not None  # results of finish() carry their problem
    on = result.problem.costs_at(coo.row, coo.col)
    k = int(np.argmax(coo.data))
    ref = float(on[k])
    return ref + float(coo.data @ (on - ref))


#: Above this many cost entries (1 GiB of float64), ``wasserstein(method="auto")`` never
#: materialises the cost matrix and runs the network simplex with on-the-fly costs.
DENSE_COST_LIMIT = 2**27

#: ``wasserstein(method="auto")`` with the Euclidean ground metric in at most
#: ``MULTISCALE_MAX_DIM`` dimensions and at least ``MULTISCALE_MIN_PAIRS`` pairs runs the
#: multiscale sparse solver (:mod:`divkit.ot.solvers.multiscale`), certified over all pairs by the same
#: finisher; its result's ``solver`` is ``"multiscale-network-simplex"``. At 1024 x 1024 points it
#: is 3-5x faster than the dense network simplex, 25-70x at 4096 (``benchmarks/large_ot.py``).
MULTISCALE_MIN_PAIRS = 2**20
MULTISCALE_MAX_DIM = 3


@dataclasses.dataclass(frozen=True, eq=False)
class WassersteinResult(OTResult):
    """:class:`OTResult` of :func:`wasserstein`: the problem was solved for the points divided
    by ``length_scale`` (an exact power of two, so that ``d^p`` neither overflows nor
    underflows); ``cost`` is ``W_p^p`` at that scale and ``distance`` is ``W_p`` in the
    caller's units (equal to the float :func:`wasserstein` returns)."""

    length_scale: float = 1.0
    distance: float = float("nan")


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
    normalize: bool = False,
    rtol: float = OPTIMALITY_RTOL,
):
    r"""Exact p-Wasserstein distance between two weighted point clouds.

    .. math::

        W_p(\mu, \nu) = \Bigl(\min_{\Gamma \in \Pi(a, b)} \sum_{ij}
            \Gamma_{ij}\, d(x_i, y_j)^p\Bigr)^{1/p}

    solved exactly (certified, as :func:`emd`). Returns ``W_p`` itself, not ``W_p^p``.

    Parameters
    ----------
    x, y : array_like of shape (n, d), (m, d)
        Support points (1-D input is points on the line).
    a, b : array_like, optional
        Probability weights (default uniform). Weight rule: each must sum to 1 within
        ``SUM_ATOL`` = 1e-6 (as divkit's divergences), unless ``normalize=True``, which
        divides each by its total.
    p : float, default 1
        Order, ``p >= 1``.
    metric : {"euclidean", "cityblock", "chebyshev", "minkowski"}
        Ground metric ``d``; the cost is ``d^p``.
    method : {"auto", "network_simplex", "highs-primal", "highs-dual", "pot"}
        Exact solver (see :func:`emd`). ``"auto"`` uses the quantile formula
        (:func:`wasserstein_1d`) for 1-D input when ``return_result=False``; the multiscale
        sparse solver (:mod:`divkit.ot.solvers.multiscale`, certified over all pairs) for the
        Euclidean metric in 1-3 dimensions with at least ``MULTISCALE_MIN_PAIRS`` = 2**20
        pairs; the network simplex with on-the-fly costs when the cost matrix would exceed
        ``DENSE_COST_LIMIT`` entries (1 GiB); and the network simplex on the dense cost matrix
        otherwise. The result's ``solver`` says which ran.
    return_result : bool, default False
        Return a :class:`WassersteinResult` (same route, same rescaling: its ``distance``
        equals the float) instead of the float. For ``p = 1`` its ``kr_potential`` holds the
        Kantorovich–Rubinstein potential at the solved scale.
    minkowski_p : float, default 2
        Exponent of the Minkowski metric.
    normalize : bool, default False
        Divide the weights by their totals.
    rtol : float, default 1e-9
        Tolerance of the strict certificate.

    Returns
    -------
    float or WassersteinResult

    Examples
    --------
    >>> from divkit import wasserstein
    >>> x = [[0.0, 0.0], [0.0, 1.0]]
    >>> y = [[0.7, 0.0], [0.7, 1.0]]
    >>> wasserstein(x, y, p=1)
    0.7
    >>> round(wasserstein(x, y, p=2), 12)
    0.7
    >>> round(wasserstein([[0.0]], [[1.0], [3.0]], a=[2.0], b=[1.0, 1.0], normalize=True), 12)
    2.0
    """
    xs = as_points(x, "x")
    ys = as_points(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {xs.shape[1]} and {ys.shape[1]}")
    p = check_scalar(p, "p", low=1.0)
    rtol = check_scalar(rtol, "rtol", low=0.0, low_open=True)
    if not isinstance(metric, str) or metric not in METRIC_CODES:
        raise ValueError(f"metric must be one of {sorted(METRIC_CODES)}, got {metric!r}")
    if metric == "sqeuclidean":
        raise ValueError("metric='sqeuclidean' is not a metric; for W_2 use metric='euclidean', p=2")
    if metric == "minkowski":
        minkowski_p = check_scalar(minkowski_p, "minkowski_p", low=1.0)
    return_result = check_flag(return_result, "return_result")
    name = _resolve_method(method)
    aw = probability_weights(a, xs.shape[0], "a", normalize=normalize)
    bw = probability_weights(b, ys.shape[0], "b", normalize=normalize)
    if xs.shape[1] == 1 and method == "auto" and not return_result:
        return wp_1d(xs[:, 0], ys[:, 0], None if a is None else aw, None if b is None else bw, p)
    # W_p is homogeneous of degree 1: solve at unit scale (an exact power-of-two rescaling)
    # so that d^p neither overflows nor underflows; the result route is the same
    scale = power_of_two_scale(xs, ys)
    if scale != 1.0:
        xs, ys = xs / scale, ys / scale
    if (method == "auto" and metric == "euclidean" and xs.shape[1] <= MULTISCALE_MAX_DIM
            and xs.shape[0] * ys.shape[0] >= MULTISCALE_MIN_PAIRS):
        from .solvers.multiscale import finish_multiscale, solve_multiscale

        a1, b1 = aw / aw.sum(), bw / bw.sum()
        solution = solve_multiscale(xs, ys, a1, b1, p=p)
        result = finish_multiscale(xs, ys, a1, b1, solution, p, rtol)
    elif method == "auto" and xs.shape[0] * ys.shape[0] > DENSE_COST_LIMIT:
        problem = points_problem(xs, ys, aw, bw, METRIC_CODES[metric], p, minkowski_p)
        result = solve_points_problem(problem, rtol=rtol)
    else:
        C = cost_matrix(xs, ys, metric, minkowski_p)
        if p != 1.0:
            np.power(C, p, out=C)
        problem = dense_problem_trusted(aw, bw * (aw.sum() / bw.sum()), C, check_finite=True)
        result = solve_problem(problem, name, check_options("wasserstein", name, {}), rtol=rtol,
                               sparse=not return_result)
    distance = scale * max(_centred_transport_cost(result), 0.0) ** (1.0 / p)
    if not return_result:
        return distance
    kr = None
    if p == 1.0:
        kr = _kr_potential(xs, ys, result.g, aw, bw, metric, minkowski_p)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(OTResult)}
    fields["kr_potential"] = kr
    return WassersteinResult(**fields, length_scale=scale, distance=distance)


__all__ = [
    "WassersteinResult",
    "check_options",
    "emd",
    "kantorovich_rubinstein_potential",
    "solve_problem",
    "wasserstein",
]
