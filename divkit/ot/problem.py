"""The validated transport problem: the one object every exact OT route is dispatched on.

A public entry point (:func:`divkit.emd`, :func:`divkit.wasserstein`, the network simplex
wrappers, :func:`divkit.ot.emd_batch`, divkit.torch's exact OT) validates its inputs once and
builds one :class:`OTProblem`. Raw solvers (:mod:`divkit.ot.solvers`) take it and trust it;
the finisher (:func:`divkit.ot.result.finish`) turns their raw solution into a certified
:class:`~divkit.ot.OTResult` that keeps the problem.

The problem holds

* the masses ``a``, ``b`` as float64, ``b`` rescaled once to ``sum(a)`` (validation allows a
  relative difference of ``MASS_RTOL``; with ``normalize=True`` both are divided by their
  totals first);
* either a dense cost matrix ``C`` (its min and max measured in one pass) or points ``x``,
  ``y`` with a metric and power, for the on-the-fly solver;
* the cost scales the certificate needs (:attr:`OTProblem.cost_floor`), measured on a fixed
  sample of entries;
* the live (non-zero-mass) rows and columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

import divkit._numba  # noqa: F401  (source-keyed kernel cache: registered before any @njit)

from .._validation import (
    MASS_RTOL,
    as_array,
    as_float_array,
    as_weights,
    check_bool,
    check_same_mass,
    uniform_if_none,
)
from .._validation import (
    probability_weights as shared_probability_weights,
)
from .costs import pair_cost

#: Size of the deterministic sample of cost entries used for robust cost scales.
COST_SAMPLE_SIZE = 4096

#: The certificate's absolute floor for cost residuals is ``total_mass`` times this quantile of
#: the non-zero ``|C_ij|`` of the sample (see :attr:`OTProblem.cost_floor`).
COST_FLOOR_QUANTILE = 0.01


def sample_pairs(n: int, m: int):
    """A fixed (seeded) sample of ``COST_SAMPLE_SIZE`` index pairs, or all pairs if fewer."""
    if n * m <= COST_SAMPLE_SIZE:
        rows, cols = np.divmod(np.arange(n * m, dtype=np.int64), m)
        return rows, cols
    rng = np.random.default_rng(0)
    return (rng.integers(0, n, COST_SAMPLE_SIZE, dtype=np.int64),
            rng.integers(0, m, COST_SAMPLE_SIZE, dtype=np.int64))


@njit(cache=True)
def min_max_finite(C):
    """``(min C, max C, number of non-finite entries)`` in one pass (NaN counted as 10**12
    so one number says which kind there is).

    The sweep keeps four independent min/max accumulators (one chain is latency-bound) and
    detects non-finite entries by ``x - x`` (NaN exactly for NaN and +-inf, no fast-math here);
    only when it finds one are they counted, in a second pass on that error path."""
    x = C.ravel()
    n = x.shape[0]
    n4 = n - n % 4
    l0 = l1 = l2 = l3 = np.inf
    h0 = h1 = h2 = h3 = -np.inf
    z = 0.0
    for k in range(0, n4, 4):
        v0 = x[k]
        v1 = x[k + 1]
        v2 = x[k + 2]
        v3 = x[k + 3]
        l0 = min(l0, v0)
        l1 = min(l1, v1)
        l2 = min(l2, v2)
        l3 = min(l3, v3)
        h0 = max(h0, v0)
        h1 = max(h1, v1)
        h2 = max(h2, v2)
        h3 = max(h3, v3)
        z += (v0 - v0) + (v1 - v1) + (v2 - v2) + (v3 - v3)
    for k in range(n4, n):
        l0 = min(l0, x[k])
        h0 = max(h0, x[k])
        z += x[k] - x[k]
    if z == 0.0:
        return min(min(l0, l1), min(l2, l3)), max(max(h0, h1), max(h2, h3)), 0
    lo = np.inf
    hi = -np.inf
    bad = 0
    for v in x:
        if np.isnan(v):
            bad += 10**12
        elif not np.isfinite(v):
            bad += 1
        else:
            lo = min(lo, v)
            hi = max(hi, v)
    return lo, hi, bad


@njit(cache=True)
def point_cost(x, i, y, j, code, minkowski_p, power):
    c = pair_cost(x, i, y, j, code, minkowski_p)
    return c if power == 1.0 else c ** power


@njit(cache=True)
def pair_costs_at(x, y, code, minkowski_p, power, rows, cols):
    """``d(x_i, y_j)**power`` at the listed pairs."""
    out = np.empty(rows.shape[0])
    for k in range(rows.shape[0]):
        out[k] = point_cost(x, rows[k], y, cols[k], code, minkowski_p, power)
    return out


#: ... floored at this fraction of the median ``|C_ij|`` of the sample (costs far below the
#: rounding of the typical cost cannot be certified relative to themselves).
COST_FLOOR_MEDIAN_FRACTION = 2.0**-50


@njit(cache=True)
def _kth_smallest(values, k):
    """The ``k``-th smallest entry (0-based) of ``values`` (a scratch copy it reorders):
    Hoare's selection, O(len) on average; values are finite."""
    lo = 0
    hi = values.shape[0] - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                t = values[i]
                values[i] = values[j]
                values[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return values[k]


@njit(cache=True, inline="always")
def _heap_push(heap, filled, v):
    """Put ``v`` into the max-heap ``heap[:filled]`` (sift up); the heap then has ``filled + 1``
    entries."""
    c = filled
    while c > 0:
        parent = (c - 1) // 2
        if heap[parent] >= v:
            break
        heap[c] = heap[parent]
        c = parent
    heap[c] = v


@njit(cache=True, inline="always")
def _heap_replace_top(heap, size, v):
    """Replace the top of the full max-heap ``heap[:size]`` by ``v`` (smaller than it) and sift
    it down."""
    c = 0
    while True:
        left = 2 * c + 1
        if left >= size:
            break
        big = left
        if left + 1 < size and heap[left + 1] > heap[left]:
            big = left + 1
        if heap[big] <= v:
            break
        heap[c] = heap[big]
        c = big
    heap[c] = v


@njit(cache=True)
def _order_stat_pair(values, k):
    """The ``k``-th and ``(k + 1)``-th smallest entries (the second clipped to the last) of
    ``values`` (a scratch array it may reorder).

    For small ``k`` (the 1 % quantile) one pass keeps the ``k + 2`` smallest entries in a
    max-heap (most entries are rejected by one comparison with its top); otherwise Hoare's
    selection."""
    total = values.shape[0]
    if k + 1 >= total:
        first = _kth_smallest(values, k)
        return first, first
    size = k + 2
    if 8 * size > total:
        first = _kth_smallest(values, k)
        # after selection every entry right of k is >= values[k]
        second = values[k + 1]
        for t in range(k + 2, total):
            second = min(second, values[t])
        return first, second
    heap = np.empty(size)
    for t in range(size):  # heapify the first entries
        _heap_push(heap, t, values[t])
    for t in range(size, total):
        v = values[t]
        if v < heap[0]:
            _heap_replace_top(heap, size, v)
    # the heap holds the k + 2 smallest entries: the largest (its root) is the (k + 1)-th, the
    # larger of the root's children the k-th (no sort: numba's sort alone took ~2 s to compile
    # on the first emd call)
    second = heap[1] if size == 2 else max(heap[1], heap[2])
    return second, heap[0]


@njit(cache=True)
def low_cost(sample):
    """``max(q, 2**-50 median|sample|)``, ``q`` the ``COST_FLOOR_QUANTILE`` quantile (linear
    interpolation, numpy's default) of the non-zero ``|sample|``; 1 when all are zero. A kernel
    (selection, not sorting), so that batch solvers measure each problem's floor exactly as
    :class:`OTProblem` does. The median is only selected when it can win, i.e. when ``q`` is
    below ``2**-50 max|sample|`` (costs spanning more than 15 decades).

    The quantile needs the ``k``-th and ``(k + 1)``-th smallest non-zero magnitudes, ``k`` at
    most ``kmax = floor(COST_FLOOR_QUANTILE (len - 1))``. On a long sample one pass keeps the
    ``kmax + 2`` smallest in a max-heap (most entries are rejected by one comparison with its
    top) while it counts the non-zero entries and finds the largest, without copying the
    sample (a batch of 50-point problems spent ~7 % of its time here with the copy); on a short
    sample the heap keeps every non-zero magnitude. One loop in this one kernel: a separate
    helper cost one more compile on the first ``emd``, and a second copy-and-select loop in
    another branch made the heap loop run several times slower."""
    total = sample.shape[0]
    size = int(np.floor(COST_FLOOR_QUANTILE * (total - 1))) + 2
    if 8 * size > total:  # short: keep every non-zero magnitude
        size = total
    scratch = np.empty(size)
    kept = 0
    count = 0
    top = 0.0
    for t in range(total):
        v = abs(sample[t])
        if v > top:
            top = v
        if v == 0.0:
            continue
        count += 1
        if kept < size:
            _heap_push(scratch, kept, v)
            kept += 1
        elif v < scratch[0]:
            _heap_replace_top(scratch, size, v)
    if count == 0:
        return 1.0
    # scratch[:kept] holds the min(count, kmax + 2) smallest non-zero magnitudes (all of them
    # when short), so their order statistics lo and lo + 1 (lo <= kmax) are those of all
    pos = COST_FLOOR_QUANTILE * (count - 1)
    lo = int(np.floor(pos))
    frac = pos - lo
    q_lo, q_hi = _order_stat_pair(scratch[:kept], lo)
    # numpy's lerp: exact at both ends, monotone in frac
    diff = q_hi - q_lo
    quantile = q_lo + diff * frac if frac < 0.5 else q_hi - diff * (1.0 - frac)
    if quantile >= COST_FLOOR_MEDIAN_FRACTION * top:
        return quantile  # the median (<= max) cannot exceed it
    mags = np.empty(total)
    for k in range(total):
        mags[k] = abs(sample[k])
    return max(quantile, COST_FLOOR_MEDIAN_FRACTION * median_in_place(mags))


@njit(cache=True)
def median_in_place(values):
    """``numpy.median`` of ``values`` (finite, not empty), by selection instead of sorting; it
    reorders ``values``."""
    total = values.shape[0]
    half = total // 2
    if total % 2 == 1:
        return _kth_smallest(values, half)
    below, above = _order_stat_pair(values, half - 1)
    return (below + above) / 2.0


@dataclass(frozen=True, eq=False)
class OTProblem:
    """A validated exact OT problem (build it with :func:`make_problem` or
    :func:`make_points_problem`; raw solvers trust every field).

    Attributes
    ----------
    a, b : ndarray of shape (n,), (m,)
        float64 masses, ``sum(b) == sum(a)`` (``b`` rescaled once).
    C : ndarray of shape (n, m) or None
        Dense costs (C-contiguous float64), or None for a point-cloud problem.
    x, y : ndarray or None
        Points for on-the-fly costs ``d(x_i, y_j)**power`` (``metric_code``, ``minkowski_p``).
    cost_min, cost_max : float
        ``min C`` and ``max C`` (measured in the same pass as the finiteness check).
    cost_floor : float
        ``total_mass * max(q, 2**-50 median|C|)``, ``q`` the 1 % quantile of the non-zero
        ``|C_ij|`` of a fixed sample (1 when all are zero): the absolute floor of the
        certificate's cost yardstick.
    b_rescaled : bool
        Whether ``b`` was rescaled to ``sum(a)``.
    """

    a: np.ndarray
    b: np.ndarray
    C: np.ndarray | None
    cost_min: float
    cost_max: float
    cost_floor: float
    sample: np.ndarray = field(repr=False)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    metric_code: int = -1
    minkowski_p: float = 2.0
    power: float = 1.0
    b_rescaled: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return (self.a.shape[0], self.b.shape[0])

    @property
    def total_mass(self) -> float:
        return float(self.a.sum())

    @property
    def is_dense(self) -> bool:
        return self.C is not None

    @property
    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.a > 0)

    @property
    def live_cols(self) -> np.ndarray:
        return np.flatnonzero(self.b > 0)

    @property
    def has_zero_mass(self) -> bool:
        return bool(np.any(self.a == 0) or np.any(self.b == 0))

    def costs_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``C_ij`` at the listed pairs (computed on the fly for a point-cloud problem)."""
        if self.C is not None:
            return self.C[rows, cols]
        return pair_costs_at(self.x, self.y, self.metric_code, self.minkowski_p, self.power,
                             np.asarray(rows, np.int64), np.asarray(cols, np.int64))

    def restricted(self, rows: np.ndarray, cols: np.ndarray) -> OTProblem:
        """The sub-problem on the given rows and columns (trusted: no validation)."""
        a = np.ascontiguousarray(self.a[rows])
        b = np.ascontiguousarray(self.b[cols])
        if self.C is not None:
            C = np.ascontiguousarray(self.C[np.ix_(rows, cols)])
            return _dense_problem(a, b, C, self.b_rescaled)
        assert self.x is not None and self.y is not None  # a point-cloud problem (C is None) always carries its points
        return OTProblem(a=a, b=b, C=None, cost_min=self.cost_min, cost_max=self.cost_max,
                         cost_floor=self.cost_floor, sample=self.sample,
                         x=np.ascontiguousarray(self.x[rows]), y=np.ascontiguousarray(self.y[cols]),
                         metric_code=self.metric_code, minkowski_p=self.minkowski_p,
                         power=self.power, b_rescaled=self.b_rescaled)


def _dense_problem(a, b, C, b_rescaled, stats=None) -> OTProblem:
    if stats is None:
        lo, hi, _ = min_max_finite(C)
    else:
        lo, hi = stats
    rows, cols = sample_pairs(*C.shape)
    sample = C[rows, cols]
    return OTProblem(a=a, b=b, C=C, cost_min=float(lo), cost_max=float(hi),
                     cost_floor=float(a.sum()) * float(low_cost(sample)), sample=sample,
                     b_rescaled=b_rescaled)


def check_flag(value, name: str) -> bool:
    """A ``bool`` (or numpy bool) option (:func:`divkit._validation.check_bool`)."""
    return check_bool(value, name)


def balance_masses(a, b, n, m, *, normalize=False, names=("a", "b"), rtol=MASS_RTOL):
    """Validate two weight vectors and return them with equal totals.

    Without ``normalize`` the totals must agree to ``rtol`` (relative) and ``b`` is rescaled to
    ``sum(a)``; with ``normalize=True`` both are divided by their totals. Returns
    ``(a, b, b_rescaled)``.
    """
    a = as_weights(a, n, names[0])
    b = as_weights(b, m, names[1])
    if check_flag(normalize, "normalize"):
        return a / a.sum(), b / b.sum(), True
    check_same_mass(a, b, names, rtol=rtol)
    sa, sb = float(a.sum()), float(b.sum())
    if sa == sb:
        return a, b, False
    return a, b * (sa / sb), True


def probability_weights(w, n: int, name: str, *, normalize: bool = False):
    """Weights of a probability measure on ``n`` atoms for ``wasserstein``, ``wasserstein_1d``
    and ``sliced_wasserstein``: divkit's one weight rule
    (:func:`divkit._validation.probability_weights`), ``None`` giving uniform ``1/n``; returned
    divided by their float64 total (the quantile formulas of the 1-D route need total 1 to
    rounding, not only to the rule's 1e-6)."""
    checked = shared_probability_weights(w, n, name, normalize=normalize)
    return uniform_if_none(None if checked is None else checked / checked.sum(), n)


def make_problem(a, b, C, *, normalize: bool = False) -> OTProblem:
    """Validate ``(a, b, C)`` once and build the :class:`OTProblem` (dense costs).

    Raises ``ValueError``/``TypeError`` naming the argument for NaN, inf, empty or mis-shaped
    input, negative or zero total mass, unequal totals (unless ``normalize``), and cost ranges
    that overflow float64.
    """
    C = as_array(C, "C")
    if C.ndim != 2:
        raise ValueError(f"C must be 2-D, got shape {C.shape}")
    C = as_float_array(C, "C", ndim=2, check_finite=False)  # finiteness: the fused pass below
    lo, hi, bad = min_max_finite(C)
    if bad:
        n_nan, n_inf = divmod(int(bad), 10**12)
        if n_nan:
            raise ValueError(f"C contains {n_nan} NaN value(s)")
        raise ValueError(f"C contains {n_inf} infinite value(s)")
    if not math.isfinite(float(hi) - float(lo)):
        raise ValueError("C spans a range larger than the float64 maximum; rescale it")
    n, m = C.shape
    if a is not None and np.ndim(a) == 1 and np.shape(a)[0] != n:
        raise ValueError(f"a has {np.shape(a)[0]} entries but C has {n} rows")
    if b is not None and np.ndim(b) == 1 and np.shape(b)[0] != m:
        raise ValueError(f"b has {np.shape(b)[0]} entries but C has {m} columns")
    a, b, rescaled = balance_masses(a, b, n, m, normalize=normalize)
    return _dense_problem(a, b, C, rescaled, (lo, hi))


def dense_problem_trusted(a, b, C, *, check_finite: bool = False) -> OTProblem:
    """An :class:`OTProblem` from masses a caller has already validated (float64, equal
    totals) and a float64 C-contiguous ``C`` it built or validated (e.g. one problem of a
    validated batch, or a cost matrix computed from validated points; ``check_finite`` then
    refuses overflowed entries in the same pass as min/max)."""
    lo, hi, bad = min_max_finite(C)
    if check_finite and (bad or not math.isfinite(float(hi) - float(lo))):
        raise ValueError("the cost matrix has non-finite entries (overflow); rescale the points")
    return _dense_problem(a, b, C, False, (lo, hi))


def make_points_problem(x, y, a, b, *, metric_code: int, power: float, minkowski_p: float,
                        normalize: bool = False, cost_range=None) -> OTProblem:
    """A point-cloud :class:`OTProblem` (``x``, ``y`` already validated float64 points).

    ``cost_range`` = ``(min, max)`` of the costs when the caller has measured them (the
    network simplex needs them; the points kernel measures them in one parallel pass)."""
    a, b, rescaled = balance_masses(a, b, x.shape[0], y.shape[0], normalize=normalize)
    rows, cols = sample_pairs(x.shape[0], y.shape[0])
    sample = pair_costs_at(x, y, metric_code, minkowski_p, power, rows, cols)
    lo, hi = cost_range
    return OTProblem(a=a, b=b, C=None, cost_min=float(lo), cost_max=float(hi),
                     cost_floor=float(a.sum()) * float(low_cost(sample)), sample=sample,
                     x=x, y=y, metric_code=int(metric_code), minkowski_p=float(minkowski_p),
                     power=float(power), b_rescaled=rescaled)


__all__ = [
    "COST_FLOOR_QUANTILE",
    "COST_SAMPLE_SIZE",
    "OTProblem",
    "balance_masses",
    "check_flag",
    "dense_problem_trusted",
    "low_cost",
    "make_points_problem",
    "make_problem",
    "pair_costs_at",
    "probability_weights",
    "sample_pairs",
]
