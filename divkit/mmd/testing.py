"""Kernel two-sample tests: the permutation test on MMD^2 and the linear-time z-test."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from divkit._validation import as_rng, check_bool, check_int, renamed_keywords
from divkit.distributed import dask_dispatch, is_dask_array
from divkit.mmd.estimators import check_estimator, check_representable, check_sizes, linear_terms
from divkit.mmd.kernels import MEDIAN_MAX_POINTS, as_sample_pair, kernel_matrix, resolve_kernel_rescaled

#: default memory budget (bytes) for the pooled kernel matrix and the permutation buffers
MEMORY_BUDGET = 512 * 2**20
#: a permuted statistic within this relative distance of the observed one counts as a tie
#: (T_b >= T): relabellings equivalent to the observed split must not fall below it by rounding
TIE_RTOL = 1e-12
#: most permutations handled by one matrix product
_MAX_BATCH = 128

METHODS = ("permutation", "linear")


@dataclass(frozen=True, eq=False)
class MMDTestResult:
    """Outcome of :func:`mmd_test`.

    Attributes
    ----------
    statistic : float
        The observed MMD^2 estimate (of ``estimator``).
    p_value : float
        Permutation: ``(1 + #{b : T_b >= T}) / (B + 1)``. Linear: ``1 - Phi(z)`` (one-sided).
    null_statistics : numpy.ndarray or None
        The ``B`` permuted statistics ``T_b`` (None for the linear z-test).
    bandwidth : float, tuple of float or None
        The bandwidth(s) used (after resolving ``"median"``); None for kernels without one.
    kernel, estimator, method : str
    n_permutations : int
        ``B`` (0 for the linear z-test).
    z_score : float or None
        Linear z-test: ``mean(h) / sqrt(var(h) / p)`` with the sample variance of the ``p``
        terms ``h_i``.
    matrix_free : bool
        Whether the permutations recomputed kernel values panel by panel because the pooled
        kernel matrix did not fit ``memory_budget``.
    """

    statistic: float
    p_value: float
    null_statistics: np.ndarray | None
    bandwidth: float | tuple | None
    kernel: str
    estimator: str
    method: str
    n_permutations: int
    z_score: float | None = None
    matrix_free: bool = False


def _statistics_from_forms(Q, aR, adg, total, trace, n, m, estimator):
    """MMD^2 for each labelling from Q = a^T K a, aR = a^T K 1, adg = a . diag(K).

    With S_xx = Q, S_xy = aR - Q and S_yy = total - 2 aR + Q (sums over all pairs, diagonal
    included), the same formulas as the estimators in divkit.mmd.estimators.
    """
    sxx = Q
    sxy = aR - Q
    syy = total - 2.0 * aR + Q
    if estimator == "biased":
        return np.maximum(sxx / (n * n) + syy / (m * m) - 2.0 * sxy / (n * m), 0.0)
    return ((sxx - adg) / (n * (n - 1)) + (syy - (trace - adg)) / (m * (m - 1))
            - 2.0 * sxy / (n * m))


def _permutation_test(spec, X, Y, estimator, n_permutations, rng, memory_budget, progress):
    n, m = X.shape[0], Y.shape[0]
    N = n + m
    Z = np.concatenate([X, Y])
    diag = spec.diagonal(Z)
    trace = float(diag.sum())
    full = N * N * 8 <= memory_budget
    left = max(memory_budget - (N * N * 8 if full else 0), 0)
    # two N x batch float64 buffers (indicators and K @ indicators)
    batch = int(min(_MAX_BATCH, max(1, left // (16 * N)), n_permutations + 1))
    panel = N if full else int(max(1, min(N, left // 2 // (8 * N))))

    K = kernel_matrix(spec, Z) if full else None
    row_sums = K.sum(axis=1) if full else None
    stats = np.empty(n_permutations + 1)
    starts = range(0, n_permutations + 1, batch)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError("progress=True needs tqdm (pip install tqdm)") from exc
        starts = tqdm(starts, desc="mmd_test permutations", unit="batch")
    for s in starts:
        # N x batch indicators of the x-group: column 0 of the first batch is the observed
        # split, then the first n entries of each rng.permutation(N), drawn in order
        width = min(batch, n_permutations + 1 - s)
        A = np.zeros((N, width))
        for col in range(width):
            if s + col == 0:
                A[:n, col] = 1.0
            else:
                A[rng.permutation(N)[:n], col] = 1.0
        if full:
            KA = K @ A
        else:
            KA = np.empty_like(A)
            sums = np.empty(N) if row_sums is None else None
            for p0 in range(0, N, panel):
                K_panel = kernel_matrix(spec, Z[p0:p0 + panel], Z)
                KA[p0:p0 + panel] = K_panel @ A
                if sums is not None:
                    sums[p0:p0 + panel] = K_panel.sum(axis=1)
            if row_sums is None:
                row_sums = sums
        Q = np.einsum("ib,ib->b", A, KA)
        stats[s:s + batch] = _statistics_from_forms(
            Q, A.T @ row_sums, A.T @ diag, float(row_sums.sum()), trace, n, m, estimator)
    observed = float(stats[0])
    null = stats[1:]
    tie = TIE_RTOL * max(abs(observed), float(np.abs(null).max(initial=0.0)), 1e-300)
    p_value = (1.0 + np.count_nonzero(null >= observed - tie)) / (n_permutations + 1.0)
    return observed, float(p_value), null, not full


@renamed_keywords(seed="rng", median_seed="rng")
def mmd_test(
    x,
    y,
    kernel: str = "gaussian",
    bandwidth=1.0,
    *,
    estimator: str = "unbiased",
    method: str | None = None,
    n_permutations: int = 1000,
    rng=None,
    memory_budget: int = MEMORY_BUDGET,
    progress: bool = False,
    kernel_weights=None,
    gamma=None,
    coef0: float = 1.0,
    degree: int = 3,
    median_max_points: int = MEDIAN_MAX_POINTS,
) -> MMDTestResult:
    r"""Kernel two-sample test of ``H0: P = Q`` with the MMD^2 statistic.

    ``method="permutation"`` (the default for the quadratic estimators): the statistic
    ``T = mmd2(x, y, estimator=...)`` is compared with ``T_b`` computed on ``B`` random
    relabellings of the pooled sample (the first ``n`` of a uniform permutation form the
    x-group); ``p = (1 + #{b : T_b >= T}) / (B + 1)``, a valid p-value for any ``B``.

    The pooled ``(n+m) x (n+m)`` kernel matrix is computed once when it fits
    ``memory_budget``; each relabelling then costs one quadratic form ``a^T K a`` in the group
    indicator ``a``, evaluated for up to 128 relabellings at a time as one matrix product.
    When the matrix does not fit, the kernel is recomputed in row panels of the pooled sample
    (matrix-free: memory ``O(memory_budget)``), once per batch of relabellings.

    ``method="linear"`` (the default for ``estimator="linear"``): Gretton et al.'s linear-time
    statistic ``T = mean(h_i)`` over ``p = floor(min(n, m)/2)`` independent terms (see
    :func:`~divkit.mmd2`), and the asymptotic z-test ``z = T / sqrt(s^2 / p)`` with the sample
    variance ``s^2`` of the ``h_i`` and ``p_value = 1 - Phi(z)`` (one-sided: large T rejects).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
    kernel, bandwidth, kernel_weights, gamma, coef0, degree, median_max_points
        As in :func:`~divkit.mmd2`; ``"median"`` is resolved once on the pooled sample.
    estimator : {"unbiased", "biased", "linear"}, default "unbiased"
    method : {"permutation", "linear"}, optional
    n_permutations : int, default 1000
        ``B`` (>= 1).
    rng : None, int, SeedSequence, BitGenerator or Generator, optional
        Source of all the test's randomness (the median heuristic's subsample, when there is
        one, then the relabellings), anything ``numpy.random.default_rng`` accepts (SPEC 7;
        ``None``, the default, draws fresh entropy; equal ints give identical results).
        ``seed=`` and ``median_seed=`` are its deprecated names.
    memory_budget : int, default 512 MiB
        Bytes allowed for the pooled kernel matrix plus the permutation buffers.
    progress : bool, default False
        Show a tqdm progress bar over batches of relabellings (needs tqdm).

    Returns
    -------
    MMDTestResult

    References
    ----------
    A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf, A. Smola, "A kernel two-sample
    test", JMLR 13 (2012), section 6 (linear statistic, Corollary 16). B. Phipson, G. K. Smyth,
    "Permutation p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 9 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from divkit import mmd_test
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 2))
    >>> y = rng.normal(size=(100, 2)) + 1.0
    >>> res = mmd_test(x, y, bandwidth="median", n_permutations=199, rng=1)
    >>> res.p_value  # no relabelling reached the observed statistic: 1 / (199 + 1)
    0.005
    >>> mmd_test(x, y, estimator="linear").p_value < 0.01
    True
    """
    if is_dask_array(x) or is_dask_array(y):  # chunked samples: no pooled kernel matrix
        return dask_dispatch("mmd_test", locals())
    X, Y = as_sample_pair(x, y)
    estimator = check_estimator(estimator)
    if method is None:
        method = "linear" if estimator == "linear" else "permutation"
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "linear" and estimator != "linear":
        raise ValueError("method='linear' is the z-test of estimator='linear'; got "
                         f"estimator={estimator!r}")
    if method == "permutation" and estimator == "linear":
        raise ValueError("estimator='linear' is tested with method='linear' (asymptotic z-test)")
    check_sizes(estimator, X.shape[0], Y.shape[0])
    gen = as_rng(rng)
    progress = check_bool(progress, "progress")
    spec, X, Y, scale, value_scale = resolve_kernel_rescaled(
        kernel, bandwidth, X, Y, kernel_weights=kernel_weights, gamma=gamma, coef0=coef0,
        degree=degree, median_max_points=median_max_points, rng=gen)
    # the bandwidth is reported in the units of x and y
    bandwidth_used = spec.bandwidth_used if scale == 1.0 else dataclasses.replace(
        spec, bandwidths=spec.bandwidths * scale).bandwidth_used

    if method == "linear":
        h = value_scale * linear_terms(spec, X, Y)
        if h.shape[0] < 2:
            raise ValueError("the linear z-test needs at least 4 points in x and in y (2 terms)")
        stat = check_representable(float(h.mean()))
        sd = float(h.std(ddof=1))
        if sd > 0:
            z = stat / (sd / np.sqrt(h.shape[0]))
            from scipy.special import ndtr  # here: scipy.special costs ~0.1 s to import

            p_value = float(ndtr(-z))
        else:  # every term equal: the statistic is exact
            z = np.inf if stat > 0 else (0.0 if stat == 0 else -np.inf)
            p_value = 0.0 if stat > 0 else 1.0
        return MMDTestResult(stat, p_value, None, bandwidth_used, kernel, estimator, method,
                             0, z_score=float(z))

    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    memory_budget = check_int(memory_budget, "memory_budget", low=1)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        stat, p_value, null, matrix_free = _permutation_test(
            spec, X, Y, estimator, n_permutations, gen, memory_budget, progress)
    # a NaN statistic must never come with a p-value
    stat = check_representable(value_scale * stat)
    return MMDTestResult(stat, p_value, value_scale * null, bandwidth_used, kernel, estimator,
                         method, n_permutations, matrix_free=matrix_free)


__all__ = ["mmd_test", "MMDTestResult", "MEMORY_BUDGET", "TIE_RTOL"]
