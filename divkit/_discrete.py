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
from numba.extending import overload

from ._numba import FASTMATH, build_once, literal_value
from ._validation import (
    as_array,
    check_bool,
    check_scalar,
    kind_check,
    raise_scan_errors,
    scan_rows,
)

# per-bin term codes understood by the row loops (``pair_rows_kernel``)
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
_LOG2 = math.log(2.0)
# JS / GAN mixtures of two masses below _SMALL_MASS are formed after scaling by 2^_MASS_SHIFT
# (exact), so that pi p + (1 - pi) q never underflows to 0 (e.g. p = q = 5e-324)
_SMALL_MASS = 2.0 ** -900
_MASS_UP = 2.0 ** 200
_MASS_DOWN = 2.0 ** -200
# the compensated sums below must not be reassociated: every FASTMATH flag but "reassoc"
_FASTMATH_COMPENSATED = set(FASTMATH) - {"reassoc"}

# Compile structure. The per-bin formulas below are ordinary kernels (LLVM inlines them into the
# row loop; they carry the flags of the accurate pass, so both passes evaluate a formula the same
# way). Only the shallow dispatchers (the per-code ``term_fast`` / ``term_accurate`` closures of
# ``_term_functions``, ``_block``, ``_task``) are inlined by numba itself; each formula closure
# holds its divergence code as a cell, so branch pruning leaves one code's formula in each row
# loop (``pair_rows_kernel``). Inlining the nested formulas at numba's IR level as well cost
# about a minute of compilation per loop.


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _log_ratio(p, q):
    """log(p / q) for p, q > 0, exact also when p / q over- or underflows (fast pass: the
    rounding of p / q costs up to 2^-53 absolute, which the error estimate accounts for)."""
    r = p / q
    if r >= _TINY and r < np.inf:
        return np.log(r)
    return np.log(p) - np.log(q)


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _atanh_series(y2):
    """(atanh(y) / y - 1) / y^2 = 1/3 + y^2/5 + ... for y^2 <= 1/225 (seven terms: < 1e-17)."""
    return 1.0 / 3.0 + y2 * (0.2 + y2 * (1.0 / 7.0 + y2 * (1.0 / 9.0 + y2 * (
        1.0 / 11.0 + y2 * (1.0 / 13.0 + y2 / 15.0)))))


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _log_ratio_accurate(p, q):
    """log(p / q) to full relative accuracy also for p ~ q: where |p - q| <= q / 8, p - q is
    exact (Sterbenz) and log1p(x), x = (p - q) / q, is 2 atanh(x / (2 + x)) by its series
    (what scipy's rel_entr does with log1p since its gh-20710)."""
    d = p - q
    if abs(d) <= 0.125 * q:
        x = d / q
        y = x / (2.0 + x)
        return 2.0 * y * (1.0 + y * y * _atanh_series(y * y))
    return _log_ratio(p, q)


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _h_small(x):
    """(1 + x) log1p(x) - x >= 0 for |x| <= 1/8, without cancellation.

    With y = x / (2 + x) (so log1p(x) = 2 atanh y) the value is
    x^2 / (2 + x) + 2 (1 + x) (y^3/3 + y^5/5 + ...): no leading terms cancel.
    """
    y = x / (2.0 + x)
    y2 = y * y
    return x * x / (2.0 + x) + 2.0 * (1.0 + x) * y * y2 * _atanh_series(y2)


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _bregman(p, m):
    """p log(p / m) - (p - m) >= 0 for p, m > 0 (the KL term less its linear part), to full
    relative accuracy also for p ~ m: m h((p - m) / m) with h(x) = (1 + x) log1p(x) - x for
    |p - m| <= m / 8; beyond, the direct form loses less than 2 digits."""
    d = p - m
    if abs(d) <= 0.125 * m:
        return m * _h_small(d / m)
    return p * _log_ratio(p, m) - d


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _mixture_term(p, q, pi):
    """The weighted-JS term pi p log(p/m) + (1 - pi) q log(q/m), m = pi p + (1 - pi) q, for
    p, q > 0, to full relative accuracy also for p ~ q and for subnormal masses.

    Near p = q (|p - q| <= q / 8, pi <= 1/2) it is q [pi h(x) - h(pi x)] with x = (p - q) / q
    and h as in ``_h_small``: m is never formed, so its rounding (which would cost
    (2^-53 / x)^2 relative) does not enter; pi > 1/2 swaps the roles of p and q. Elsewhere
    pi B(p, m) + (1 - pi) B(q, m) (the linear parts cancel exactly). Masses below 2^-900 are
    scaled up by 2^200 first (the term is homogeneous), so that m cannot underflow."""
    scale = 1.0
    if p < _SMALL_MASS and q < _SMALL_MASS:
        p *= _MASS_UP
        q *= _MASS_UP
        scale = _MASS_DOWN
    if pi <= 0.5:
        base, other, w = q, p, pi
    else:
        base, other, w = p, q, 1.0 - pi
    d = other - base
    if abs(d) <= 0.125 * base:
        x = d / base
        return base * (w * _h_small(x) - _h_small(w * x)) * scale
    m = pi * p + (1.0 - pi) * q
    return (pi * _bregman(p, m) + (1.0 - pi) * _bregman(q, m)) * scale


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _relexpm1(x):
    """expm1(x) / x, continuous at 0 (value 1)."""
    if x == 0.0:
        return 1.0
    if x == np.inf:
        return np.inf
    return np.expm1(x) / x


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _alpha_term(p, q, alpha):
    """(q f_alpha(p / q), w) for p, q > 0, without cancellation near alpha = 0 or 1, and the
    error weight w of the fast pass (see ``_term_functions``).

    f_alpha(u) = (u^a - 1 - a (u - 1)) / (a (a - 1)) is rewritten with L = log u as
    [u L relexpm1((a-1) L) - (u - 1)] / a   (used for a >= 1/2, exact at a = 1) or
    [L relexpm1(a L) - (u - 1)] / (a - 1)   (used for a < 1/2, exact at a = 0).
    """
    L = _log_ratio(p, q)
    if alpha >= 0.5:
        lead = p * L * _relexpm1((alpha - 1.0) * L)
        return (lead - (p - q)) / alpha, (abs(lead) + abs(p - q)) / abs(alpha)
    lead = q * L * _relexpm1(alpha * L)
    return (lead - (p - q)) / (alpha - 1.0), (abs(lead) + abs(p - q)) / abs(alpha - 1.0)


#: terms of the alpha series used where |x| max(1, |alpha|) <= 1/8 (ratio of terms <= 1/8)
_ALPHA_SERIES_TERMS = 20


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _alpha_term_accurate(p, q, alpha):
    """q f_alpha(p / q) to full relative accuracy also for p ~ q: with x = (p - q) / q,
    f_alpha(1 + x) = sum_{k>=2} c_k x^k, c_2 = 1/2, c_{k+1} = c_k (alpha - k) / (k + 1)
    (the binomial series of (1 + x)^alpha less its linear part, over alpha (alpha - 1))."""
    d = p - q
    if abs(d) * max(1.0, abs(alpha)) <= 0.125 * q:
        x = d / q
        c = 0.5
        xk = x * x
        total = 0.0
        for k in range(2, 2 + _ALPHA_SERIES_TERMS):
            total += c * xk
            c *= (alpha - k) / (k + 1.0)
            xk *= x
        return q * total
    return _alpha_term(p, q, alpha)[0]


def _term_functions(code: int):
    """The per-bin formulas ``(term_fast, term_accurate)`` of the divergence with code ``code``
    (built for every code at import into ``_TERM_FUNCTIONS``; no compilation happens then). A row
    loop reaches them through the overloads of ``_term_fast`` / ``_term_accurate``, which pick
    the loop's code while it is typed.

    ``code`` is a closure cell of each formula, so numba's branch pruning removes every other
    code's branch when it builds the formula, before type inference. As functions taking
    ``code`` as an argument and inlined into the row loop, every code's formula was typed and
    lowered in every loop: the pruning pass runs before numba's inlining, and never saw the
    constant (measured: KL's row loop compiled in 3.2 s instead of 1.2-1.3 s).

    ``term_fast(p, q, param)``: ``(q f(p / q), w)`` for p, q > 0, the term by the direct
    formula and a weight w with |rounding error| <~ 2^-52 w. For KL, reverse KL, JS and GAN the
    weights are bounded by the row's value and masses instead (``_error_bound``) and w = 0
    here: no per-bin cost.

    ``term_accurate(p, q, param)``: ``(a, b)`` with q f(p / q) = a + b for p, q > 0. ``a`` is
    computed to full relative accuracy (for KL-type terms it is >= 0 and free of
    cancellation), ``b`` is the linear part (p - q for KL), which cancels between bins when
    p ~ q and is therefore summed with compensation by the caller.
    """

    @njit(inline="always")
    def term_accurate(p, q, param):
        if code == 0:  # KL: p log(p/q) = B(p, q) + (p - q)
            return _bregman(p, q), p - q
        if code == 1:  # reverse KL
            return _bregman(q, p), q - p
        if code == 2:  # TV
            return 0.5 * abs(p - q), 0.0
        if code == 3:  # Pearson chi^2
            d = p - q
            return d * d / q, 0.0
        if code == 4:  # Neyman chi^2
            d = p - q
            return d * d / p, 0.0
        if code == 5:  # squared Hellinger: sqrt p - sqrt q = (p - q) / (sqrt p + sqrt q), no cancellation
            d = (p - q) / (np.sqrt(p) + np.sqrt(q))
            return d * d, 0.0
        if code == 6:  # Jeffreys
            return (p - q) * _log_ratio_accurate(p, q), 0.0
        if code == 7:  # weighted JS, pi = param
            return _mixture_term(p, q, param), 0.0
        if code == 8:  # GAN: p log(p/s) + q log(q/s) = 2 JS-term(p, q) - (p + q) log 2, s = p + q
            return 2.0 * _mixture_term(p, q, 0.5), -(p + q) * _LOG2
        if code == 9:  # Amari alpha
            return _alpha_term_accurate(p, q, param), 0.0
        if code == 10:  # cross entropy -sum p log q
            return -p * np.log(q), 0.0
        # 11: entropy -sum p log p (called with Q = P)
        return -p * np.log(p), 0.0

    @njit(inline="always")
    def term_fast(p, q, param):
        if code == 0:  # KL
            return p * _log_ratio(p, q), 0.0
        if code == 1:  # reverse KL
            return q * _log_ratio(q, p), 0.0
        if code == 6:  # Jeffreys: log(p/q) is only accurate to 2^-53 absolute
            d = p - q
            L = _log_ratio(p, q)
            return d * L, abs(d) * (abs(L) + 1.0)
        if code == 7:  # weighted JS, pi = param
            m = param * p + (1.0 - param) * q
            if m < _SMALL_MASS:  # the mixture may have underflowed: the exact path
                return _mixture_term(p, q, param), 0.0
            return param * p * _log_ratio(p, m) + (1.0 - param) * q * _log_ratio(q, m), 0.0
        if code == 8:  # GAN
            s = p + q
            return p * _log_ratio(p, s) + q * _log_ratio(q, s), 0.0
        if code == 9:  # Amari alpha
            return _alpha_term(p, q, param)
        a, b = term_accurate(p, q, param)
        return a + b, 0.0

    return term_fast, term_accurate


_TERM_FUNCTIONS = [_term_functions(code) for code in range(CODE_ENTROPY + 1)]


def _term_fast(code, p, q, param):
    """``term_fast`` of :func:`_term_functions` for a compile-time constant ``code``."""
    raise NotImplementedError("_term_fast is only callable from numba kernels")


def _term_accurate(code, p, q, param):
    """``term_accurate`` of :func:`_term_functions` for a compile-time constant ``code``."""
    raise NotImplementedError("_term_accurate is only callable from numba kernels")


# The row loop passes its code (a closure cell, typed as a literal) down to these overloads,
# which pick that code's formula while the loop is typed. The loop's own closure cells stay
# plain numbers: numba keys a cached closure on its pickled cells, and a cell holding a
# dispatcher pickles differently in every process (the loop was never found in the cache).
@overload(_term_fast, inline="always")
def _overload_term_fast(code, p, q, param):
    fast = _TERM_FUNCTIONS[literal_value(code, "divergence code")][0]
    return lambda code, p, q, param: fast(p, q, param)


@overload(_term_accurate, inline="always")
def _overload_term_accurate(code, p, q, param):
    accurate = _TERM_FUNCTIONS[literal_value(code, "divergence code")][1]
    return lambda code, p, q, param: accurate(p, q, param)


@njit(cache=True, inline="always")
def _neumaier(s, c, x):
    """Add x to the compensated sum (s, c) (Neumaier 1974); returns the new (s, c)."""
    t = s + x
    if abs(s) >= abs(x):
        c += (s - t) + x
    else:
        c += (x - t) + s
    return t, c


#: bins per parallel work item; fixed (not derived from the thread count) so that the
#: summation order, hence the result, is the same on every machine
_BLOCK = 1 << 16


@njit(cache=True, inline="always")
def _block(P, Q, rp, rq, lo, hi, sp, sq, code, param, f_at_zero, slope_at_infinity, accurate):
    """Sums over bins lo..hi-1 of one row pair, and flags: 1 if P held NaN, inf or negative
    values there, 2 if Q did (exact counts are recomputed on the error path only).

    Fast pass (``accurate`` false): direct formulas, plus the sum of their error weights.
    Accurate pass: cancellation-free terms, linear parts summed with compensation."""
    acc = 0.0
    err = 0.0
    lin = 0.0
    lin_c = 0.0
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
                if accurate:
                    a, b = _term_accurate(code, x, y, param)
                    acc += a
                    lin, lin_c = _neumaier(lin, lin_c, b)
                else:
                    a, w = _term_fast(code, x, y, param)
                    acc += a
                    err += w
            else:
                acc += x * slope_at_infinity
        elif y > 0.0:
            acc += y * f_at_zero
    return acc, lin, lin_c, err, tot_p, tot_q, flags


@njit(cache=True, inline="always")
def _task(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity, accurate,
          n_blocks, task, partial, flags):
    r = task // n_blocks
    lo = (task % n_blocks) * _BLOCK
    hi = min(lo + _BLOCK, P.shape[1])
    acc, lin, lin_c, err, tot_p, tot_q, flag = _block(
        P, Q, ip[r], iq[r], lo, hi, scale_p[ip[r]], scale_q[iq[r]], code, param, f_at_zero,
        slope_at_infinity, accurate)
    partial[task, 0] = acc
    partial[task, 1] = tot_p
    partial[task, 2] = tot_q
    partial[task, 3] = lin
    partial[task, 4] = lin_c
    partial[task, 5] = err
    flags[task] = flag


@njit(cache=True, fastmath=_FASTMATH_COMPENSATED)
def _reduce_tasks(partial, flags, n_rows, n_blocks):
    out = np.zeros(n_rows)
    lin = np.zeros(n_rows)
    lin_c = np.zeros(n_rows)
    sums_p = np.zeros(n_rows)
    sums_q = np.zeros(n_rows)
    err = np.zeros(n_rows)
    any_flag = 0
    for task in range(partial.shape[0]):
        r = task // n_blocks
        out[r] += partial[task, 0]
        sums_p[r] += partial[task, 1]
        sums_q[r] += partial[task, 2]
        lin[r], lin_c[r] = _neumaier(lin[r], lin_c[r], partial[task, 3])
        lin[r], lin_c[r] = _neumaier(lin[r], lin_c[r], partial[task, 4])
        err[r] += partial[task, 5]
        any_flag |= flags[task]
    for r in range(n_rows):
        out[r] += lin[r] + lin_c[r]
    return out, sums_p, sums_q, any_flag, err


# One build of the row loop per (divergence code, pass, serial/parallel), made on first use
# (``pair_rows_kernel``) and cached on disk like every kernel: a KL call compiles the KL loop
# only. The variant is read from closure cells, which numba treats as compile-time constants:
# the formulas come from ``_term_functions(code)``, pruned to one code before type inference (a
# kernel built over the whole table took about a minute to compile), and the disk cache keys
# each closure on the cells' values. Neither pass reassociates: in the accurate pass that would
# undo the compensation, and in the fast pass, once a loop holds one formula only, LLVM would
# split the running sum into partial sums in an order of its choosing (measured: 7 ulp instead
# of 3 on a 1000-bin GAN sum); the bins are summed in order, as the error estimate assumes.

def _build_pair_rows(code: int, accurate: bool, parallel: bool):
    @njit(cache=True, parallel=parallel, fastmath=_FASTMATH_COMPENSATED)
    def pair_rows(P, Q, ip, iq, scale_p, scale_q, param, f_at_zero, slope_at_infinity):
        if parallel:  # pruned; read so that the serial and parallel builds get different cache keys
            pass
        n_blocks = (P.shape[1] + _BLOCK - 1) // _BLOCK
        n_tasks = ip.shape[0] * n_blocks
        partial = np.empty((n_tasks, 6))
        flags = np.zeros(n_tasks, dtype=np.uint8)
        for task in prange(n_tasks):
            _task(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity,
                  accurate, n_blocks, task, partial, flags)
        return _reduce_tasks(partial, flags, ip.shape[0], n_blocks)

    return pair_rows


def pair_rows_kernel(code: int, accurate: bool, parallel: bool):
    """The row-loop kernel for one divergence code and pass, built on first use."""
    return build_once(_build_pair_rows, int(code), bool(accurate), bool(parallel))


#: below this many bins in total, waking the thread pool costs more than it saves
PARALLEL_MIN_BINS = 1 << 20


#: A row whose fast-pass error estimate (``_error_bound``) exceeds ``ACCURATE_RTOL * |value|``
#: (near-cancellation: p ~ q, where the value is a tiny remainder of terms that cancel) is
#: recomputed by the accurate pass.
ACCURATE_RTOL = 2.0 ** -40
_EPS = 2.0 ** -52


def _error_bound(code, param, value, mass, bin_weights, n_bins):
    """Estimated rounding error of a fast-pass row value: 2^-52 (8 W + sqrt(min(bins, _BLOCK)) A),
    where W bounds the summed per-bin error weights (each term is good to a few ulps of its w)
    and A bounds sum |term| (a running sum's rounding grows like sqrt(count) times it).

    KL: w = p (|log(p/q)| + 1) and p log(q/p) <= q / e where p < q, so W, A <= KL + sum p + sum q.
    JS: p |log(p/m)| <= max(m / e, p log(1/pi)), so W <= (p + q) (1 + 1/e + log(1/min(pi, 1 - pi))).
    GAN: p log(s/p) <= s / e, so W <= (1 + 2/e) (p + q). JS, GAN, Jeffreys and alpha terms
    have one sign: A = |value|. Jeffreys and alpha weights are summed per bin."""
    with np.errstate(invalid="ignore"):
        size = np.where(np.isfinite(value), np.abs(value), 0.0)
    if code == CODE_KL or code == CODE_REVERSE_KL:
        weights = size + mass
        spread = weights
    elif code == CODE_WEIGHTED_JS:
        weights = mass * (1.0 + 1.0 / math.e - math.log(min(param, 1.0 - param)))
        spread = size
    elif code == CODE_GAN:
        weights = mass * (1.0 + 2.0 / math.e)
        spread = size
    else:
        weights = bin_weights
        spread = size
    return _EPS * (8.0 * weights + math.sqrt(min(n_bins, _BLOCK)) * spread)


def _run(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity, accurate):
    big = ip.shape[0] * P.shape[1] >= PARALLEL_MIN_BINS
    # with one thread the parallel build only adds its scheduling overhead (measured 2-5 %)
    parallel = big and numba.get_num_threads() > 1
    kernel = pair_rows_kernel(code, accurate, parallel)
    return kernel(P, Q, ip, iq, scale_p, scale_q, param, f_at_zero, slope_at_infinity)


def _pair_rows(P, Q, ip, iq, scale_p, scale_q, code, param, f_at_zero, slope_at_infinity):
    """Per output row r: sum_j of the divergence term between P[ip[r]] and Q[iq[r]].

    Also returns the raw row totals and a flag word: bit 0 set if P holds NaN, inf or
    negative values, bit 1 if Q does.
    Bins with q = 0 < p contribute p * slope_at_infinity, bins with p = 0 < q contribute
    q * f_at_zero and empty bins contribute 0; both constants are only touched when needed,
    so 0 * inf never occurs. Rows are cut into blocks of ``_BLOCK`` bins (processed in
    parallel for large inputs); the partial sums are added in a fixed order afterwards, so
    serial and parallel runs give identical results.

    Two passes at most: the fast pass uses the direct formulas (one log per bin) and estimates
    its own rounding error; rows where that estimate is not small against the value (p ~ q)
    are recomputed by the accurate pass (cancellation-free terms, compensated linear parts),
    so near-equal inputs pay about twice, and everything else nothing, for full accuracy.
    """
    out, sums_p, sums_q, flags, err = _run(P, Q, ip, iq, scale_p, scale_q, code, param,
                                           f_at_zero, slope_at_infinity, False)
    if flags:
        return out, sums_p, sums_q, flags
    bound = _error_bound(code, param, out, sums_p * scale_p[ip] + sums_q * scale_q[iq], err,
                         P.shape[1])
    redo = np.flatnonzero(bound > ACCURATE_RTOL * np.abs(out))
    if redo.size:
        out[redo] = _run(P, Q, ip[redo], iq[redo], scale_p, scale_q, code, param, f_at_zero,
                         slope_at_infinity, True)[0]
    return out, sums_p, sums_q, flags


@dataclass
class PreparedPair:
    """Two histogram stacks ready for ``_pair_rows``, plus how to shape the result."""

    P: np.ndarray  # (rows_p, n_bins)
    Q: np.ndarray  # (rows_q, n_bins)
    ip: np.ndarray  # (rows,) int64
    iq: np.ndarray  # (rows,) int64
    batch_shape: tuple
    axis: int  # normalised axis of the broadcast result
    axis_arg: int | np.integer  # the axis as the caller wrote it (for messages)
    p_name: str
    q_name: str


def _as_numeric(x, name):
    arr = as_array(x, name)
    kind_check(arr, name)
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
    _, n_nan, n_inf, n_neg = scan_rows(arr2d)
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
    sums, n_nan, n_inf, n_neg = scan_rows(arr2d)
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
        sums, n_nan, n_inf, n_neg = scan_rows(arr)
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




__all__ = ["check_bool", "finish", "log_base", "pair_sum", "prepare_pair", "validated_rows"]
