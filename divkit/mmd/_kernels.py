"""Private numba kernels for MMD: blocked, matrix-free kernel sums and dense kernel blocks.

Every kernel value is ``k = sum_l w_l f(base * s_l)`` where ``base`` is one of three pairwise
quantities (squared Euclidean distance, L1 distance, or inner product), computed per block of
``BLOCK x BLOCK`` pairs:

* squared distances of dimension >= ``GEMM_MIN_DIM`` as ``||x||^2 + ||y||^2 - 2 x.y`` with the
  ``x.y`` block from BLAS (numba's ``np.dot``), clipped at 0 against cancellation; the caller
  centres the points first so that the norms, and hence the cancellation error, stay small;
* everything else (low dimension, L1 distances, and the square-root kernels whose derivative
  at 0 would amplify the cancellation error) from explicit differences, vectorised over the
  block's columns.

The exponential is evaluated by ``_exp_nonpositive`` (Cody-Waite range reduction plus a
degree-11 minimax polynomial; within 2 ulp of libm in the tests) because libm's ``exp``
does not vectorise without SVML. Its range reduction relies on exact IEEE rounding, so the
functions calling it use the ``_EXACT`` flags (no ``reassoc``); sums use divkit's ``FASTMATH``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.extending import overload

from divkit._numba import FASTMATH, build_once, literal_value

#: rows and columns per block; one float64 block of inner products per thread (2 MiB).
#: 512 measured ~10% faster than 256 or 1024 for the d = 16 Gaussian benchmark
BLOCK = 512
#: smallest dimension for which squared distances go through the GEMM form
GEMM_MIN_DIM = 4

GAUSSIAN, LAPLACIAN, LAPLACIAN_L2, IMQ, POLYNOMIAL, LINEAR, ENERGY = range(7)
BASE_SQDIST, BASE_L1, BASE_DOT = range(3)

# contraction into FMAs is harmless; reassociation would undo the exp's range reduction
_EXACT = {"nsz", "arcp", "contract"}

_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds a double to an integer
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of log(2): hi has trailing zero bits
_LN2_LO = 1.90821492927058770002e-10
_C2 = 0.5000000000000019
_C3 = 0.1666666666666668
_C4 = 0.04166666666648795
_C5 = 0.008333333333319589
_C6 = 0.0013888888952352863
_C7 = 0.00019841269890076403
_C8 = 2.4801485441561313e-05
_C9 = 2.755724088722987e-06
_C10 = 2.763265472252779e-07
_C11 = 2.5110049204818658e-08


@njit(cache=True, inline="always")
def _exp_nonpositive(t):
    """exp(t) for t <= 0 (including -inf and subnormal results), vectorisable.

    Inlined at the numba level, so it compiles with its caller's fast-math flags: call it only
    from functions using ``_EXACT`` (with ``reassoc`` LLVM folds ``(t*log2e + S) - S`` to
    ``t*log2e`` and the result is wrong; the tests would catch it).
    """
    if t < -746.0:
        t = -746.0  # exp(-746) rounds to 0 already
    shifted = t * _LOG2E + _SHIFTER
    k_float = shifted - _SHIFTER
    r = t - k_float * _LN2_HI - k_float * _LN2_LO
    # minimax polynomial for exp on [-log(2)/2, log(2)/2], degree 11 (mpmath.chebyfit at 60
    # digits; approximation error 3e-18, below the ~1 ulp of evaluating it in double)
    p = 1.0 + r * (1.0 + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (
        _C7 + r * (_C8 + r * (_C9 + r * (_C10 + r * _C11))))))))))
    k = np.int64(k_float)
    # 2**k in two halves so that results down to the subnormal range stay exact
    k_half = k >> 1
    scale_a = np.int64((k_half + 1023) << 52)
    scale_b = np.int64((k - k_half + 1023) << 52)
    return p * scale_a.view(np.float64) * scale_b.view(np.float64)


def _build_apply_kernel(code: int):
    @njit(cache=True, fastmath=_EXACT)
    def apply_kernel(base, out, n_el, inv_scales, weights, gamma, coef0, degree):
        """out[:n_el] = kernel values from base[:n_el] (see the module docstring)."""
        if code == POLYNOMIAL:
            for j in range(n_el):
                v = gamma * base[j] + coef0
                acc = 1.0
                for _ in range(degree):
                    acc *= v
                out[j] = acc
            return
        if code == LINEAR:
            for j in range(n_el):
                out[j] = base[j]
            return
        if code == ENERGY:
            for j in range(n_el):
                out[j] = -np.sqrt(base[j])
            return
        # one tight loop per kernel, so that it vectorises; out starts at +0.0, and 0.0 + v is
        # exactly v for the non-negative terms below, so the first bandwidth adds nothing
        for j in range(n_el):
            out[j] = 0.0
        for level in range(inv_scales.shape[0]):
            s = inv_scales[level]
            w = weights[level]
            if code == GAUSSIAN or code == LAPLACIAN:
                for j in range(n_el):
                    # b > 0 tested so that an infinite s (tiny bandwidth) gives exp(0), not NaN
                    out[j] += w * _exp_nonpositive(-(s * base[j]) if base[j] > 0.0 else 0.0)
            elif code == LAPLACIAN_L2:
                for j in range(n_el):
                    t = -(s * np.sqrt(base[j])) if base[j] > 0.0 else 0.0
                    out[j] += w * _exp_nonpositive(t)
            else:  # IMQ
                for j in range(n_el):
                    out[j] += w / np.sqrt(1.0 + (s * base[j] if base[j] > 0.0 else 0.0))

    return apply_kernel


@njit(cache=True)
def _gemm_block(X, Y, i0, bi, j0, bj, gbuf):
    """gbuf[i*bj + j] = <x_{i0+i}, y_{j0+j}> for the whole block, by BLAS."""
    block = gbuf[:bi * bj].reshape((bi, bj))
    np.dot(np.ascontiguousarray(X[i0:i0 + bi]), np.ascontiguousarray(Y[j0:j0 + bj]).T, block)


#: a GEMM squared distance ||x||^2 + ||y||^2 - 2 x.y below NEAR_RATIO (||x||^2 + ||y||^2) has
#: lost more than 10 bits to cancellation (its error is ~4 * 2^-53 (||x||^2 + ||y||^2)): such
#: pairs (identical points, duplicates, near neighbours) are recomputed from their differences,
#: so identical points are exactly at distance 0 and the rest keep <= 2^-40 relative error.
NEAR_RATIO = 2.0 ** -10


@njit(cache=True, inline="always")
def _direct_sqdist(X, Y, i, j):
    acc = 0.0
    for k in range(X.shape[1]):
        t = X[i, k] - Y[j, k]
        acc += t * t
    return acc


def _build_base_row(base_kind: int, use_gemm: bool):
    @njit(cache=True, fastmath=_EXACT)
    def base_row(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, row):
        """row[j] = base(x_{i0+i}, y_{j0+j}) for j < bj: from the GEMM block (squared distances
        as ||x||^2 + ||y||^2 - 2 x.y clipped at 0, exact 0 on the diagonal of a symmetric
        problem) or from explicit differences (Yt = Y transposed, contiguous per coordinate)."""
        if use_gemm:
            g = gbuf[i * bj:(i + 1) * bj]
            if base_kind == BASE_SQDIST:
                nxi = nx[i0 + i]
                nyb = ny[j0:j0 + bj]
                for j in range(bj):
                    scale = nxi + nyb[j]
                    v = scale - 2.0 * g[j]
                    if v <= NEAR_RATIO * scale:
                        v = _direct_sqdist(X, Y, i0 + i, j0 + j)
                    row[j] = v
                if symmetric and i0 == j0 and i < bj:
                    row[i] = 0.0
            else:
                for j in range(bj):
                    row[j] = g[j]
            return
        for j in range(bj):
            row[j] = 0.0
        for k in range(X.shape[1]):
            xik = X[i0 + i, k]
            yk = Yt[k, j0:j0 + bj]
            if base_kind == BASE_L1:
                for j in range(bj):
                    row[j] += abs(xik - yk[j])
            elif base_kind == BASE_SQDIST:
                for j in range(bj):
                    t = xik - yk[j]
                    row[j] += t * t
            else:
                for j in range(bj):
                    row[j] += xik * yk[j]

    return base_row


# The loops below call ``_apply_kernel`` and ``_base_row`` with the variant as compile-time
# constants (closure cells of the entry points, see the end of the module); these overloads
# pick that variant's build while the caller is typed.
def _apply_kernel(base, out, n_el, code, inv_scales, weights, gamma, coef0, degree):
    """out[:n_el] = kernel values from base[:n_el] for the constant kernel ``code``."""
    raise NotImplementedError("_apply_kernel is only callable from numba kernels")


@overload(_apply_kernel, inline="always")
def _overload_apply_kernel(base, out, n_el, code, inv_scales, weights, gamma, coef0, degree):
    build = build_once(_build_apply_kernel, literal_value(code, "kernel code"))
    return (lambda base, out, n_el, code, inv_scales, weights, gamma, coef0, degree:
            build(base, out, n_el, inv_scales, weights, gamma, coef0, degree))


def _base_row(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, base_kind, use_gemm, row):
    """row[j] = base(x_{i0+i}, y_{j0+j}) for the constant ``base_kind`` and ``use_gemm``."""
    raise NotImplementedError("_base_row is only callable from numba kernels")


@overload(_base_row, inline="always")
def _overload_base_row(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, base_kind, use_gemm,
                       row):
    build = build_once(_build_base_row, literal_value(base_kind, "base kind"),
                       bool(literal_value(use_gemm, "GEMM flag")))
    return (lambda X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, base_kind, use_gemm, row:
            build(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, row))


@njit(cache=True, fastmath=_EXACT)
def _gaussian_row_from_gemm(X, Y, gbuf, nx, ny, i0, i, j0, bj, symmetric, s, w, krow):
    """The common case fused: krow[j] = w exp(-s d2_ij) straight from the GEMM block (near
    pairs recomputed from their differences, see NEAR_RATIO). The squared-distance loop is
    written out here and in ``_build_base_row``: with one inlined helper for it, both GEMM
    paths ran 2x slower (measured on d = 16 Gaussian and IMQ MMD^2; the loops no longer
    vectorised)."""
    g = gbuf[i * bj:(i + 1) * bj]
    nxi = nx[i0 + i]
    nyb = ny[j0:j0 + bj]
    for j in range(bj):
        scale = nxi + nyb[j]
        d2 = scale - 2.0 * g[j]
        if d2 <= NEAR_RATIO * scale:
            d2 = _direct_sqdist(X, Y, i0 + i, j0 + j)
        krow[j] = w * _exp_nonpositive(-(s * d2) if d2 > 0.0 else 0.0)  # no inf * 0
    if symmetric and i0 == j0 and i < bj:
        krow[i] = w  # exact zero distance on the diagonal


@njit(cache=True, fastmath=FASTMATH)
def _row_sum(krow, bj, b, j0, weighted):
    """sum_j b_j krow[j] (plain sum when not weighted)."""
    total = 0.0
    if weighted:
        for j in range(bj):
            total += b[j0 + j] * krow[j]
    else:
        for j in range(bj):
            total += krow[j]
    return total


@njit(cache=True, inline="always")
def _block(p, nbj, n, m):
    """Block ``p`` of the row-major grid of BLOCK x BLOCK blocks over an n x m matrix:
    its grid indices, first row and column, and its number of rows and columns."""
    bi_idx = p // nbj
    bj_idx = p % nbj
    i0 = bi_idx * BLOCK
    j0 = bj_idx * BLOCK
    return bi_idx, bj_idx, i0, j0, min(n, i0 + BLOCK) - i0, min(m, j0 + BLOCK) - j0


@njit(cache=True, inline="always")
def _kernel_sum_chunk(X, Y, Yt, nx, ny, symmetric, base_kind, use_gemm, code, inv_scales,
                      weights, gamma, coef0, degree, a, b, weighted, chunk, n_chunks, block_sums):
    """Blocks ``chunk, chunk + n_chunks, ...`` of sum_ij a_i b_j k(x_i, y_j), each block's sum
    written to ``block_sums[p]`` (the caller adds them in block order, so the result does not
    depend on how blocks were spread over threads); ``symmetric`` means Y is X and only blocks
    on or above the diagonal are evaluated. A one-bandwidth Gaussian kernel on GEMM squared
    distances takes its rows straight from the GEMM block. Rows of a block are finished one at a time (base,
    kernel, sum) while they sit in L1."""
    n = X.shape[0]
    m = Y.shape[0]
    nbi = (n + BLOCK - 1) // BLOCK
    nbj = (m + BLOCK - 1) // BLOCK
    # inlined into a prange body, these buffers stay per chunk (per thread) because numba only
    # hoists an allocation out of a parallel loop when nothing stores into it: they are written
    # through calls. Fill one by a direct setitem here and the threads would share it.
    gbuf = np.empty(BLOCK * BLOCK if use_gemm else 0)
    row = np.empty(BLOCK)
    krow = np.empty(BLOCK)
    single_level = inv_scales.shape[0] == 1
    for p in range(chunk, nbi * nbj, n_chunks):
        bi_idx, bj_idx, i0, j0, bi, bj = _block(p, nbj, n, m)
        if symmetric and bj_idx < bi_idx:
            continue
        if use_gemm:
            _gemm_block(X, Y, i0, bi, j0, bj, gbuf)
        s = 0.0
        for i in range(bi):
            # every operand but the last is a constant in each build: pruned before typing
            if use_gemm and base_kind == BASE_SQDIST and code == GAUSSIAN and single_level:
                _gaussian_row_from_gemm(X, Y, gbuf, nx, ny, i0, i, j0, bj, symmetric,
                                        inv_scales[0], weights[0], krow)
            else:
                _base_row(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, base_kind, use_gemm,
                          row)
                _apply_kernel(row, krow, bj, code, inv_scales, weights, gamma, coef0, degree)
            r = _row_sum(krow, bj, b, j0, weighted)
            s += a[i0 + i] * r if weighted else r
        if symmetric and bj_idx > bi_idx:
            s *= 2.0  # the mirrored block below the diagonal
        block_sums[p] = s


@njit(cache=True, inline="always")
def _ordered_sum(block_sums):
    total = 0.0
    for p in range(block_sums.shape[0]):
        total += block_sums[p]
    return total


@njit(cache=True, inline="always")
def _kernel_matrix_chunk(X, Y, Yt, nx, ny, symmetric, base_kind, use_gemm, code, inv_scales,
                         weights, gamma, coef0, degree, out, chunk, n_chunks):
    """Blocks ``chunk, chunk + n_chunks, ...`` of out[i, j] = k(x_i, y_j) (mirrored when
    ``symmetric``)."""
    n = X.shape[0]
    m = Y.shape[0]
    nbi = (n + BLOCK - 1) // BLOCK
    nbj = (m + BLOCK - 1) // BLOCK
    gbuf = np.empty(BLOCK * BLOCK if use_gemm else 0)
    row = np.empty(BLOCK)
    for p in range(chunk, nbi * nbj, n_chunks):
        bi_idx, bj_idx, i0, j0, bi, bj = _block(p, nbj, n, m)
        if symmetric and bj_idx < bi_idx:
            continue
        if use_gemm:
            _gemm_block(X, Y, i0, bi, j0, bj, gbuf)
        for i in range(bi):
            _base_row(X, Y, Yt, nx, ny, gbuf, i0, i, j0, bj, symmetric, base_kind, use_gemm,
                      row)
            krow = out[i0 + i, j0:j0 + bj]
            _apply_kernel(row, krow, bj, code, inv_scales, weights, gamma, coef0, degree)
            if symmetric and bj_idx > bi_idx:
                for j in range(bj):
                    out[j0 + j, i0 + i] = krow[j]


@njit(cache=True)
def _paired_base(X, Y, base_kind):
    """base(x_i, y_i) for each row i, from explicit differences."""
    n, d = X.shape
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(d):
            if base_kind == BASE_L1:
                acc += abs(X[i, k] - Y[i, k])
            elif base_kind == BASE_SQDIST:
                t = X[i, k] - Y[i, k]
                acc += t * t
            else:
                acc += X[i, k] * Y[i, k]
        out[i] = acc
    return out


@njit(cache=True)
def pairwise_sqdist_upper(Z):
    """Squared distances of the distinct pairs i < j of Z's rows, flattened."""
    n, d = Z.shape
    out = np.empty(n * (n - 1) // 2)
    t = 0
    for i in range(n):
        for j in range(i + 1, n):
            acc = 0.0
            for k in range(d):
                diff = Z[i, k] - Z[j, k]
                acc += diff * diff
            out[t] = acc
            t += 1
    return out


# ---------------------------------------------------------------------------------------------
# One build per kernel variant
# ---------------------------------------------------------------------------------------------
# The block loops above take the kernel code, the base kind and the GEMM flag as arguments.
# Each entry point below is a closure built per variant whose cells hold those values as plain
# numbers. The block loop is inlined into the closure (numba IR inlining), where its branches on
# the cells (GEMM block or not, fused Gaussian row or not) are pruned before type inference;
# the cells reach ``_apply_kernel`` and ``_base_row`` typed as literals, and their overloads
# pick the helper build for those values (itself a closure, pruned the same way). A first
# Gaussian MMD^2 on low-dimensional points therefore compiles neither the BLAS block nor the
# other kernels' formulas: 10.2 -> 5.3 s of compile on a cold cache against one generic build
# of every variant. A serial build runs the parallel build's loop with one chunk: the same
# block sums in the same order, the same bits. Cells are numbers, not dispatchers, so that
# numba finds the build in its disk cache (it keys a cached closure on its pickled cells);
# ``parallel`` is read in the body so that the serial and parallel builds of a variant get
# different cache keys.


def _build_kernel_sum(code: int, base_kind: int, use_gemm: bool, parallel: bool):
    @njit(cache=True, parallel=parallel)
    def kernel_sum(X, Y, Yt, nx, ny, symmetric, inv_scales, weights, gamma, coef0, degree, a,
                   b, weighted, n_chunks):
        if parallel:  # pruned; read so that the serial and parallel builds get different keys
            pass
        n_blocks = ((X.shape[0] + BLOCK - 1) // BLOCK) * ((Y.shape[0] + BLOCK - 1) // BLOCK)
        block_sums = np.empty(n_blocks)
        for p in range(n_blocks):  # skipped (mirrored) blocks add 0; no np.zeros to compile
            block_sums[p] = 0.0
        for chunk in prange(n_chunks):
            _kernel_sum_chunk(X, Y, Yt, nx, ny, symmetric, base_kind, use_gemm, code, inv_scales,
                              weights, gamma, coef0, degree, a, b, weighted, chunk, n_chunks,
                              block_sums)
        return _ordered_sum(block_sums)

    return kernel_sum


def _build_kernel_matrix(code: int, base_kind: int, use_gemm: bool, parallel: bool):
    @njit(cache=True, parallel=parallel)
    def kernel_matrix(X, Y, Yt, nx, ny, symmetric, inv_scales, weights, gamma, coef0, degree,
                      out, n_chunks):
        if parallel:  # pruned; read so that the serial and parallel builds get different keys
            pass
        for chunk in prange(n_chunks):
            _kernel_matrix_chunk(X, Y, Yt, nx, ny, symmetric, base_kind, use_gemm, code,
                                 inv_scales, weights, gamma, coef0, degree, out, chunk, n_chunks)

    return kernel_matrix


def _build_paired_values(code: int, base_kind: int):
    @njit(cache=True)
    def paired_values(X, Y, inv_scales, weights, gamma, coef0, degree):
        base = _paired_base(X, Y, base_kind)
        out = np.empty(base.shape[0])
        _apply_kernel(base, out, base.shape[0], code, inv_scales, weights, gamma, coef0, degree)
        return out

    return paired_values


def kernel_sum_kernel(code: int, base_kind: int, use_gemm: bool, parallel: bool):
    """``kernel_sum(X, Y, Yt, nx, ny, symmetric, inv_scales, weights, gamma, coef0, degree,
    a, b, weighted, n_chunks)``: sum_ij a_i b_j k(x_i, y_j) without storing the matrix, for
    one kernel variant, built on first use. Blocks are spread over ``n_chunks`` chunks (one
    per thread; 1 for the serial build) and their sums added in block order, so the result
    does not depend on the thread count; ``symmetric`` means Y is X."""
    return build_once(_build_kernel_sum, int(code), int(base_kind), bool(use_gemm), bool(parallel))


def kernel_matrix_kernel(code: int, base_kind: int, use_gemm: bool, parallel: bool):
    """``kernel_matrix(X, Y, Yt, nx, ny, symmetric, inv_scales, weights, gamma, coef0, degree,
    out, n_chunks)``: the dense k(x_i, y_j) into ``out`` for one kernel variant (mirrored
    when ``symmetric``), built on first use."""
    return build_once(_build_kernel_matrix, int(code), int(base_kind), bool(use_gemm),
                  bool(parallel))


def paired_values_kernel(code: int, base_kind: int):
    """``paired_values(X, Y, inv_scales, weights, gamma, coef0, degree)``: k(x_i, y_i) row by
    row for one kernel variant, built on first use."""
    return build_once(_build_paired_values, int(code), int(base_kind))
