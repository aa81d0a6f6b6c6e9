"""The transport LP in both formulations, solved by HiGHS through :func:`scipy.optimize.linprog`.

Primal (``n m`` variables, ``n + m`` equality rows)::

    min_G  <G, C>   s.t.  sum_j G_ij = a_i,  sum_i G_ij = b_j,  G >= 0

Kantorovich dual (``n + m`` free variables, ``n m`` inequality rows)::

    max_{f,g}  <a, f> + <b, g>   s.t.  f_i + g_j <= C_ij

Each is the other's Lagrange dual: the primal's equality multipliers are the potentials
``(f, g)``, the dual's inequality multipliers are the plan ``G``. Both routes are solved here
independently so that the tests can use each as the other's oracle.

Before HiGHS sees the problem it is rescaled to unit mass and to costs in ``[0, 1]``
(``C' = (C - min C) / (max C - min C)``). HiGHS treats cost coefficients above ``1e20`` as
infinite and works with absolute tolerances, so without this step costs near ``1e30`` or
``1e-30`` would be solved wrongly; negative costs are handled by the same shift. The solution
is mapped back exactly: ``G = mass G'``, ``f = range f' + min C``, ``g = range g'``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..result import OptimalityError, RawSolution

#: Feasibility tolerances handed to HiGHS (on the rescaled problem, whose masses and costs are
#: O(1)). HiGHS's default of 1e-7 can stop ~4e-9 above the optimum at n = 1000
#: (CONVENTIONS.md §3); 1e-10 is the tightest value it accepts.
HIGHS_TOLERANCE = 1e-10

_HIGHS_METHODS = ("highs-ds", "highs-ipm", "highs")


#: HiGHS algorithm per formulation, measured at n = m = 1000 (2-D points, one core): on the
#: primal LP dual simplex takes 18 s and IPM + crossover 35 s; on the dual LP (n m rows) dual
#: simplex takes 264 s and IPM + crossover 29 s. Crossover makes the IPM answer a vertex, so
#: the plan stays basic (at most n + m - 1 non-zeros).
DEFAULT_HIGHS_METHOD = {"highs-primal": "highs-ds", "highs-dual": "highs-ipm"}


def highs_settings(solver: str, *, highs_method=None, tolerance=None, time_limit=None,
                   max_iter=None, presolve=None) -> dict:
    """Validate the HiGHS options once and return ``linprog`` keyword arguments."""
    from ..._validation import check_int, check_scalar

    method = DEFAULT_HIGHS_METHOD[solver] if highs_method is None else highs_method
    if method not in _HIGHS_METHODS:
        raise ValueError(f"highs_method must be one of {list(_HIGHS_METHODS)}, got {method!r}")
    tol = HIGHS_TOLERANCE if tolerance is None else check_scalar(tolerance, "tolerance", low=1e-10,
                                                                 high=1e-3)
    if presolve is not None and not isinstance(presolve, (bool, np.bool_)):
        raise TypeError(f"presolve must be True or False, got {presolve!r}")
    highs = {
        "primal_feasibility_tolerance": tol,
        "dual_feasibility_tolerance": tol,
        "presolve": True if presolve is None else bool(presolve),
    }
    if method == "highs-ipm":
        highs["ipm_optimality_tolerance"] = max(tol, 1e-12)
    if time_limit is not None:
        highs["time_limit"] = check_scalar(time_limit, "time_limit", low=0.0, low_open=True)
    if max_iter is not None:
        highs["maxiter"] = check_int(max_iter, "max_iter", low=1)
    return {"method": method, "options": highs}


def _rescale(a, b, C):
    """Unit mass, costs in [0, 1]; returns what is needed to map the solution back."""
    mass = float(a.sum())
    c_min = float(C.min())
    c_range = float(C.max()) - c_min
    if not np.isfinite(c_range):
        # max - min overflows for costs spanning both signs near the float64 limit
        raise ValueError("C spans a range larger than the float64 maximum; rescale it")
    if c_range > 0:
        C_scaled = (C - c_min) / c_range
    else:
        C_scaled = np.zeros_like(C)
    return a / mass, b / mass, C_scaled, mass, c_min, c_range


def _equality_matrix(n: int, m: int) -> sp.csc_array:
    """``A`` with ``A vec(G) = (G 1, G^T 1)`` for row-major ``vec``; column ``i m + j`` holds
    ones in rows ``i`` and ``n + j``."""
    cols = np.arange(n * m)
    rows = np.empty(2 * n * m, dtype=np.int64)
    rows[0::2] = cols // m
    rows[1::2] = n + cols % m
    indptr = np.arange(0, 2 * n * m + 1, 2)
    return sp.csc_array((np.ones(2 * n * m), rows, indptr), shape=(n + m, n * m))


def _status_error(res, solver: str) -> OptimalityError:
    return OptimalityError(
        f"{solver}: HiGHS stopped without an optimum (status {res.status}: {res.message})"
    )


def solve_primal(a: np.ndarray, b: np.ndarray, C: np.ndarray, settings: dict) -> RawSolution:
    """Primal LP by HiGHS; potentials from the equality-constraint marginals.

    ``a``, ``b`` are float64 with equal totals, ``C`` a float64 ``(n, m)`` array (all already
    validated), ``settings`` from :func:`highs_settings`.
    """
    from scipy.optimize import linprog  # imported on use: scipy.optimize costs ~0.6 s to import

    n, m = C.shape
    a1, b1, C1, mass, c_min, c_range = _rescale(a, b, C)
    res = linprog(
        C1.ravel(),
        A_eq=_equality_matrix(n, m),
        b_eq=np.concatenate([a1, b1]),
        bounds=(0, None),
        **settings,
    )
    if res.status != 0:
        raise _status_error(res, "highs-primal")
    plan = np.maximum(res.x, 0.0).reshape(n, m) * mass
    duals = res.eqlin.marginals
    f = duals[:n] * c_range + c_min
    g = duals[n:] * c_range
    return _result(a, b, C, plan, f, g, "highs-primal", res)


def solve_dual(a: np.ndarray, b: np.ndarray, C: np.ndarray, settings: dict) -> RawSolution:
    """Kantorovich dual LP by HiGHS; the plan from the inequality-constraint marginals."""
    from scipy.optimize import linprog  # imported on use: scipy.optimize costs ~0.6 s to import

    n, m = C.shape
    a1, b1, C1, mass, c_min, c_range = _rescale(a, b, C)
    # row i m + j reads f_i + g_j
    k = np.arange(n * m)
    cols = np.empty(2 * n * m, dtype=np.int64)
    cols[0::2] = k // m
    cols[1::2] = n + k % m
    indptr = np.arange(0, 2 * n * m + 1, 2)
    A_ub = sp.csr_array((np.ones(2 * n * m), cols, indptr), shape=(n * m, n + m))
    # (f + t, g - t) leaves the objective unchanged: pin g_{m-1} = 0 to remove that direction
    bounds = [(None, None)] * (n + m - 1) + [(0.0, 0.0)]
    res = linprog(
        -np.concatenate([a1, b1]),
        A_ub=A_ub,
        b_ub=C1.ravel(),
        bounds=bounds,
        **settings,
    )
    if res.status != 0:
        raise _status_error(res, "highs-dual")
    # linprog minimises -(<a,f> + <b,g>): its multipliers of f_i + g_j <= C_ij are -G_ij <= 0
    plan = np.maximum(-res.ineqlin.marginals, 0.0).reshape(n, m) * mass
    f = res.x[:n] * c_range + c_min
    g = res.x[n:] * c_range
    return _result(a, b, C, plan, f, g, "highs-dual", res)


def _result(a, b, C, plan, f, g, solver, res) -> RawSolution:
    nit = getattr(res, "nit", -1)
    rows, cols = np.nonzero(plan)
    return RawSolution(rows=rows, cols=cols, flows=plan[rows, cols], f=f, g=g, solver=solver,
                       iterations=nit if nit is not None else -1)


__all__ = ["HIGHS_TOLERANCE", "highs_settings", "solve_dual", "solve_primal"]
