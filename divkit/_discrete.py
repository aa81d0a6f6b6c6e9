"""Shared machinery for divergences between histograms (private).

One numba pass per histogram pair validates both inputs (NaN, inf, negative mass, totals) and
accumulates the divergence at the same time, so a 10^7-bin KL reads each input once and
allocates nothing of the input's size. Errors are raised after the pass, with the same messages
as :func:`divkit._validation.as_histograms` (exact counts are recomputed on the error path only).

Broadcasting never materialises the broadcast arrays: each output row ``r`` reads row ``ip[r]``
of ``P`` and row ``iq[r]`` of ``Q``, where the index vectors have the size of the batch only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from ._numba import FASTMATH
from ._validation import _kind_check, _scan_rows, check_scalar, raise_scan_errors

# per-bin term codes understood by ``_pair_rows``
CODE_KL = 0
CODE_REVERSE_KL = 1
CODE_TV = 2
CODE_PEARSON = 3
CODE_NEYMAN = 4
CODE_SQ_HELLINGER = 5
CODE_JEFFREYS = 6
CODE_WEIGHTED_JS = 7
CODE_GAN = 8
CODE_ALPHA = 9
CODE_CROSS_ENTROPY = 10
CODE_ENTROPY = 11

# smallest positive normal double: ratios below it have lost precision
_TINY = 2.2250738585072014e-308


@njit(cache=True, inline="always")
def _log_ratio(p, q):
    """log(p / q) for p, q > 0, exact also when p / q over- or underflows."""
    r = p / q
    if r >= _TINY and r < np.inf:
        return np.log(r)
    return np.log(p) - np.log(q)


@njit(cache=True, inline="always")
def _relexpm1(x):
    """expm1(x) / x, continuous at 0 (value 1)."""
    if x == 0.0:
        return 1.0
    if x == np.inf:
        return np.inf
    return np.expm1(x) / x


@njit(cache=True, inline="always")
def _alpha_term(p, q, alpha):
    """q f_alpha(p / q) for p, q > 0, without cancellation near alpha = 0 or 1.

    f_alpha(u) = (u^a - 1 - a (u - 1)) / (a (a - 1)) is rewritten with L = log u as
    [u L relexpm1((a-1) L) - (u - 1)] / a   (used for a >= 1/2, exact at a = 1) or
    [L relexpm1(a L) - (u - 1)] / (a - 1)   (used for a < 1/2, exact at a = 0).
    """
    L = _log_ratio(p, q)
    if alpha >= 0.5:
        return (p * L * _relexpm1((alpha - 1.0) * L) - (p - q)) / alpha
    return (q * L * _relexpm1(alpha * L) - (p - q)) / (alpha - 1.0)


@njit(cache=True, inline="always")
def _term(code, p, q, param):
    """q f(p / q) for p, q > 0 for the divergence with code ``code``."""
    if code == 0:  # KL
        return p * _log_ratio(p, q)
    if code == 1:  # reverse KL
        return q * _log_ratio(q, p)
    if code == 2:  # TV
        return 0.5 * abs(p - q)
    if code == 3:  # Pearson chi^2
        d = p - q
        return d * d / q
    if code == 4:  # Neyman chi^2
        d = p - q
        return d * d / p
    if code == 5:  # squared Hellinger
        d = np.sqrt(p) - np.sqrt(q)
        return d * d
    if code == 6:  # Jeffreys
        return (p - q) * _log_ratio(p, q)
    if code == 7:  # weighted JS, pi = param
        m = param * p + (1.0 - param) * q
        return param * p * _log_ratio(p, m) + (1.0 - param) * q * _log_ratio(q, m)
    if code == 8:  # GAN
        s = p + q
        return p * _log_ratio(p, s) + q * _log_ratio(q, s)
    if code == 9:  # Amari alpha
        return _alpha_term(p, q, param)
    if code == 10:  # cross entropy -sum p log q
        return -p * np.log(q)
    # 11: entropy -sum p log p (called with Q = P)
    return -p * np.log(p)


#: bins per parallel work item; fixed (not derived from the thread count) so that the
#: summation order, hence the result, is the same on every machine
_BLOCK = 1 << 16


@njit(cache=True, inline="always")
def _block(P, Q, rp, rq, lo, hi, sp, sq, code, param, f_at_zero, slope_at_infinity):
    """Sums over bins lo..hi-1 of one row pair, and flags: 1 if P held NaN, inf or negative
    values there, 2 if Q did (exact counts are recomputed on the error path only)."""
    acc = 0.0
    tot_p = 0.0
    tot_q = 0.0
    flags = 0
    for j in range(lo, hi):
        x = np.float64(P[rp, j])
        y = np.float64(Q[rq, j])
        tot_p += x
        tot_q += y
        if not (x >= 0.0 and x < np.inf and y >= 0.0 and y < np.inf):
            if not (x >= 0.0 and x < np.inf):  # NaN fails every comparison
                flags |= 1
            if not (y >= 0.0 and y < np.inf):
                flags |= 2
            continue
        x *= sp
        y *= sq
        if x > 0.0:
            if y > 0.0:
                acc += _term(code, x, y, param)
            else:
                acc += x * slope_at_infinity
        elif y > 0.0:
            acc += y * f_at_zero
    return acc, tot_p, tot_q, flags


@njit(cache=True, inline="always")
def _task(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity, n_blocks,
          task, partial, flags):
    r = task // n_blocks
    lo = (task % n_blocks) * _BLOCK
    hi = min(lo + _BLOCK, P.shape[1])
    acc, tot_p, tot_q, flag = _block(P, Q, ip[r], iq[r], lo, hi, scale_p[ip[r]],
                                     scale_q[iq[r]], code, param, f_at_zero, slope_at_infinity)
    partial[task, 0] = acc
    partial[task, 1] = tot_p
    partial[task, 2] = tot_q
    flags[task] = flag


@njit(cache=True)
def _reduce_tasks(partial, flags, n_rows, n_blocks):
    out = np.zeros(n_rows)
    sums_p = np.zeros(n_rows)
    sums_q = np.zeros(n_rows)
    any_flag = 0
    for task in range(partial.shape[0]):
        r = task // n_blocks
        out[r] += partial[task, 0]
        sums_p[r] += partial[task, 1]
        sums_q[r] += partial[task, 2]
        any_flag |= flags[task]
    return out, sums_p, sums_q, any_flag


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _pair_rows_parallel(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero,
                        slope_at_infinity):
    n_blocks = (P.shape[1] + _BLOCK - 1) // _BLOCK
    n_tasks = ip.shape[0] * n_blocks
    partial = np.empty((n_tasks, 3))
    flags = np.zeros(n_tasks, dtype=np.uint8)
    for task in prange(n_tasks):
        _task(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity,
              n_blocks, task, partial, flags)
    return _reduce_tasks(partial, flags, ip.shape[0], n_blocks)


@njit(cache=True, fastmath=FASTMATH)
def _pair_rows_serial(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero,
                      slope_at_infinity):
    n_blocks = (P.shape[1] + _BLOCK - 1) // _BLOCK
    n_tasks = ip.shape[0] * n_blocks
    partial = np.empty((n_tasks, 3))
    flags = np.zeros(n_tasks, dtype=np.uint8)
    for task in range(n_tasks):
        _task(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity,
              n_blocks, task, partial, flags)
    return _reduce_tasks(partial, flags, ip.shape[0], n_blocks)


#: below this many bins in total, waking the thread pool costs more than it saves
PARALLEL_MIN_BINS = 1 << 20


def _pair_rows(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity):
    """Per output row r: sum_j of the divergence term between P[ip[r]] and Q[iq[r]].

    Also returns the raw row totals and a flag word: bit 0 set if P holds NaN, inf or
    negative values, bit 1 if Q does.
    Bins with q = 0 < p contribute p * slope_at_infinity, bins with p = 0 < q contribute
    q * f_at_zero and empty bins contribute 0; both constants are only touched when needed,
    so 0 * inf never occurs. Rows are cut into blocks of ``_BLOCK`` bins (processed in
    parallel for large inputs); the partial sums are added in a fixed order afterwards, so
    serial and parallel runs give identical results.
    """
    big = ip.shape[0] * P.shape[1] >= PARALLEL_MIN_BINS
    # with one thread the parallel build only adds its scheduling overhead (measured 2-5 %)
    kernel = _pair_rows_parallel if big and numba.get_num_threads() > 1 else _pair_rows_serial
    return kernel(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity)


@dataclass
class PreparedPair:
    """Two histogram stacks ready for ``_pair_rows``, plus how to shape the result."""

    P: np.ndarray  # (rows_p, n_bins)
    Q: np.ndarray  # (rows_q, n_bins)
    ip: np.ndarray  # (rows,) int64
    iq: np.ndarray  # (rows,) int64
    batch_shape: tuple
    axis: int  # normalised axis of the broadcast result
    axis_arg: int  # the axis as the caller wrote it (for messages)
    p_name: str
    q_name: str


def _as_numeric(x, name):
    arr = np.asarray(x)
    _kind_check(arr, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    return arr


def prepare_pair(p, q, axis=-1, names=("p", "q")) -> PreparedPair:
    """Validate shapes and dtypes (not values) of two histogram arrays and lay them out."""
    p_name, q_name = names
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    a = _as_numeric(p, p_name)
    b = _as_numeric(q, q_name)
    ndim = max(a.ndim, b.ndim)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for {p_name} and {q_name} with shapes "
                         f"{a.shape} and {b.shape}")
    ax = axis % ndim
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape)
    if a.shape[ax] != b.shape[ax]:
        raise ValueError(
            f"{p_name} and {q_name} must have the same number of bins along axis {axis}, "
            f"got {a.shape[ax]} and {b.shape[ax]}"
        )
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{p_name} and {q_name} have shapes {np.shape(p)} and {np.shape(q)} that do not "
            "broadcast"
        ) from None
    for arr, name, orig in ((a, p_name, p), (b, q_name, q)):
        if arr.size == 0:
            raise ValueError(f"{name} is empty (shape {np.shape(orig)})")
    if ax != ndim - 1:
        a = np.moveaxis(a, ax, -1)
        b = np.moveaxis(b, ax, -1)
    n_bins = a.shape[-1]
    batch_shape = tuple(np.broadcast_shapes(a.shape[:-1], b.shape[:-1]))
    if math.prod(batch_shape) == 0:
        raise ValueError(f"{p_name} and {q_name} broadcast to an empty batch (shape {shape})")
    # float32 pairs stay float32 (the kernel widens per element); anything else becomes float64
    dtype = np.float32 if a.dtype == np.float32 and b.dtype == np.float32 else np.float64
    P = np.ascontiguousarray(a, dtype=dtype).reshape(-1, n_bins)
    Q = np.ascontiguousarray(b, dtype=dtype).reshape(-1, n_bins)
    ip = _row_index(a.shape[:-1], batch_shape)
    iq = _row_index(b.shape[:-1], batch_shape)
    return PreparedPair(P, Q, ip, iq, batch_shape, ax, axis, p_name, q_name)


def _row_index(own_batch, batch_shape):
    rows = np.arange(math.prod(own_batch), dtype=np.int64)
    if tuple(own_batch) == tuple(batch_shape):
        return rows
    rows = rows.reshape(own_batch)
    return np.ascontiguousarray(np.broadcast_to(rows, batch_shape).reshape(-1))


def _raise_invalid(arr2d, name):
    """Raise the as_histograms error for the first problem found in ``arr2d`` (exact counts)."""
    _, n_nan, n_inf, n_neg = _scan_rows(arr2d)
    raise_scan_errors(name, n_nan, n_inf, n_neg)


def _check_totals(sums, name, axis_arg, atol):
    worst = float(np.max(np.abs(sums - 1.0)))
    if not worst <= atol:
        raise ValueError(
            f"{name} does not sum to 1 along axis {axis_arg} (off by {worst:.3g} > atol={atol:g}); "
            "pass normalize=True to normalise it"
        )


@njit(cache=True)
def _robust_scales(x):
    """1 / sum of each row, computed as (1/max) / sum(x/max): finite when the plain total
    overflows (entries near 1e308)."""
    n_rows, n_cols = x.shape
    out = np.empty(n_rows)
    for r in range(n_rows):
        m = 0.0
        for c in range(n_cols):
            m = max(m, np.float64(x[r, c]))
        s = 0.0
        for c in range(n_cols):
            s += np.float64(x[r, c]) / m
        out[r] = (1.0 / m) / s
    return out


def _scales(arr2d, name):
    sums, n_nan, n_inf, n_neg = _scan_rows(arr2d)
    if n_nan or n_inf or n_neg:
        _raise_invalid(arr2d, name)
    if np.any(sums <= 0):
        raise ValueError(f"{name} has a histogram of total mass 0: it cannot be normalised")
    if np.any(sums < _TINY):
        raise ValueError(
            f"{name} has a histogram of total mass {float(np.min(sums)):.3g}, below the smallest "
            "normal float64: its masses have lost precision; rescale it before normalising"
        )
    with np.errstate(over="ignore"):
        scales = 1.0 / sums
    if not np.all(np.isfinite(sums) & np.isfinite(scales) & (scales > 0)):
        scales = _robust_scales(arr2d)
    return scales


def check_atol(atol) -> float:
    return check_scalar(atol, "atol", low=0.0)


def pair_sum(prep: PreparedPair, code, param, f_at_zero, slope_at_infinity, *, normalize, atol):
    """Run the fused kernel and return the per-row sums with the batch shape (validated)."""
    atol = check_atol(atol)
    if normalize:
        scale_p = _scales(prep.P, prep.p_name)
        scale_q = _scales(prep.Q, prep.q_name) if prep.Q is not prep.P else scale_p
    else:
        scale_p = np.ones(prep.P.shape[0])
        scale_q = np.ones(prep.Q.shape[0])
    out, sums_p, sums_q, flags = _pair_rows(
        prep.P, prep.Q, prep.ip, prep.iq, scale_p, scale_q,
        int(code), float(param), float(f_at_zero), float(slope_at_infinity),
    )
    if flags & 1:
        _raise_invalid(prep.P, prep.p_name)
    if flags & 2:
        _raise_invalid(prep.Q, prep.q_name)
    if not normalize:
        _check_totals(sums_p, prep.p_name, prep.axis_arg, atol)
        _check_totals(sums_q, prep.q_name, prep.axis_arg, atol)
    return out.reshape(prep.batch_shape)


def validated_rows(prep: PreparedPair, *, normalize, atol):
    """Validate both inputs (exact counts, one scan each) and return per-row scale factors.

    Used by the generic (numpy) path of user-defined f-divergences.
    """
    atol = check_atol(atol)
    scales = []
    for arr, name in ((prep.P, prep.p_name), (prep.Q, prep.q_name)):
        sums, n_nan, n_inf, n_neg = _scan_rows(arr)
        if n_nan or n_inf or n_neg:
            _raise_invalid(arr, name)
        if normalize:
            scales.append(_scales(arr, name))
        else:
            _check_totals(sums, name, prep.axis_arg, atol)
            scales.append(np.ones_like(sums))
    return scales


def finish(values, prep: PreparedPair, keepdims: bool):
    """Insert the reduced axis back on request; 0-d results become Python floats."""
    if keepdims:
        values = np.expand_dims(values, prep.axis)
    if np.ndim(values) == 0:
        return float(values)
    return values


def log_base(base) -> float:
    """log(base) for unit conversion; ``None`` means nats."""
    if base is None:
        return 1.0
    b = check_scalar(base, "base", low=0.0, low_open=True)
    if b == 1.0:
        raise ValueError("base must not be 1 (log base 1 is undefined)")
    return math.log(b)


def check_bool(value, name) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


__all__ = ["prepare_pair", "pair_sum", "validated_rows", "finish", "log_base", "check_bool"]
