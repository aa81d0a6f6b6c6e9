"""Results of exact OT, their certificate, and the one finisher every route goes through.

The transport LP (CONVENTIONS.md §3)::

    primal:  min_G <G, C>           s.t.  G 1 = a,  G^T 1 = b,  G >= 0
    dual:    max_{f,g} <a,f> + <b,g> s.t.  f_i + g_j <= C_ij

A raw solver (:mod:`divkit.ot.solvers`) returns a :class:`RawSolution` (sparse plan, ``f``,
``g``, status, iterations) for an :class:`~divkit.ot.problem.OTProblem`. :func:`finish` is
the only place that turns it into an :class:`OTResult`: it restores zero-mass atoms with
c-transform potentials, centres the potentials, runs one certificate pass over the costs and
applies the strict optimality check with the caller's ``rtol``, raising
:class:`OptimalityError` otherwise.

The strict check (why it is scale-robust)
-----------------------------------------
With ``v_ij = max(0, f_i + g_j - C_ij)`` the dual violations, weak duality gives, for the
optimal plan ``G*``, ``OPT >= <a,f> + <b,g> - <G*, v>``. divkit measures
``V = max_ij v_ij / max(|C_ij| + |f_i| + |g_j|, floor / mass)`` (each violation against the
numbers that make up that very constraint, so a huge entry elsewhere in ``C`` cannot hide
it) and bounds

    primal - OPT(r, c)  <=  B = |primal - <r, f> - <c, g>| + min(V S, mass max_ij v_ij) + ROUNDING S,
    S = sum_ij G_ij |C_ij| + sum_i a_i |f_i| + sum_j b_j |g_j|,

with ``r, c`` the plan's marginals (their distance to ``a, b`` is the separate mass
residual), where ``ROUNDING`` = ``2**-53`` covers the rounding of the products (the sums are exactly
rounded, ``math.fsum``) (``S`` is the magnitude of the terms that
form the primal and dual values; ``<G*, |C|>`` is taken equal to ``<G, |C|>``). The cost
residual is ``B / max(|primal|, floor)``: relative to the cost itself, with the absolute
floor ``floor = total_mass * q`` (``q`` = 1 % quantile of the non-zero ``|C_ij|`` in a fixed
sample, :attr:`OTProblem.cost_floor`). A plan whose gap is comparable to its cost, or whose
potentials are so large that the sums lose the cost's digits, is never labelled optimal.
Mass residuals are per atom: ``|(G 1)_i - a_i| / max(a_i, MASS_FLOOR * total_mass)``, so an
atom of mass 1e-11 that ships nothing fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import numba
import numpy as np
import scipy.sparse as sp
from numba import prange

from divkit._numba import parallel_kernel

from .problem import OTProblem, point_cost

#: Default ``rtol`` of every exact OT route.
OPTIMALITY_RTOL = 1e-9

#: Rounding allowance relative to the magnitude ``S`` of the terms of the primal and dual
#: sums: the unit roundoff ``u = 2**-53`` (the sums themselves are exactly rounded with
#: ``math.fsum``, so what is left is one rounding per product).
ROUNDING = np.finfo(np.float64).eps / 2

#: A violation ``f_i + g_j - C_ij`` within this fraction of ``|C_ij| + |f_i| + |g_j|`` is the
#: rounding of that very constraint (float64 cannot decide it) and does not count in ``V``.
DUAL_ROUNDING = 16 * np.finfo(np.float64).eps

#: Mass residuals are measured per atom against ``max(mass_i, MASS_FLOOR * total_mass)``.
MASS_FLOOR = 1e-4

#: status of a :class:`RawSolution`
STATUS_OPTIMAL = "optimal"


class OptimalityError(RuntimeError):
    """A route stopped without a certified optimum (iteration cap, time limit, numerical
    trouble, or a certificate that does not reach ``rtol``).

    ``result`` holds the non-optimal answer and its certificate for inspection.
    """

    def __init__(self, message: str, result: OTResult | None = None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Certificate:
    """Evidence that a plan and a pair of potentials are optimal (see the module docstring).

    Attributes
    ----------
    primal_value, dual_value : float
        ``<G, C>`` and ``<a, f> + <b, g>``.
    marginal_error : float
        ``max(||G 1 - a||_inf, ||G^T 1 - b||_inf)``.
    negative_mass : float
        ``max(0, -min G_ij)``.
    dual_infeasibility : float
        ``max(0, max_ij f_i + g_j - C_ij)`` (absolute).
    duality_gap : float
        ``|primal_value - dual_value|``.
    complementary_slackness : float
        ``sum_ij G_ij |C_ij - f_i - g_j|``.
    scale : float
        ``total_mass * max|C|`` (reported only; not a yardstick).
    total_mass : float
        ``sum a``.
    magnitude : float
        ``S`` above.
    relative_dual_violation : float
        ``V`` above.
    cost_floor : float
        The absolute floor of the cost yardstick.
    mass_residual : float
        The worst per-atom relative marginal error.
    significant_dual_violation : float
        ``max v_ij`` over the violations beyond ``DUAL_ROUNDING`` (absolute).
    plan_gap : float
        ``|<G, C> - <G 1, f> - <G^T 1, g>|``: the duality gap for the plan's own marginals
        (the marginals' rounding, measured by ``mass_residual``, does not enter it).
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
    magnitude: float = 0.0
    relative_dual_violation: float = 0.0
    cost_floor: float = 0.0
    mass_residual: float = 0.0
    significant_dual_violation: float = 0.0
    plan_gap: float = 0.0

    @property
    def cost_error_bound(self) -> float:
        """``B``: a bound on ``primal_value - OPT`` (up to rounding)."""
        # <G*, v> <= min(V <G*, w>, total_mass * max v): both bounds hold, the first is the
        # one that survives huge entries, the second the one that survives tiny potentials
        violation = min(self.relative_dual_violation * self.magnitude,
                        self.total_mass * self.significant_dual_violation)
        return float(self.plan_gap + violation + ROUNDING * self.magnitude)

    @property
    def cost_residual(self) -> float:
        """``B / max(|primal_value|, cost_floor)``."""
        yard = max(abs(self.primal_value), self.cost_floor)
        if not yard > 0:
            return 0.0 if self.cost_error_bound == 0 else math.inf
        return self.cost_error_bound / yard

    def worst_relative_residual(self) -> float:
        """The largest of the cost residual, the mass residual and negative mass / total."""
        neg = self.negative_mass / self.total_mass if self.total_mass > 0 else 0.0
        return float(max(self.cost_residual, self.mass_residual, neg))

    def is_optimal(self, rtol: float = OPTIMALITY_RTOL) -> bool:
        """True when :meth:`worst_relative_residual` is at most ``rtol``."""
        return self.worst_relative_residual() <= rtol


@dataclass(frozen=True)
class RawSolution:
    """What a raw solver returns: a sparse plan on its problem, potentials, status.

    Raw solvers neither validate, certify nor centre; :func:`finish` does all three.
    ``status`` is ``"optimal"`` or a short reason (``"max_iter"``, ``"time_limit"``, ...) with a
    ``message`` for the user.
    """

    rows: np.ndarray
    cols: np.ndarray
    flows: np.ndarray
    f: np.ndarray
    g: np.ndarray
    solver: str
    status: str = STATUS_OPTIMAL
    iterations: int = -1
    message: str = ""
    artificial_cost: float | None = None
    #: True when ``g`` is already the c-transform of ``f`` (dual-feasible by construction);
    #: otherwise the finisher replaces ``(f, g)`` by ``(g^c, f^c)`` (two passes over C), which
    #: removes the solver's tolerance-level violations.
    c_transformed: bool = False


@dataclass(frozen=True, eq=False)
class OTResult:
    """Solution of an exact discrete OT problem, certified by :func:`finish`.

    Attributes
    ----------
    cost : float
        ``<G, C>`` (for ``C = d^p`` this is ``W_p^p``).
    sparse_plan : scipy.sparse.coo_array of shape (n, m)
        The plan's non-zeros (a basic plan has at most ``n + m - 1``).
    f, g : ndarray
        Potentials, centred (``<a, f> == <b, g>``); zero-mass atoms carry the c-transform.
    certificate : Certificate
    solver : str
    iterations : int
        Pivots / solver iterations (-1 when unknown).
    problem : OTProblem
        The validated problem (marginals, costs), kept for re-certification.
    sparse : bool
        Whether :attr:`plan` is the sparse or the dense plan.
    artificial_cost : float or None
        Network simplex: the artificial arcs' cost actually used.
    kr_potential : KRPotential or None
        Kantorovich–Rubinstein potential (``wasserstein``, ``p = 1``).

    Equality is identity (``==`` never raises on array fields).
    """

    cost: float
    sparse_plan: sp.coo_array
    f: np.ndarray
    g: np.ndarray
    certificate: Certificate
    solver: str
    iterations: int = -1
    problem: OTProblem | None = field(default=None, repr=False)
    sparse: bool = False
    artificial_cost: float | None = field(default=None, repr=False)
    kr_potential: object = field(default=None, repr=False)

    @property
    def plan(self):
        """The plan: the sparse plan if the call asked for ``sparse=True``, else the dense
        ``(n, m)`` array (built on first access, then cached)."""
        return self.sparse_plan if self.sparse else self.dense_plan()

    def dense_plan(self) -> np.ndarray:
        """The plan as a dense ``(n, m)`` array (cached)."""
        cached = self.__dict__.get("_dense")
        if cached is None:
            cached = self.sparse_plan.toarray()
            object.__setattr__(self, "_dense", cached)
        return cached

    @property
    def dual_value(self) -> float:
        return self.certificate.dual_value

    @property
    def b_rescaled(self) -> bool:
        """Whether ``b`` was rescaled to ``sum(a)`` (within ``MASS_RTOL``) or normalised."""
        return bool(self.problem.b_rescaled) if self.problem is not None else False

    @property
    def a(self) -> np.ndarray:
        # problem is set by finish(); a hand-built result without one raises AttributeError as before
        return cast(OTProblem, self.problem).a

    @property
    def b(self) -> np.ndarray:
        return cast(OTProblem, self.problem).b  # as in a

    def __repr__(self) -> str:
        cert = self.certificate
        return (f"OTResult(cost={self.cost!r}, solver={self.solver!r}, iterations={self.iterations}, "
                f"gap={cert.duality_gap:.3g}, marginal_error={cert.marginal_error:.3g}, "
                f"dual_infeasibility={cert.dual_infeasibility:.3g})")


def centre_potentials(a: np.ndarray, b: np.ndarray, f: np.ndarray, g: np.ndarray):
    """Shift ``(f, g) -> (f + c, g - c)`` so that ``<a, f> == <b, g>`` (the constraints and the
    dual objective are unchanged)."""
    c = (float(b @ g) - float(a @ f)) / (float(a.sum()) + float(b.sum()))
    return f + c, g - c


@parallel_kernel(lambda C, f, g, floor: C.size, cache=True)
def _dense_dual_pass(C, f, g, floor):
    """One pass over ``C``: ``max(f_i + g_j - C_ij)``, ``V`` and the largest significant
    violation (``max|C|`` is the problem's ``max(|cost_min|, |cost_max|)``, measured when it was
    validated).

    The row sweep keeps four independent max-accumulators (a single chain of ``max`` is
    latency-bound, about 2x slower); the relative violations are only evaluated on the rare
    rows holding a positive ``f_i + g_j - C_ij``. Maxima are exact, so the result does not
    depend on the thread count."""
    n, m = C.shape
    viol = np.full(n, -np.inf)
    rel = np.zeros(n)
    sig = np.zeros(n)
    m4 = m - m % 4
    for i in prange(n):
        fi = f[i]
        row = C[i]
        w0 = w1 = w2 = w3 = -np.inf
        for j in range(0, m4, 4):
            w0 = max(w0, fi + g[j] - row[j])
            w1 = max(w1, fi + g[j + 1] - row[j + 1])
            w2 = max(w2, fi + g[j + 2] - row[j + 2])
            w3 = max(w3, fi + g[j + 3] - row[j + 3])
        for j in range(m4, m):
            w0 = max(w0, fi + g[j] - row[j])
        w = max(max(w0, w1), max(w2, w3))
        viol[i] = w
        if w > 0:
            afi = abs(fi)
            r = 0.0
            big = 0.0
            for j in range(m):
                t = fi + g[j] - row[j]
                if t > 0:
                    q = t / max(abs(row[j]) + afi + abs(g[j]), floor)
                    if q > DUAL_ROUNDING:
                        r = max(r, q)
                        big = max(big, t)
            rel[i] = r
            sig[i] = big
    return viol.max(), rel.max(), sig.max()


@parallel_kernel(lambda x, y, *_: x.size * y.shape[0], cache=True)
def _points_dual_pass(x, y, code, minkowski_p, power, f, g, floor):
    n = x.shape[0]
    m = y.shape[0]
    cabs = np.zeros(n)
    viol = np.full(n, -np.inf)
    rel = np.zeros(n)
    sig = np.zeros(n)
    for i in prange(n):
        big = 0.0
        ca = 0.0
        w = -np.inf
        r = 0.0
        fi = f[i]
        afi = abs(fi)
        for j in range(m):
            c = point_cost(x, i, y, j, code, minkowski_p, power)
            ac = abs(c)
            ca = max(ca, ac)
            t = fi + g[j] - c
            w = max(w, t)
            if t > 0:
                q = t / max(ac + afi + abs(g[j]), floor)
                if q > DUAL_ROUNDING:
                    r = max(r, q)
                    big = max(big, t)
        cabs[i] = ca
        viol[i] = w
        rel[i] = r
        sig[i] = big
    return cabs.max(), viol.max(), rel.max(), sig.max()


@parallel_kernel(lambda C, g, rows, cols: rows.size * cols.size, cache=True)
def _ctransform_rows_dense(C, g, rows, cols):
    """``f_i = min_{j in cols} C_ij - g_j`` for ``i in rows``."""
    out = np.empty(rows.shape[0])
    for k in prange(rows.shape[0]):
        best = np.inf
        for j in cols:
            t = C[rows[k], j] - g[j]
            best = min(best, t)
        out[k] = best
    return out


def ctransform_cols_dense(C, f, cols):
    """``g_j = min_i C_ij - f_i`` for ``j in cols`` (every ``f_i`` already set; ``cols``
    increasing): parallel over as many chunks of ``cols`` as there are threads, each sweeping
    the rows of the row-major ``C``. A chunk of consecutive columns is swept as a contiguous
    slice of each row (vectorised: about 3x faster than the gather). A min is exact, so the
    result does not depend on the chunking or the thread count."""
    return _ctransform_cols_dense(C, f, cols, max(1, min(cols.shape[0], numba.get_num_threads())))


@parallel_kernel(lambda C, f, cols, n_chunks: C.shape[0] * cols.size, cache=True)
def _ctransform_cols_dense(C, f, cols, n_chunks):
    k_total = cols.shape[0]
    out = np.full(k_total, np.inf)
    for c in prange(n_chunks):
        k0 = c * k_total // n_chunks
        k1 = (c + 1) * k_total // n_chunks
        if k1 <= k0:
            continue
        j0 = cols[k0]
        contiguous = True
        for k in range(k0, k1):
            if cols[k] != j0 + (k - k0):
                contiguous = False
                break
        if contiguous:
            width = k1 - k0
            for i in range(C.shape[0]):
                fi = f[i]
                row = C[i, j0 : j0 + width]
                for k in range(width):
                    t = row[k] - fi
                    out[k0 + k] = t if t < out[k0 + k] else out[k0 + k]
        else:
            for i in range(C.shape[0]):
                fi = f[i]
                for k in range(k0, k1):
                    out[k] = min(out[k], C[i, cols[k]] - fi)
    return out


@parallel_kernel(lambda x, y, code, minkowski_p, power, g, rows, cols: rows.size * cols.size * x.shape[1], cache=True)
def _ctransform_rows_points(x, y, code, minkowski_p, power, g, rows, cols):
    out = np.empty(rows.shape[0])
    for k in prange(rows.shape[0]):
        best = np.inf
        for j in cols:
            t = point_cost(x, rows[k], y, j, code, minkowski_p, power) - g[j]
            best = min(best, t)
        out[k] = best
    return out


@parallel_kernel(lambda x, y, code, minkowski_p, power, f, cols: x.size * cols.size, cache=True)
def ctransform_cols_points(x, y, code, minkowski_p, power, f, cols):
    out = np.empty(cols.shape[0])
    for k in prange(cols.shape[0]):
        best = np.inf
        for i in range(x.shape[0]):
            t = point_cost(x, i, y, cols[k], code, minkowski_p, power) - f[i]
            best = min(best, t)
        out[k] = best
    return out


def _restore_zero_mass(problem: OTProblem, f: np.ndarray, g: np.ndarray):
    """Zero-mass rows get ``f_i = min_{live j} C_ij - g_j``, then zero-mass columns
    ``g_j = min_i C_ij - f_i``: (f, g) stays dual-feasible everywhere."""
    a, b = problem.a, problem.b
    zero_rows = np.flatnonzero(a == 0)
    zero_cols = np.flatnonzero(b == 0)
    live_cols = np.flatnonzero(b > 0)
    if problem.C is not None:
        if zero_rows.size:
            f[zero_rows] = _ctransform_rows_dense(problem.C, g, zero_rows, live_cols)
        if zero_cols.size:
            g[zero_cols] = ctransform_cols_dense(problem.C, f, zero_cols)
    else:
        args = (problem.x, problem.y, problem.metric_code, problem.minkowski_p, problem.power)
        if zero_rows.size:
            f[zero_rows] = _ctransform_rows_points(*args, g, zero_rows, live_cols)
        if zero_cols.size:
            g[zero_cols] = ctransform_cols_points(*args, f, zero_cols)
    return f, g


def _tighten(problem: OTProblem, f: np.ndarray):
    """``g = f^c`` over every row, then ``f = g^c`` over every column: exactly dual-feasible
    potentials (up to rounding) whose dual value is at least that of a feasible ``(f, g)``."""
    every_col = np.arange(problem.shape[1], dtype=np.int64)
    every_row = np.arange(problem.shape[0], dtype=np.int64)
    if problem.C is not None:
        g = ctransform_cols_dense(problem.C, f, every_col)
        return _ctransform_rows_dense(problem.C, g, every_row, every_col), g
    args = (problem.x, problem.y, problem.metric_code, problem.minkowski_p, problem.power)
    g = ctransform_cols_points(*args, f, every_col)
    return _ctransform_rows_points(*args, g, every_row, every_col), g


def _certificate(problem: OTProblem, rows, cols, vals, f, g, dual_pass=None) -> Certificate:
    """The one certificate pass (one sweep over ``C``, over all pairs on the fly, or the
    caller's exact pruned all-pairs pass ``dual_pass``; see :func:`finish`)."""
    a, b = problem.a, problem.b
    n, m = problem.shape
    mass = problem.total_mass
    c_on = problem.costs_at(rows, cols)
    row_sums = np.bincount(rows, weights=vals, minlength=n)
    col_sums = np.bincount(cols, weights=vals, minlength=m)
    primal = math.fsum(vals * c_on)
    slack = float(vals @ np.abs(c_on - f[rows] - g[cols]))
    dual = math.fsum(np.concatenate([a * f, b * g]))
    dual_on_plan = math.fsum(np.concatenate([row_sums * f, col_sums * g]))
    floor = problem.cost_floor / mass if mass > 0 else 1.0
    if dual_pass is not None:
        cabs, infeas, rel, sig = dual_pass(f, g, floor)
    elif problem.C is not None:
        cabs = max(abs(problem.cost_min), abs(problem.cost_max))
        infeas, rel, sig = _dense_dual_pass(problem.C, f, g, floor)
    else:
        cabs, infeas, rel, sig = _points_dual_pass(problem.x, problem.y, problem.metric_code,
                                              problem.minkowski_p, problem.power, f, g, floor)
    magnitude = float(vals @ np.abs(c_on)) + float(a @ np.abs(f)) + float(b @ np.abs(g))
    atom = MASS_FLOOR * mass
    mass_res = max(float(np.max(np.abs(row_sums - a) / np.maximum(a, atom))),
                   float(np.max(np.abs(col_sums - b) / np.maximum(b, atom))))
    return Certificate(
        primal_value=primal,
        dual_value=dual,
        marginal_error=float(max(np.abs(row_sums - a).max(), np.abs(col_sums - b).max())),
        negative_mass=float(max(0.0, -vals.min())) if vals.size else 0.0,
        dual_infeasibility=float(max(0.0, infeas)),
        duality_gap=abs(primal - dual),
        complementary_slackness=slack,
        scale=mass * float(cabs),
        total_mass=mass,
        magnitude=magnitude,
        relative_dual_violation=float(rel),
        significant_dual_violation=float(sig),
        plan_gap=abs(primal - dual_on_plan),
        cost_floor=problem.cost_floor,
        mass_residual=mass_res,
    )


def certify(a, b, C, plan, f, g) -> Certificate:
    """Certificate of a candidate ``(plan, f, g)`` for the problem ``(a, b, C)`` (validated).

    Parameters
    ----------
    a, b : array_like
        Marginals with equal totals.
    C : array_like of shape (n, m)
    plan : ndarray or scipy.sparse array
    f, g : array_like

    Returns
    -------
    Certificate

    Examples
    --------
    >>> import numpy as np
    >>> cert = certify([0.5, 0.5], [0.5, 0.5], np.eye(2), np.eye(2)[::-1] / 2, [0.0, 0.0], [0.0, 0.0])
    >>> cert.primal_value, cert.is_optimal()
    (0.0, True)
    """
    from .problem import make_problem

    problem = make_problem(a, b, C)
    coo = sp.coo_array(plan)
    keep = coo.data != 0
    return _certificate(problem, coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64),
                        np.asarray(coo.data[keep], np.float64), np.asarray(f, np.float64),
                        np.asarray(g, np.float64))


def finish(problem: OTProblem, raw: RawSolution, *, rtol: float = OPTIMALITY_RTOL,
           sparse: bool = False, live=None, dual_pass=None) -> OTResult:
    """Turn a raw solution into a certified :class:`OTResult` (the only way routes do it).

    Parameters
    ----------
    problem : OTProblem
        The full problem (zero-mass atoms included).
    raw : RawSolution
        The raw solver's answer, on ``problem`` or, when ``live = (rows, cols)`` is given, on
        ``problem.restricted(rows, cols)``.
    rtol : float
        The strict check's tolerance (see the module docstring).
    sparse : bool
        Whether :attr:`OTResult.plan` is the sparse plan.
    dual_pass : callable, optional
        For point problems too large for a sweep over all ``n x m`` pairs (the multiscale
        solver): ``dual_pass(f, g, floor) -> (max|C|, max_ij v_ij, V, significant v)``, the
        dual-feasibility numbers of the certificate over *every* pair, computed by exact
        pruning, or upper bounds of them (upper bounds only make the check stricter). The raw
        solution must then carry potentials on every atom (zero-mass ones included) with
        ``c_transformed=True``: the finisher runs no c-transform sweep of its own.

    Raises
    ------
    OptimalityError
        When the solver did not report an optimum or the certificate exceeds ``rtol``; the
        exception's ``result`` holds the certified non-optimal answer.
    """
    n, m = problem.shape
    rows = np.asarray(raw.rows, np.int64)
    cols = np.asarray(raw.cols, np.int64)
    vals = np.asarray(raw.flows, np.float64)
    keep = vals != 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    if live is not None:
        live_rows, live_cols = live
        rows = live_rows[rows]
        cols = live_cols[cols]
        f = np.zeros(n)
        g = np.zeros(m)
        f[live_rows] = raw.f
        g[live_cols] = raw.g
    else:
        f = np.array(raw.f, dtype=np.float64)
        g = np.array(raw.g, dtype=np.float64)
    if dual_pass is not None and not raw.c_transformed:
        raise ValueError("finish: a pruned dual_pass needs potentials the solver c-transformed itself")
    if problem.has_zero_mass and dual_pass is None:
        f, g = _restore_zero_mass(problem, f, g)
    if not raw.c_transformed:
        f, g = _tighten(problem, f)
    f, g = centre_potentials(problem.a, problem.b, f, g)
    cert = _certificate(problem, rows, cols, vals, f, g, dual_pass)
    if not cert.is_optimal(rtol) and raw.c_transformed and dual_pass is None:
        # potentials that lost digits to an offset: (g^c, f^c) recovers them (a second pass
        # only on this rare path)
        f2, g2 = centre_potentials(problem.a, problem.b, *_tighten(problem, f))
        cert2 = _certificate(problem, rows, cols, vals, f2, g2)
        if cert2.worst_relative_residual() < cert.worst_relative_residual():
            f, g, cert = f2, g2, cert2
    result = OTResult(cost=cert.primal_value,
                      sparse_plan=sp.coo_array((vals, (rows, cols)), shape=(n, m)),
                      f=f, g=g, certificate=cert, solver=raw.solver,
                      iterations=int(raw.iterations), problem=problem, sparse=bool(sparse),
                      artificial_cost=raw.artificial_cost)
    if raw.status != STATUS_OPTIMAL:
        raise OptimalityError(f"solver {raw.solver!r} stopped without an optimum ({raw.status}): "
                              f"{raw.message}", result)
    if not cert.is_optimal(rtol):
        raise OptimalityError(
            f"solver {raw.solver!r} did not reach a certified optimum: worst relative residual "
            f"{cert.worst_relative_residual():.3g} > rtol={rtol:g} (cost residual "
            f"{cert.cost_residual:.3g}, mass residual {cert.mass_residual:.3g}; {cert})", result)
    return result


def require_optimal(result: OTResult, rtol: float = OPTIMALITY_RTOL) -> OTResult:
    """Return ``result`` if its certificate reaches ``rtol``, else raise
    :class:`OptimalityError` carrying it."""
    cert = result.certificate
    if not cert.is_optimal(rtol):
        raise OptimalityError(
            f"solver {result.solver!r} did not reach a certified optimum: worst relative residual "
            f"{cert.worst_relative_residual():.3g} > rtol={rtol:g} ({cert})", result)
    return result


@dataclass(frozen=True)
class KRPotential:
    """Kantorovich–Rubinstein potential for a metric cost (``p = 1``).

    A 1-Lipschitz ``phi`` with ``W_1 = sum_i a_i phi(x_i) - sum_j b_j phi(y_j)``, the
    c-transform ``phi(z) = min_j d(z, y_j) - g_j`` of the optimal ``g``; defined up to a
    constant.

    Attributes
    ----------
    phi_x, phi_y : ndarray
        ``phi`` at the source and target points.
    value : float
        ``sum_i a_i phi(x_i) - sum_j b_j phi(y_j)`` (``W_1`` at optimality).
    """

    phi_x: np.ndarray
    phi_y: np.ndarray
    value: float


__all__ = [
    "MASS_FLOOR",
    "OPTIMALITY_RTOL",
    "ROUNDING",
    "Certificate",
    "KRPotential",
    "OTResult",
    "OptimalityError",
    "RawSolution",
    "centre_potentials",
    "certify",
    "finish",
    "require_optimal",
]
