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
rounded, :func:`fsum`) (``S`` is the magnitude of the terms that
form the primal and dual values; ``<G*, |C|>`` is taken equal to ``<G, |C|>``). The cost
residual is ``B / max(|primal|, floor)``: relative to the cost itself, with the absolute
floor ``floor = total_mass * q`` (``q`` = 1 % quantile of the non-zero ``|C_ij|`` in a fixed
sample, :attr:`OTProblem.cost_floor`). A plan whose gap is comparable to its cost, or whose
potentials are so large that the sums lose the cost's digits, is never labelled optimal.
Mass residuals are per atom: ``|(G 1)_i - a_i| / max(a_i, MASS_FLOOR * total_mass)``, so an
atom of mass 1e-11 that ships nothing fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from divkit._numba import array_max, filled_float, parallel_kernel

from .problem import OTProblem, point_cost

#: Default ``rtol`` of every exact OT route.
OPTIMALITY_RTOL = 1e-9

#: Rounding allowance relative to the magnitude ``S`` of the terms of the primal and dual
#: sums: the unit roundoff ``u = 2**-53`` (the sums themselves are exactly rounded with
#: :func:`fsum`, so what is left is one rounding per product).
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


def residuals(primal, cost_floor, plan_gap, relative_violation, magnitude, total_mass,
              significant_violation, mass_residual, negative_mass):
    """``(B, cost residual, worst relative residual)`` of certificates (see the module
    docstring): the one formula, elementwise, for one :class:`Certificate`'s floats or for the
    arrays of a batch (:func:`judge_batch`). NaN anywhere gives NaN, never a pass."""
    # <G*, v> <= min(V <G*, w>, total_mass * max v): both bounds hold, the first is the
    # one that survives huge entries, the second the one that survives tiny potentials
    violation = np.minimum(np.multiply(relative_violation, magnitude),
                           np.multiply(total_mass, significant_violation))
    bound = np.add(np.add(plan_gap, violation), np.multiply(ROUNDING, magnitude))
    yard = np.maximum(np.abs(primal), cost_floor)
    positive = yard > 0
    cost_res = np.where(positive, bound / np.where(positive, yard, 1.0),
                        np.where(bound == 0, 0.0, np.inf))
    has_mass = np.greater(total_mass, 0)
    neg = np.where(has_mass, np.divide(negative_mass, np.where(has_mass, total_mass, 1.0)), 0.0)
    return bound, cost_res, np.maximum(np.maximum(cost_res, mass_residual), neg)


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

    def _residuals(self):
        return residuals(self.primal_value, self.cost_floor, self.plan_gap,
                         self.relative_dual_violation, self.magnitude, self.total_mass,
                         self.significant_dual_violation, self.mass_residual, self.negative_mass)

    @property
    def cost_error_bound(self) -> float:
        """``B``: a bound on ``primal_value - OPT`` (up to rounding)."""
        return float(self._residuals()[0])

    @property
    def cost_residual(self) -> float:
        """``B / max(|primal_value|, cost_floor)``."""
        return float(self._residuals()[1])

    def worst_relative_residual(self) -> float:
        """The largest of the cost residual, the mass residual and negative mass / total."""
        return float(self._residuals()[2])

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


@njit(cache=True)
def centre_shift(a, b, f, g):
    """The ``c`` of :func:`centre_potentials` (plain sequential sums: the same bits in the
    single-problem finisher and in the batch kernels that call it)."""
    bg = 0.0
    sb = 0.0
    for j in range(b.shape[0]):
        bg += b[j] * g[j]
        sb += b[j]
    af = 0.0
    sa = 0.0
    for i in range(a.shape[0]):
        af += a[i] * f[i]
        sa += a[i]
    return (bg - af) / (sa + sb)


def centre_potentials(a: np.ndarray, b: np.ndarray, f: np.ndarray, g: np.ndarray):
    """Shift ``(f, g) -> (f + c, g - c)`` so that ``<a, f> == <b, g>`` (the constraints and the
    dual objective are unchanged)."""
    c = centre_shift(a, b, f, g)
    return f + c, g - c


@njit(cache=True)
def fsum(x):
    """The correctly rounded sum of ``x`` (Shewchuk's exact partials with CPython's final
    half-even fix-up: the same value as :func:`math.fsum` for finite input; a non-finite term
    or an overflowing partial gives the plain sum, inf or NaN)."""
    partials = np.empty(64)
    n = 0
    plain = 0.0
    for k in range(x.shape[0]):
        plain += x[k]
    if not np.isfinite(plain):
        return plain
    for k in range(x.shape[0]):
        v = x[k]
        i = 0
        for t in range(n):
            y = partials[t]
            if abs(v) < abs(y):
                v, y = y, v
            hi = v + y
            lo = y - (hi - v)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            v = hi
        if not np.isfinite(v):
            return plain
        partials[i] = v
        n = i + 1
    if n == 0:
        return 0.0
    n -= 1
    hi = partials[n]
    lo = 0.0
    while n > 0:
        v = hi
        n -= 1
        y = partials[n]
        hi = v + y
        lo = y - (hi - v)
        if lo != 0.0:
            break
    if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        v = hi + y
        if y == v - hi:
            hi = v
    return hi


#: slots of the numbers :func:`plan_sums` returns
_PRIMAL, _DUAL, _DUAL_ON_PLAN, _SLACK, _MAGNITUDE, _MARGINAL, _MASS_RES, _NEG_MASS = range(8)


@njit(cache=True)
def plan_sums(a, b, rows, cols, vals, c_on, f, g, mass):
    """Every number of the certificate that needs the plan but not the whole cost matrix:
    ``<G, C>``, ``<a, f> + <b, g>``, the plan's own dual value (exactly rounded sums), the
    complementary slackness, the magnitude ``S``, the marginal error, the per-atom mass
    residual and the negative mass (see the module docstring)."""
    n = a.shape[0]
    m = b.shape[0]
    k = vals.shape[0]
    row_sums = filled_float(n, 0.0)
    col_sums = filled_float(m, 0.0)
    terms = np.empty(k)
    slack = 0.0
    on_plan = 0.0
    neg = 0.0
    for t in range(k):
        v = vals[t]
        row_sums[rows[t]] += v
        col_sums[cols[t]] += v
        terms[t] = v * c_on[t]
        slack += v * abs(c_on[t] - f[rows[t]] - g[cols[t]])
        on_plan += v * abs(c_on[t])
        neg = max(neg, -v)
    out = np.empty(8)
    out[_PRIMAL] = fsum(terms)
    both = np.empty(n + m)
    magnitude = on_plan
    for i in range(n):
        both[i] = a[i] * f[i]
    for j in range(m):
        both[n + j] = b[j] * g[j]
    out[_DUAL] = fsum(both)
    for i in range(n):
        both[i] = row_sums[i] * f[i]
        magnitude += a[i] * abs(f[i])
    for j in range(m):
        both[n + j] = col_sums[j] * g[j]
        magnitude += b[j] * abs(g[j])
    out[_DUAL_ON_PLAN] = fsum(both)
    out[_SLACK] = slack
    out[_MAGNITUDE] = magnitude
    atom = MASS_FLOOR * mass
    marginal = 0.0
    mass_res = 0.0
    for i in range(n):
        e = abs(row_sums[i] - a[i])
        marginal = max(marginal, e)
        mass_res = max(mass_res, e / max(a[i], atom))
    for j in range(m):
        e = abs(col_sums[j] - b[j])
        marginal = max(marginal, e)
        mass_res = max(mass_res, e / max(b[j], atom))
    out[_MARGINAL] = marginal
    out[_MASS_RES] = mass_res
    out[_NEG_MASS] = neg
    return out


@njit(cache=True, inline="always")
def dual_screen_gmin(g):
    """``min_j |g_j|`` (0 for no columns): the ``gmin`` every caller of :func:`dense_dual_row`
    passes, computed in one place because a larger value would let the row screen skip a
    counted violation."""
    gmin = np.inf
    for j in range(g.shape[0]):
        gmin = min(gmin, abs(g[j]))
    return gmin if g.shape[0] else 0.0


@njit(cache=True, inline="always")
def dense_dual_row(C, i, f, g, floor, gmin):
    """Row ``i`` of the dual pass: ``max_j |C_ij|``, ``max_j f_i + g_j - C_ij``, the largest
    relative violation beyond ``DUAL_ROUNDING`` and its absolute size (maxima are exact, so
    any split of the rows gives the same bits).

    The sweep keeps four independent accumulators per maximum (one chain of ``max`` is
    latency-bound, about 1.5-2x slower). The relative violations are only evaluated on a row
    whose largest ``t_j = f_i + g_j - C_ij`` exceeds ``h max(|f_i| + gmin, floor)``, with
    ``gmin = min_j |g_j|`` and ``h = DUAL_ROUNDING / 2``. No violation beyond ``DUAL_ROUNDING``
    escapes that screen: it needs ``t_j > DUAL_ROUNDING max(|C_ij| + |f_i| + |g_j|, floor)``,
    twice the screen's bound, far beyond the rounding of either side. Rounding-level positives
    (about a third of the rows after a c-transform) no longer send their row through the
    second loop."""
    m = C.shape[1]
    m4 = m - m % 4
    fi = f[i]
    row = C[i]
    c0 = c1 = c2 = c3 = 0.0
    w0 = w1 = w2 = w3 = -np.inf
    for j in range(0, m4, 4):
        x0 = row[j]
        x1 = row[j + 1]
        x2 = row[j + 2]
        x3 = row[j + 3]
        c0 = max(c0, abs(x0))
        c1 = max(c1, abs(x1))
        c2 = max(c2, abs(x2))
        c3 = max(c3, abs(x3))
        w0 = max(w0, fi + g[j] - x0)
        w1 = max(w1, fi + g[j + 1] - x1)
        w2 = max(w2, fi + g[j + 2] - x2)
        w3 = max(w3, fi + g[j + 3] - x3)
    for j in range(m4, m):
        c0 = max(c0, abs(row[j]))
        w0 = max(w0, fi + g[j] - row[j])
    ca = max(max(c0, c1), max(c2, c3))
    w = max(max(w0, w1), max(w2, w3))
    r = 0.0
    big = 0.0
    afi = abs(fi)
    if w > 0.5 * DUAL_ROUNDING * max(afi + gmin, floor):
        for j in range(m):
            t = fi + g[j] - row[j]
            if t > 0:
                q = t / max(abs(row[j]) + afi + abs(g[j]), floor)
                if q > DUAL_ROUNDING:
                    r = max(r, q)
                    big = max(big, t)
    return ca, w, r, big


@parallel_kernel(lambda C, f, g, floor: C.size, cache=True)
def _dense_dual_pass(C, f, g, floor):
    """One pass over ``C``: ``max|C|``, ``max(f_i + g_j - C_ij)``, ``V`` and the largest
    significant violation (:func:`dense_dual_row` per row; exact maxima, so the result does not
    depend on the thread count)."""
    n = C.shape[0]
    cabs = filled_float(n, 0.0)
    viol = filled_float(n, -np.inf)
    rel = filled_float(n, 0.0)
    sig = filled_float(n, 0.0)
    gmin = dual_screen_gmin(g)
    for i in prange(n):
        cabs[i], viol[i], rel[i], sig[i] = dense_dual_row(C, i, f, g, floor, gmin)
    return array_max(cabs), array_max(viol), array_max(rel), array_max(sig)


@njit(cache=True)
def certify_dense(a, b, C, rows, cols, vals, f, g, mass, cost_floor):
    """The numbers :func:`finish` computes for a dense problem without zero-mass atoms whose
    raw potentials are c-transformed (the batch kernels call it once per problem, inside their
    parallel loop): ``f`` and ``g`` are centred in place, then the plan sums and the dual pass
    as in :func:`_certificate`. ``mass`` and ``cost_floor`` are the problem's
    (:attr:`OTProblem.total_mass`, :attr:`OTProblem.cost_floor`). Returns
    ``(plan_sums, (max|C|, max v, V, significant v))``; :func:`certificate_from` turns them
    into the :class:`Certificate`."""
    c = centre_shift(a, b, f, g)
    for i in range(f.shape[0]):
        f[i] += c
    for j in range(g.shape[0]):
        g[j] -= c
    c_on = np.empty(vals.shape[0])
    for t in range(vals.shape[0]):
        c_on[t] = C[rows[t], cols[t]]
    sums = plan_sums(a, b, rows, cols, vals, c_on, f, g, mass)
    floor = cost_floor / mass if mass > 0 else 1.0
    ca = 0.0
    w = -np.inf
    r = 0.0
    big = 0.0
    gmin = dual_screen_gmin(g)
    for i in range(C.shape[0]):
        ca_i, w_i, r_i, big_i = dense_dual_row(C, i, f, g, floor, gmin)
        ca = max(ca, ca_i)
        w = max(w, w_i)
        r = max(r, r_i)
        big = max(big, big_i)
    duals = np.empty(4)
    duals[0] = ca
    duals[1] = w
    duals[2] = r
    duals[3] = big
    return sums, duals


@parallel_kernel(lambda x, y, *_: x.size * y.shape[0], cache=True)
def _points_dual_pass(x, y, code, minkowski_p, power, f, g, floor):
    n = x.shape[0]
    m = y.shape[0]
    cabs = filled_float(n, 0.0)
    viol = filled_float(n, -np.inf)
    rel = filled_float(n, 0.0)
    sig = filled_float(n, 0.0)
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
    return array_max(cabs), array_max(viol), array_max(rel), array_max(sig)


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
    out = filled_float(k_total, np.inf)
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
    mass = problem.total_mass
    c_on = np.ascontiguousarray(problem.costs_at(rows, cols), dtype=np.float64)
    sums = plan_sums(problem.a, problem.b, rows, cols, vals, c_on, f, g, mass)
    floor = problem.cost_floor / mass if mass > 0 else 1.0
    if dual_pass is not None:
        duals = dual_pass(f, g, floor)
    elif problem.C is not None:
        duals = _dense_dual_pass(problem.C, f, g, floor)
    else:
        duals = _points_dual_pass(problem.x, problem.y, problem.metric_code,
                                  problem.minkowski_p, problem.power, f, g, floor)
    return certificate_from(sums, duals, mass, problem.cost_floor)


def certificate_from(sums, duals, mass: float, cost_floor: float) -> Certificate:
    """The :class:`Certificate` of :func:`plan_sums`' numbers and a dual pass's
    ``(max|C|, max v, V, significant v)`` (the one place they become a certificate)."""
    cabs, infeas, rel, sig = duals
    primal = float(sums[_PRIMAL])
    dual = float(sums[_DUAL])
    return Certificate(
        primal_value=primal,
        dual_value=dual,
        marginal_error=float(sums[_MARGINAL]),
        negative_mass=float(sums[_NEG_MASS]),
        dual_infeasibility=float(max(0.0, infeas)),
        duality_gap=abs(primal - dual),
        complementary_slackness=float(sums[_SLACK]),
        scale=mass * float(cabs),
        total_mass=mass,
        magnitude=float(sums[_MAGNITUDE]),
        relative_dual_violation=float(rel),
        significant_dual_violation=float(sig),
        plan_gap=abs(primal - float(sums[_DUAL_ON_PLAN])),
        cost_floor=cost_floor,
        mass_residual=float(sums[_MASS_RES]),
    )


def judge_batch(sums: np.ndarray, duals: np.ndarray, masses: np.ndarray, floors: np.ndarray,
                rtol: float):
    """Judge many problems whose numbers a batch kernel computed with :func:`certify_dense`
    (rows of ``sums`` and ``duals``): returns ``(costs, worst residuals, certified)``, the
    same numbers and the same decision as the :class:`Certificate` that
    :func:`certificate_from` builds for each problem (both go through :func:`residuals`). A
    problem that is not certified here must go through :func:`finish` itself (which tries the
    second potentials and raises with the reason)."""
    primal = sums[:, _PRIMAL].copy()
    plan_gap = np.abs(primal - sums[:, _DUAL_ON_PLAN])
    _, _, worst = residuals(primal, floors, plan_gap, duals[:, 2], sums[:, _MAGNITUDE], masses,
                            duals[:, 3], sums[:, _MASS_RES], sums[:, _NEG_MASS])
    worst = np.asarray(worst, dtype=np.float64)
    return primal, worst, worst <= rtol


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
    "certificate_from",
    "certify",
    "finish",
    "require_optimal",
    "residuals",
]
