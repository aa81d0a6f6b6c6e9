"""MMD^2, energy distance and the MMD permutation test on dask arrays (chunked rows).

:func:`divkit.mmd2`, :func:`divkit.energy_distance` and :func:`divkit.mmd_test` hand dask
arrays to the functions here. The samples stay chunked (on the cluster when a
``dask.distributed`` client is active, else on dask's local scheduler); every task evaluates
the kernel sum of one pair of row chunks with the same numba kernels as the in-memory
functions, and only scalars (or, for the test, one vector of ``B + 1`` entries per pair of
chunks) travel back. Block sums are added in a fixed order, so the result does not depend on
which worker finishes first; it equals the in-memory function to rounding (a relative
difference of order 1e-15, asserted at 1e-12 in the tests).

Kernel sums of pairs of chunks (``S(A, B) = sum_ij k(a_i, b_j)``)::

    S(X, X) = sum_c S(X_c, X_c) + 2 sum_{c < c'} S(X_c, X_c')

The permutation test never forms the pooled ``(n+m)^2`` kernel matrix: for each pair of
pooled chunks ``(c, c')`` one task computes the kernel tile by tile (at most
``TILE_ROWS`` rows at a time) and returns, for every relabelling ``a_b`` (the x-group
indicator), ``a_b[c]^T K_cc' a_b[c']``, ``a_b^T K 1`` restricted to the tile, and the tile's
total; the statistics follow from these quadratic forms exactly as in the in-memory test.
The relabellings are drawn on the client in the same order as :func:`divkit.mmd_test`
(``rng.permutation(n + m)[:n]``) and shipped as packed bits (``(n + m) (B + 1) / 8`` bytes).
"""

from __future__ import annotations

import numpy as np

from divkit._validation import as_rng, check_bool, check_int, probability_weights, renamed_keywords
from divkit.mmd.estimators import check_estimator, check_representable, check_sizes
from divkit.mmd.kernels import (
    BANDWIDTH_KERNELS,
    MEDIAN_MAX_POINTS,
    kernel_matrix,
    kernel_sum,
    median_bandwidth,
    paired_kernel,
    resolve_kernel_rescaled,
)
from divkit.mmd.testing import TIE_RTOL, MMDTestResult

#: rows of one kernel tile inside a permutation-test task (tile of TILE_ROWS x chunk values)
TILE_ROWS = 512


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - only reachable without dask
        raise ImportError("dask arrays need dask: pip install divkit[dask]") from exc
    return dask, da


def _as_dask_sample(x, name: str):
    _, da = _dask()
    arr = x if isinstance(x, da.Array) else da.from_array(np.asarray(x), chunks=-1)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    if any(np.isnan(c) for c in arr.chunks[0]):
        raise ValueError(f"{name} has unknown chunk sizes (call .compute_chunk_sizes())")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    # one chunk across the columns: kernels need whole points
    return arr.astype(np.float64).rechunk({1: -1})


def _samples(x, y):
    """Both samples as float64 dask arrays, validated (finite, same dimension) in one pass."""
    dask, da = _dask()
    X = _as_dask_sample(x, "x")
    Y = _as_dask_sample(y, "y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"x and y must have the same dimension: x has d={X.shape[1]}, y has "
                         f"d={Y.shape[1]}")
    stats = dask.compute(da.isnan(X).sum(), da.isinf(X).sum(), da.isnan(Y).sum(),
                         da.isinf(Y).sum(), X.max(), X.min(), Y.max(), Y.min())
    for name, n_nan, n_inf in (("x", stats[0], stats[1]), ("y", stats[2], stats[3])):
        if n_nan:
            raise ValueError(f"{name} contains {int(n_nan)} NaN value(s)")
        if n_inf:
            raise ValueError(f"{name} contains {int(n_inf)} infinite value(s)")
    hi = max(float(stats[4]), float(stats[6]))
    lo = min(float(stats[5]), float(stats[7]))
    return X, Y, (hi, lo)


def _median_sigma(X, Y, max_points, rng) -> float:
    """:func:`divkit.mmd.median_bandwidth` of the pooled sample: the same seeded subsample of
    ``max_points`` rows (its documented draw), gathered from the chunks, then the exact median."""
    _, da = _dask()
    max_points = check_int(max_points, "median_max_points", low=2)
    Z = da.concatenate([X, Y])
    N = Z.shape[0]
    if N > max_points:
        rows = np.sort(as_rng(rng).choice(N, size=max_points, replace=False))
        sub = Z[rows].compute()
    else:
        sub = Z.compute()
    return median_bandwidth(sub, max_points=max_points)


def _resolve(kernel, bandwidth, X, Y, extremes, options):
    """KernelSpec for the rescaled samples, with the in-memory functions' exact rules: the
    power-of-two scale comes from the extreme values, ``"median"`` from the same subsample."""
    hi, lo = extremes
    d = X.shape[1]
    if isinstance(bandwidth, str) and bandwidth == "median" and kernel in BANDWIDTH_KERNELS:
        bandwidth = _median_sigma(X, Y, options.get("median_max_points", MEDIAN_MAX_POINTS),
                                  options.get("rng"))
    # two rows holding the samples' largest and smallest values: the same scale and dimension
    proxy = np.array([[hi] * d, [lo] * d])
    spec, _, _, scale, value_scale = resolve_kernel_rescaled(kernel, bandwidth, proxy, proxy,
                                                             **options)
    return spec, scale, value_scale


def _blocks(arr):
    """The row chunks of a 2-D dask array as delayed numpy blocks, with their offsets."""
    blocks = list(arr.to_delayed().ravel())
    offsets = np.concatenate([[0], np.cumsum(arr.chunks[0])]).astype(int)
    return blocks, offsets


def _block_kernel_sum(spec, scale, A, B, a, b):
    A = A / scale if scale != 1.0 else A
    if B is None:
        return kernel_sum(spec, A, None, a, b)
    B = B / scale if scale != 1.0 else B
    return kernel_sum(spec, A, B, a, b)


def _block_diagonal(spec, scale, A):
    return float(spec.diagonal(A / scale if scale != 1.0 else A).sum())


def _symmetric_sum_tasks(spec, scale, X, w):
    """Tasks whose fixed-order combination is S(X, X) (weighted by ``w`` when given)."""
    import dask

    blocks, off = _blocks(X)
    tasks, factors = [], []
    for c, A in enumerate(blocks):
        wc = None if w is None else w[off[c]:off[c + 1]]
        tasks.append(dask.delayed(_block_kernel_sum)(spec, scale, A, None, wc, wc))
        factors.append(1.0)
        for c2 in range(c + 1, len(blocks)):
            wc2 = None if w is None else w[off[c2]:off[c2 + 1]]
            tasks.append(dask.delayed(_block_kernel_sum)(spec, scale, A, blocks[c2], wc, wc2))
            factors.append(2.0)
    return tasks, factors


def _cross_sum_tasks(spec, scale, X, Y, a, b):
    import dask

    xb, xo = _blocks(X)
    yb, yo = _blocks(Y)
    tasks = []
    for c, A in enumerate(xb):
        ac = None if a is None else a[xo[c]:xo[c + 1]]
        for c2, B in enumerate(yb):
            bc = None if b is None else b[yo[c2]:yo[c2 + 1]]
            tasks.append(dask.delayed(_block_kernel_sum)(spec, scale, A, B, ac, bc))
    return tasks, [1.0] * len(tasks)


def _combine(values, factors) -> float:
    # fixed order: the result does not depend on task completion order
    total = 0.0
    for v, f in zip(values, factors):
        total += f * v
    return total


def _compute(tasks):
    import dask

    return list(dask.compute(*tasks)) if tasks else []


def _weights(w, n, name, normalize):
    if hasattr(w, "compute"):
        w = w.compute()
    return probability_weights(w, n, name, normalize=normalize)


def _linear_terms(spec, scale, X, Y) -> np.ndarray:
    """h_i of the linear statistic (same pairing as the in-memory function), gathered."""
    import dask

    p = min(X.shape[0], Y.shape[0]) // 2
    parts = [X[0:2 * p:2], X[1:2 * p:2], Y[0:2 * p:2], Y[1:2 * p:2]]
    chunks = parts[0].chunks[0]
    parts = [q.rechunk({0: chunks}) for q in parts]
    cols = [list(q.to_delayed().ravel()) for q in parts]

    def terms(x0, x1, y0, y1):
        if scale != 1.0:
            x0, x1, y0, y1 = x0 / scale, x1 / scale, y0 / scale, y1 / scale
        return (paired_kernel(spec, x0, x1) + paired_kernel(spec, y0, y1)
                - paired_kernel(spec, x0, y1) - paired_kernel(spec, x1, y0))

    tasks = [dask.delayed(terms)(*(c[k] for c in cols)) for k in range(len(chunks))]
    out = _compute(tasks)
    return np.concatenate(out) if out else np.empty(0)


@renamed_keywords(x_weights="a", y_weights="b", median_seed="rng")
def mmd2(x, y, kernel="gaussian", bandwidth=1.0, *, estimator="unbiased", kernel_weights=None,
         a=None, b=None, normalize=False, gamma=None, coef0=1.0, degree=3,
         median_max_points=MEDIAN_MAX_POINTS, rng=None) -> float:
    """:func:`divkit.mmd2` for dask arrays (same arguments, same value to rounding)."""
    check_estimator(estimator)
    X, Y, extremes = _samples(x, y)
    n, m = X.shape[0], Y.shape[0]
    check_sizes(estimator, n, m)
    a = _weights(a, n, "a", normalize)
    b = _weights(b, m, "b", normalize)
    if (a is not None or b is not None) and estimator != "biased":
        raise ValueError(f"weights a / b are supported by estimator='biased' only, got estimator={estimator!r}")
    options = {"kernel_weights": kernel_weights, "gamma": gamma, "coef0": coef0,
               "degree": degree, "median_max_points": median_max_points,
               "rng": as_rng(rng)}
    spec, scale, value_scale = _resolve(kernel, bandwidth, X, Y, extremes, options)
    if estimator == "linear":
        return check_representable(value_scale * float(np.mean(_linear_terms(spec, scale, X, Y))))
    weighted = a is not None or b is not None
    if weighted:
        a = np.full(n, 1.0 / n) if a is None else a
        b = np.full(m, 1.0 / m) if b is None else b
    return check_representable(value_scale * _quadratic(spec, scale, X, Y, estimator, a, b))


def _quadratic(spec, scale, X, Y, estimator, a=None, b=None) -> float:
    import dask

    n, m = X.shape[0], Y.shape[0]
    tx, fx = _symmetric_sum_tasks(spec, scale, X, a)
    ty, fy = _symmetric_sum_tasks(spec, scale, Y, b)
    txy, fxy = _cross_sum_tasks(spec, scale, X, Y, a, b)
    diag = []
    if estimator == "unbiased":
        diag = [dask.delayed(_block_diagonal)(spec, scale, B)
                for arr in (X, Y) for B in _blocks(arr)[0]]
    out = _compute(tx + ty + txy + diag)
    sxx = _combine(out[:len(tx)], fx)
    syy = _combine(out[len(tx):len(tx) + len(ty)], fy)
    sxy = _combine(out[len(tx) + len(ty):len(tx) + len(ty) + len(txy)], fxy)
    if estimator == "biased":
        if a is not None:
            value = sxx + syy - 2.0 * sxy
        else:
            value = sxx / (n * n) + syy / (m * m) - 2.0 * sxy / (n * m)
        return max(value, 0.0)  # a squared RKHS norm: negatives are rounding
    diag_out = out[len(out) - len(diag):]
    nxb = len(_blocks(X)[0])
    sxx -= _combine(diag_out[:nxb], [1.0] * nxb)
    syy -= _combine(diag_out[nxb:], [1.0] * (len(diag_out) - nxb))
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (n * m)


@renamed_keywords(x_weights="a", y_weights="b")
def energy_distance(x, y, *, a=None, b=None, normalize=False) -> float:
    """:func:`divkit.energy_distance` for dask arrays (biased MMD^2, distance kernel)."""
    return mmd2(x, y, "energy", estimator="biased", a=a, b=b, normalize=normalize)


# ---------------------------------------------------------------------------------------------
# permutation test
# ---------------------------------------------------------------------------------------------


def _pair_forms(spec, scale, A, B, PA, PB, n_cols, same):
    """For chunks A, B of the pooled sample and their packed indicators: per relabelling,
    a_A^T K_AB a_B and a^T K 1 restricted to this tile (both sides when A != B), and the
    tile's total; computed tile by tile so that at most TILE_ROWS x len(B) kernel values live."""
    A = A / scale if scale != 1.0 else A
    B = A if same else (B / scale if scale != 1.0 else B)
    IA = np.unpackbits(PA, axis=1, count=n_cols).astype(np.float64)
    IB = IA if same else np.unpackbits(PB, axis=1, count=n_cols).astype(np.float64)
    Q = np.zeros(n_cols)
    aR = np.zeros(n_cols)
    col_sums = np.zeros(B.shape[0])
    total = 0.0
    for t0 in range(0, A.shape[0], TILE_ROWS):
        K = kernel_matrix(spec, A[t0:t0 + TILE_ROWS], B)
        rows = IA[t0:t0 + TILE_ROWS]
        Q += np.einsum("ib,ib->b", rows, K @ IB)
        row_sums = K.sum(axis=1)
        aR += rows.T @ row_sums
        col_sums += K.sum(axis=0)
        total += float(row_sums.sum())
    if not same:  # the mirrored tile K_BA = K_AB^T
        aR += IB.T @ col_sums
        Q *= 2.0
        total *= 2.0
    return Q, aR, total


def _diag_forms(spec, scale, A, PA, n_cols):
    A = A / scale if scale != 1.0 else A
    diag = spec.diagonal(A)
    IA = np.unpackbits(PA, axis=1, count=n_cols).astype(np.float64)
    return IA.T @ diag, float(diag.sum())


def _draw_indicators(n, N, n_permutations, rng):
    """Packed x-group indicators, column 0 the observed split, then the first n entries of each
    rng.permutation(N) in order (the draws of divkit.mmd_test)."""
    cols = n_permutations + 1
    packed = np.zeros((N, (cols + 7) // 8), dtype=np.uint8)
    packed[:n, 0] |= np.uint8(128)
    for col in range(1, cols):
        rows = rng.permutation(N)[:n]
        packed[rows, col >> 3] |= np.uint8(128 >> (col & 7))
    return packed


@renamed_keywords(seed="rng", median_seed="rng")
def mmd_test(x, y, kernel="gaussian", bandwidth=1.0, *, estimator="unbiased", method=None,
             n_permutations=1000, rng=None, memory_budget=None, progress=False,
             kernel_weights=None, gamma=None, coef0=1.0, degree=3,
             median_max_points=MEDIAN_MAX_POINTS) -> MMDTestResult:
    """:func:`divkit.mmd_test` for dask arrays (never forms the pooled kernel matrix)."""
    import dask
    from scipy.special import ndtr

    check_estimator(estimator)
    if method is None:
        method = "linear" if estimator == "linear" else "permutation"
    if method not in ("permutation", "linear"):
        raise ValueError(f"method must be one of ('permutation', 'linear'), got {method!r}")
    if (method == "linear") != (estimator == "linear"):
        raise ValueError("method='linear' goes with estimator='linear' (asymptotic z-test) and "
                         "method='permutation' with the quadratic estimators")
    X, Y, extremes = _samples(x, y)
    n, m = X.shape[0], Y.shape[0]
    check_sizes(estimator, n, m)
    gen = as_rng(rng)
    progress = check_bool(progress, "progress")
    options = {"kernel_weights": kernel_weights, "gamma": gamma, "coef0": coef0,
               "degree": degree, "median_max_points": median_max_points, "rng": gen}
    spec, scale, value_scale = _resolve(kernel, bandwidth, X, Y, extremes, options)
    bandwidth_used = spec.bandwidth_used if scale == 1.0 else \
        _rescaled_bandwidth(spec, scale)

    if method == "linear":
        h = value_scale * _linear_terms(spec, scale, X, Y)
        if h.shape[0] < 2:
            raise ValueError("the linear z-test needs at least 4 points in x and in y (2 terms)")
        stat = check_representable(float(h.mean()))
        sd = float(h.std(ddof=1))
        if sd > 0:
            z = stat / (sd / np.sqrt(h.shape[0]))
            p_value = float(ndtr(-z))
        else:
            z = np.inf if stat > 0 else (0.0 if stat == 0 else -np.inf)
            p_value = 0.0 if stat > 0 else 1.0
        return MMDTestResult(stat, p_value, None, bandwidth_used, kernel, estimator, method, 0,
                             z_score=float(z))

    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    if memory_budget is not None:
        check_int(memory_budget, "memory_budget", low=1)  # the chunks set the memory here
    N = n + m
    cols = n_permutations + 1
    packed = _draw_indicators(n, N, n_permutations, gen)
    _, da = _dask()
    Z = da.concatenate([X, Y])
    blocks, off = _blocks(Z)
    pieces = [dask.delayed(packed[off[c]:off[c + 1]]) for c in range(len(blocks))]
    tasks = []
    for c in range(len(blocks)):
        for c2 in range(c, len(blocks)):
            tasks.append(dask.delayed(_pair_forms)(spec, scale, blocks[c], blocks[c2], pieces[c],
                                                   pieces[c2], cols, c == c2))
    diag_tasks = [dask.delayed(_diag_forms)(spec, scale, blocks[c], pieces[c], cols)
                  for c in range(len(blocks))]
    out = _compute_with_progress(tasks + diag_tasks, progress)
    Q = np.zeros(cols)
    aR = np.zeros(cols)
    total = 0.0
    for q, r, t in out[:len(tasks)]:
        Q += q
        aR += r
        total += t
    adg = np.zeros(cols)
    trace = 0.0
    for d_forms, tr in out[len(tasks):]:
        adg += d_forms
        trace += tr
    # S_xx = Q, S_xy = aR - Q, S_yy = total - 2 aR + Q (all pairs, diagonal included)
    sxx, sxy, syy = Q, aR - Q, total - 2.0 * aR + Q
    with np.errstate(over="ignore", invalid="ignore"):
        if estimator == "biased":
            stats = np.maximum(sxx / (n * n) + syy / (m * m) - 2.0 * sxy / (n * m), 0.0)
        else:
            stats = ((sxx - adg) / (n * (n - 1)) + (syy - (trace - adg)) / (m * (m - 1))
                     - 2.0 * sxy / (n * m))
    observed = float(stats[0])
    null = stats[1:]
    tie = TIE_RTOL * max(abs(observed), float(np.abs(null).max(initial=0.0)), 1e-300)
    p_value = (1.0 + np.count_nonzero(null >= observed - tie)) / (n_permutations + 1.0)
    stat = check_representable(value_scale * observed)
    return MMDTestResult(stat, float(p_value), value_scale * null, bandwidth_used, kernel,
                         estimator, method, n_permutations, matrix_free=True)


def _rescaled_bandwidth(spec, scale):
    sig = spec.bandwidths * scale
    if sig.size == 0:
        return None
    return float(sig[0]) if sig.size == 1 else tuple(float(s) for s in sig)


def _compute_with_progress(tasks, progress):
    if not progress:
        return _compute(tasks)
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ImportError("progress=True needs tqdm (pip install tqdm)") from exc
    try:
        import distributed

        client = distributed.get_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        out = []
        for task in tqdm(tasks, desc="mmd_test blocks", unit="block"):
            out.append(task.compute())
        return out
    futures = client.compute(tasks)
    for _ in tqdm(distributed.as_completed(futures), total=len(futures), desc="mmd_test blocks",
                  unit="block"):
        pass
    return client.gather(futures)


__all__ = ["TILE_ROWS", "energy_distance", "mmd2", "mmd_test"]
