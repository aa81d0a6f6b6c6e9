"""``divkit.pairwise``: the matrix of a distance or divergence between every pair of inputs."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import cast

import numpy as np

from divkit._validation import (
    as_float_array,
    as_points,
    as_weights,
    check_bool,
    check_int,
    check_scalar,
    power_of_two_scale,
    rename_keywords,
    renamed_keywords,
)
from divkit.pairwise._checkpoint import Checkpoint, fingerprint
from divkit.pairwise._metrics import (
    STATUS_FAILED,
    STATUS_OK,
    PairwiseProblem,
    compute_block,
    metric_kind,
)

BACKENDS = ("local", "dask")
ERROR_POLICIES = ("raise", "report")
#: default cap on the cost-matrix (or kernel) entries a block holds at once: 2^22 float64
#: entries = 32 MiB per block of exact W problems
BLOCK_ENTRIES = 2**22
#: most pairs per block (blocks are also the unit of checkpointing and progress)
MAX_BLOCK_PAIRS = 2048
#: a dask block may use at most this fraction of the smallest worker's memory limit
WORKER_MEMORY_FRACTION = 0.25
#: bytes per cost entry held while a block of exact W problems is solved (cost batch, its
#: power and the solver's copies): the factor of the worker-memory sizing rule
BYTES_PER_ENTRY = 24


class PairwiseError(RuntimeError):
    """Some pairs failed (e.g. :class:`~divkit.OptimalityError`); ``result`` holds the rest.

    The message lists the failing ``(i, j)`` with their reasons; ``result.status`` marks
    every failed entry and ``result.failures`` lists all of them.
    """

    def __init__(self, message: str, result: PairwiseResult):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class PairFailure:
    """One failed entry: its indices and the solver's message."""

    i: int
    j: int
    message: str


@dataclass(frozen=True)
class WorkEstimate:
    """What a :func:`pairwise` call will compute, known before it starts.

    Attributes
    ----------
    n_pairs : int
        Entries computed (unordered pairs for a symmetric metric with ``Y=None``).
    n_blocks, block_size : int
        Blocks of at most ``block_size`` pairs (the unit of scheduling, progress and
        checkpointing).
    work : int
        Sum over pairs of ``n_i * m_j`` (cost-matrix or kernel entries; bins for histograms).
    block_bytes : int
        Peak bytes of the largest block's cost batch (exact W) or inputs.
    """

    n_pairs: int
    n_blocks: int
    block_size: int
    work: int
    block_bytes: int

    def __str__(self) -> str:
        return (f"{self.n_pairs} pairs in {self.n_blocks} blocks of <= {self.block_size}; "
                f"{self.work:.3g} cost/kernel entries; <= {self.block_bytes / 2**20:.3g} MiB "
                "per block")


@dataclass(frozen=True)
class PairwiseResult:
    """The pairwise matrix with per-entry status.

    Attributes
    ----------
    matrix : ndarray of shape (N, M)
        ``matrix[i, j] = D(X_i, Y_j)``; NaN exactly where ``status`` is failed.
    status : ndarray of int8, shape (N, M)
        0 for a computed (for exact W: certified) entry, 1 for a failed one.
    residual : ndarray of shape (N, M) or None
        Exact W: the worst relative certificate residual of each entry
        (:meth:`divkit.Certificate.worst_relative_residual`; 0 on the diagonal). None for the
        other metrics.
    worst_residual : float or None
        The largest entry of ``residual`` over the certified entries.
    failures : tuple of PairFailure
        Every failed entry ``(i, j)`` with its reason.
    metric : str
    symmetric : bool
        Whether only ``i < j`` was computed and mirrored (``Y=None`` and a symmetric metric).
    estimate : WorkEstimate
    backend : str
    blocks_computed, blocks_loaded : int
        Blocks computed in this call and blocks read back from ``checkpoint``.
    """

    matrix: np.ndarray
    status: np.ndarray
    residual: np.ndarray | None
    worst_residual: float | None
    failures: tuple
    metric: str
    symmetric: bool
    estimate: WorkEstimate
    backend: str
    blocks_computed: int
    blocks_loaded: int

    def __array__(self, dtype=None, copy=None):
        return self.matrix if dtype is None else self.matrix.astype(dtype)


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------


def _first_bad_row(arr: np.ndarray):
    if arr.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def _as_clouds(X, name: str, d_ref=None):
    """A list of float64 (n_k, d) clouds of one dimension; errors name the offending index."""
    if isinstance(X, np.ndarray) and X.ndim == 3 or isinstance(X, (list, tuple)):
        items = list(X)
    else:
        raise TypeError(
            f"{name} must be a list of (n_i, d) point clouds or a 3-D array, got "
            f"{type(X).__name__}" + (f" of shape {np.shape(X)}" if hasattr(X, "shape") else "")
        )
    if not items:
        raise ValueError(f"{name} is empty: it must hold at least one point cloud")
    clouds = []
    for k, c in enumerate(items):
        cloud = as_points(c, f"{name}[{k}]")
        if d_ref is None:
            d_ref = (f"{name}[0]", cloud.shape[1])
        elif cloud.shape[1] != d_ref[1]:
            raise ValueError(f"{name}[{k}] has points of dimension {cloud.shape[1]} but "
                             f"{d_ref[0]} has dimension {d_ref[1]}")
        clouds.append(cloud)
    return clouds


def _as_histograms(X, name: str, n_bins=None):
    if isinstance(X, (list, tuple)):
        if any(np.ndim(h) != 1 for h in X):
            raise ValueError(f"{name} must be a 2-D array of histograms (one per row) or a list "
                             "of 1-D histograms: this metric compares histograms")
        sizes = [np.size(h) for h in X]
        for k, s in enumerate(sizes):
            if s != sizes[0]:
                raise ValueError(f"{name}[{k}] has shape {np.shape(X[k])} but {name}[0] has "
                                 f"shape {np.shape(X[0])}: histograms must share one support")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of histograms (one per row), got shape "
                         f"{arr.shape}")
    bad = _first_bad_row(arr)
    if bad is not None:
        raise ValueError(f"{name}[{bad}] (row {bad}) contains NaN or inf")
    H = as_float_array(arr, name, ndim=2)
    if n_bins is not None and H.shape[1] != n_bins:
        raise ValueError(f"{name} has {H.shape[1]} bins per histogram but X has {n_bins}")
    negative = np.flatnonzero((H < 0).any(axis=1))
    if negative.size:
        raise ValueError(f"{name}[{int(negative[0])}] has negative mass")
    return H


def _as_cloud_weights(weights, clouds, name: str, default_uniform: bool):
    if weights is None:
        return [as_weights(None, c.shape[0], name) for c in clouds] if default_uniform else None
    if not isinstance(weights, (list, tuple)) or len(weights) != len(clouds):
        raise ValueError(f"{name} must be a list with one weight vector (or None) per cloud "
                         f"({len(clouds)})")
    out = []
    for k, (w, c) in enumerate(zip(weights, clouds)):
        arr = as_weights(w, c.shape[0], f"{name}[{k}]")
        out.append(arr / arr.sum())
    return out


def _check_options(metric: str, options: dict) -> dict:
    """``options`` with the metric's deprecated keyword names renamed (and a warning); unknown
    options raise."""
    import divkit

    if metric == "wasserstein":
        allowed = {"max_iter", "rtol"}
    elif metric.startswith("f_divergence:"):
        allowed = None  # f-divergence parameters (e.g. alpha, pi) depend on the entry
    else:
        target = {"sliced_wasserstein": divkit.sliced_wasserstein, "mmd2": divkit.mmd2,
                  "energy_distance": divkit.energy_distance}.get(metric) or getattr(divkit, metric)
        options = rename_keywords(f"pairwise(metric={metric!r})", options,
                                  getattr(target, "renamed_keywords", {}), stacklevel=5)
        params = inspect.signature(target).parameters
        taken = {"x", "y", "a", "b", "p", "q", "axis", "keepdims"}
        allowed = {n for n in params if n not in taken}
    if allowed is not None:
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise TypeError(f"metric {metric!r} got unexpected option(s) {unknown}; it accepts "
                            f"{sorted(allowed)}")
    return options


def _pairs(N: int, M: int, same: bool, symmetric: bool) -> np.ndarray:
    if same and symmetric:
        i, j = np.triu_indices(N, 1)
    elif same:
        i, j = np.nonzero(~np.eye(N, dtype=bool))
    else:
        i, j = np.divmod(np.arange(N * M), M)
    return np.stack([i, j], axis=1).astype(np.int64)


def _entry_sizes(problem: PairwiseProblem, pairs: np.ndarray, histograms: bool) -> np.ndarray:
    if histograms:
        K = cast(np.ndarray, problem.left).shape[1]  # histograms: a 2-D array
        per = K * K if problem.metric == "wasserstein" else K
        return np.full(len(pairs), per, dtype=np.int64)
    n = np.array([c.shape[0] for c in problem.left], dtype=np.int64)
    m = np.array([c.shape[0] for c in problem.right], dtype=np.int64)
    return n[pairs[:, 0]] * m[pairs[:, 1]]


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------


@renamed_keywords(weights="a", y_weights="b")
def pairwise(
    X,
    Y=None,
    *,
    metric: str = "wasserstein",
    a=None,
    b=None,
    cost=None,
    support=None,
    p: float | None = None,
    ground_metric: str = "euclidean",
    minkowski_p: float = 2.0,
    backend: str = "local",
    client=None,
    n_jobs: int | None = None,
    block_size: int | None = None,
    checkpoint=None,
    progress: bool = False,
    errors: str = "raise",
    estimate_only: bool = False,
    **options,
):
    r"""Matrix of a distance or divergence between every pair of distributions.

    ``D[i, j] = metric(X_i, Y_j)`` for ``X`` and ``Y`` lists of point clouds (each
    ``(n_i, d)``, optional weights ``a``, ``b``) or 2-D arrays of histograms on one shared support
    (one histogram per row). With ``Y=None`` the matrix compares ``X`` with itself: for a
    symmetric metric each unordered pair is computed once and mirrored, and the diagonal is 0
    by definition (``D(P, P) = 0``, also for the unbiased MMD^2 estimator, whose value on two
    copies of one sample is not 0).

    Metrics (all call the public divkit function of the same name, pair by pair or a block
    at a time):

    * ``"wasserstein"``: exact ``W_p`` (default ``p = 1``) with ``ground_metric``; every entry
      is solved by the batch network simplex (parallel over the pairs of a block with numba
      threads, each pair's cost matrix built inside the loop) and certified by the one OT
      finisher (as :func:`divkit.emd_batch` does); ``residual`` holds its worst relative
      certificate residual. For histograms pass the ground distance between bins as ``cost`` (K x K),
      or the bins' coordinates as ``support`` (K x d); ``W_p = (min <G, cost^p>)^(1/p)``.
      Histograms and weights are normalised to probabilities, as :func:`divkit.wasserstein`
      does.
    * ``"sliced_wasserstein"`` (default ``p = 1``, ``rng = 0`` so that every entry uses the
      same directions), ``"mmd2"`` (any kernel / estimator option of :func:`divkit.mmd2`;
      ``rng = 0`` unless given, so that a median-heuristic bandwidth is the same on every
      backend), ``"energy_distance"``: point clouds. Pass ``rng`` as an int: a Generator
      would be consumed in block order, which differs between backends.
    * histogram divergences ``"kl"``, ``"js"``, ``"js_distance"``, ``"tv"``, ``"hellinger"``,
      ``"squared_hellinger"``, ``"pearson_chi2"``, ``"neyman_chi2"``, ``"jeffreys"``, and
      ``"f_divergence:NAME"`` for any name of :data:`divkit.F_DIVERGENCES`; their options
      (``base``, ``normalize``, ``atol``, f parameters) pass through. The asymmetric ones
      (KL, chi^2, general D_f) compute every ordered pair.

    Parameters
    ----------
    X, Y : list of array_like (n_i, d), 3-D array, or 2-D array of histograms
    metric : str, default "wasserstein"
    a, b : list of array_like or None, optional
        Masses of the points of each cloud of ``X`` / ``Y`` (non-negative, normalised;
        zero-weight points are allowed). For ``"mmd2"`` only with ``estimator="biased"``.
        ``weights=``, ``y_weights=`` are their deprecated names.
    cost, support : array_like, optional
        Ground distance between bins, or the bins' coordinates (histograms with W_p only).
    p : float, optional
        Order of W_p / sliced W_p (default 1, as :func:`divkit.wasserstein`).
    ground_metric, minkowski_p : str, float
        Ground metric of W_p between points (see :func:`divkit.cost_matrix`).
    backend : {"local", "dask"}, default "local"
        ``"local"`` runs blocks in this process (numba threads on every core) or, with
        ``n_jobs > 1``, in a pool of ``n_jobs`` processes. ``"dask"`` spreads blocks over a
        ``dask.distributed`` cluster: ``client`` or the current client; passing ``client``
        implies ``backend="dask"``. Every backend gives the same matrix bit for bit.
    client : distributed.Client, optional
    n_jobs : int, optional
        Processes of the local backend (default: one process, all numba threads).
    block_size : int, optional
        Pairs per block. The default depends on the problem only (at most ``MAX_BLOCK_PAIRS``
        pairs and ``BLOCK_ENTRIES`` cost entries per block); on dask it is lowered further so
        that a block takes at most ``WORKER_MEMORY_FRACTION`` of the smallest worker's memory.
    checkpoint : str or path, optional
        Directory where each finished block is saved; a later call with the same inputs and
        the same directory loads those blocks and computes only the missing ones.
    progress : bool, default False
        Print the work estimate and show a tqdm bar over blocks (needs tqdm).
    errors : {"raise", "report"}, default "raise"
        What to do when some pairs fail (an :class:`~divkit.OptimalityError`, a
        non-representable MMD): ``"raise"`` a :class:`PairwiseError` naming them once the run
        is complete (``.result`` holds the matrix), or ``"report"`` them in the returned
        result. Failed entries are NaN with ``status == 1``, never 0.
    estimate_only : bool, default False
        Return the :class:`WorkEstimate` without computing anything.
    **options
        Passed to the metric (e.g. ``kernel``, ``bandwidth``, ``estimator`` of ``mmd2``;
        ``max_iter``, ``rtol`` of exact W; ``n_projections``, ``rng`` of sliced W).

    Returns
    -------
    PairwiseResult
        (or :class:`WorkEstimate` with ``estimate_only=True``)

    Raises
    ------
    ValueError
        Unknown metric, ragged or mismatched dimensions, NaN or inf inside one cloud (its index
        is named), a pair whose inputs its metric refuses (named by ``(i, j)``), a checkpoint
        directory of another run.
    TypeError
        ``client`` that is not a ``dask.distributed.Client``, unknown options.
    PairwiseError
        Some pairs failed and ``errors="raise"``.

    Examples
    --------
    >>> import numpy as np
    >>> from divkit import pairwise
    >>> clouds = [np.array([[0.0], [1.0]]), np.array([[0.5], [1.5]]), np.array([[3.0]])]
    >>> res = pairwise(clouds, metric="wasserstein")
    >>> res.matrix.round(12).tolist()
    [[0.0, 0.5, 2.5], [0.5, 0.0, 2.0], [2.5, 2.0, 0.0]]
    >>> bool(res.worst_residual < 1e-12), res.status.max().item()
    (True, 0)
    >>> H = np.array([[0.5, 0.5], [1.0, 0.0]])
    >>> pairwise(H, metric="tv").matrix.tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    kind, symmetric_metric = metric_kind(metric)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if errors not in ERROR_POLICIES:
        raise ValueError(f"errors must be one of {ERROR_POLICIES}, got {errors!r}")
    progress = check_bool(progress, "progress")
    estimate_only = check_bool(estimate_only, "estimate_only")
    if client is not None or backend == "dask":
        from divkit.distributed.client import resolve_client

        client = resolve_client(client)
        backend = "dask"
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", low=1)
        if backend == "dask":
            raise ValueError("n_jobs is for backend='local'; a dask cluster has its own workers")
    same = Y is None

    histograms = isinstance(X, np.ndarray) and X.ndim == 2 or (
        kind == "histograms" and not (isinstance(X, np.ndarray) and X.ndim == 3))
    if histograms and kind == "clouds":
        raise ValueError(f"metric {metric!r} compares point clouds: pass X as a list of (n_i, d) "
                         "arrays or a 3-D array, not a 2-D array of histograms")
    if not histograms and kind == "histograms":
        raise ValueError(f"metric {metric!r} compares histograms: pass X as a 2-D array (one "
                         "histogram per row)")
    if (cost is not None or support is not None) and not (histograms and metric == "wasserstein"):
        raise ValueError("cost= and support= are for histograms with metric='wasserstein'")
    options = _check_options(metric, options)

    scale = 1.0
    ground = None
    if histograms:
        left = _as_histograms(X, "X")
        right = left if same else _as_histograms(Y, "Y", left.shape[1])
        if a is not None or b is not None:
            raise ValueError("weights a= and b= are for point clouds; histograms are their own weights")
        lw = rw = None
    else:
        left = _as_clouds(X, "X")
        right = left if same else _as_clouds(Y, "Y", ("X[0]", left[0].shape[1]))
        needs_uniform = metric == "wasserstein"
        lw = _as_cloud_weights(a, left, "a", needs_uniform)
        if same:
            if b is not None:
                raise ValueError("b= (the weights of Y's clouds) needs Y")
            rw = lw
        else:
            rw = _as_cloud_weights(b, right, "b", needs_uniform)

    if metric in ("wasserstein", "sliced_wasserstein"):
        p = 1.0 if p is None else check_scalar(p, "p", low=1.0)
    elif p is not None:
        raise ValueError(f"p= is for the Wasserstein metrics, not {metric!r}")

    if metric == "wasserstein":
        from divkit import cost_matrix

        if histograms:
            if (cost is None) == (support is None):
                raise ValueError("histograms with metric='wasserstein' need exactly one of cost= "
                                 "(K x K ground distances) or support= (K x d bin coordinates)")
            K = left.shape[1]
            if support is not None:
                pts = as_points(support, "support")
                if pts.shape[0] != K:
                    raise ValueError(f"support has {pts.shape[0]} points but the histograms have "
                                     f"{K} bins")
                ground = cost_matrix(pts, pts, ground_metric, minkowski_p)
            else:
                ground = as_float_array(cost, "cost", ndim=2)
                if ground.shape != (K, K):
                    raise ValueError(f"cost has shape {ground.shape}, expected ({K}, {K}) for "
                                     f"histograms of {K} bins")
                if np.any(ground < 0):
                    raise ValueError("cost must be >= 0 (ground distances between bins)")
            ground = ground ** p if p != 1.0 else ground
            zero = np.flatnonzero(left.sum(axis=1) <= 0)
            zero_r = np.flatnonzero(right.sum(axis=1) <= 0)
            if zero.size or zero_r.size:
                which = f"X[{int(zero[0])}]" if zero.size else f"Y[{int(zero_r[0])}]"
                raise ValueError(f"{which} has total mass 0")
        else:
            cost_matrix(left[0][:1], left[0][:1], ground_metric, minkowski_p)  # checks the name
            scale = power_of_two_scale(*left, *([] if same else right))
            if scale != 1.0:  # W_p is homogeneous: solve at unit scale (exact rescaling)
                left = [c / scale for c in left]
                right = left if same else [c / scale for c in right]
        options = {"p": p, "ground_metric": ground_metric, "minkowski_p": minkowski_p,
                   **options}
    elif metric == "sliced_wasserstein":
        options = {"p": p, "rng": 0, **options}
    elif metric == "mmd2":
        options = {"rng": 0, **options}

    N = len(left)
    M = N if same else len(right)
    symmetric = same and symmetric_metric
    problem = PairwiseProblem(metric, left, right, lw, rw, ground, scale, dict(options))
    pairs = _pairs(N, M, same, symmetric_metric)
    sizes = _entry_sizes(problem, pairs, histograms)
    max_entries = int(sizes.max()) if sizes.size else 1
    if block_size is None:
        block_size = int(max(1, min(MAX_BLOCK_PAIRS, BLOCK_ENTRIES // max(max_entries, 1))))
        if backend == "dask":
            from divkit.distributed.client import worker_memory

            _, memory = worker_memory(client)
            if memory:
                fit = int(WORKER_MEMORY_FRACTION * memory // (BYTES_PER_ENTRY * max_entries))
                block_size = max(1, min(block_size, fit))
    else:
        block_size = check_int(block_size, "block_size", low=1)
    n_blocks = -(-len(pairs) // block_size)
    estimate = WorkEstimate(
        n_pairs=len(pairs), n_blocks=n_blocks, block_size=block_size, work=int(sizes.sum()),
        block_bytes=int(BYTES_PER_ENTRY * max_entries * min(block_size, max(len(pairs), 1))))
    if estimate_only:
        return estimate

    store = None
    blocks_done = {}
    if checkpoint is not None:
        store = Checkpoint(checkpoint, fingerprint(problem, n_blocks, block_size, (N, M)),
                           n_blocks, block_size)
        for b in sorted(store.done()):
            if b < n_blocks:
                blocks_done[b] = store.load(b)
    loaded = len(blocks_done)
    todo = [(b, pairs[b * block_size:(b + 1) * block_size]) for b in range(n_blocks)
            if b not in blocks_done]

    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError("progress=True needs tqdm (pip install tqdm)") from exc
        bar = tqdm(total=n_blocks, initial=loaded, desc=f"pairwise {metric}", unit="block")
        bar.write(f"divkit.pairwise: {estimate}")

    def on_done(b, out):
        if store is not None:
            store.save(b, out)
        blocks_done[b] = out
        if bar is not None:
            bar.update(1)

    try:
        if backend == "dask":
            from divkit.distributed.client import run_blocks

            run_blocks(client, compute_block, problem, todo, on_done)
        elif n_jobs is not None and n_jobs > 1 and len(todo) > 1:
            _run_process_pool(problem, todo, n_jobs, on_done)
        else:
            for b, block_pairs in todo:
                on_done(b, compute_block(problem, block_pairs))
    finally:
        if bar is not None:
            bar.close()

    result = _assemble(problem, pairs, blocks_done, block_size, N, M, symmetric, estimate,
                       backend, len(todo), loaded)
    if result.failures and errors == "raise":
        shown = "; ".join(f"({f.i}, {f.j}): {f.message}" for f in result.failures[:5])
        more = f" (and {len(result.failures) - 5} more)" if len(result.failures) > 5 else ""
        raise PairwiseError(
            f"{len(result.failures)} of {len(pairs)} pairs failed: {shown}{more}. Their entries "
            "are NaN in .result (status 1); pass errors='report' to get the result instead",
            result)
    return result


def _assemble(problem, pairs, blocks, block_size, N, M, symmetric, estimate, backend,
              computed, loaded) -> PairwiseResult:
    matrix = np.zeros((N, M))
    status = np.full((N, M), STATUS_OK, dtype=np.int8)
    certified = problem.metric == "wasserstein"
    residual = np.zeros((N, M)) if certified else None
    failures = []
    for b in range(len(blocks)):
        values, st, res, messages = blocks[b]
        P = pairs[b * block_size:(b + 1) * block_size]
        I, J = P[:, 0], P[:, 1]
        matrix[I, J] = values
        status[I, J] = st
        if certified:
            assert residual is not None  # allocated above when certified
            residual[I, J] = res
        if symmetric:
            matrix[J, I] = values
            status[J, I] = st
            if certified:
                assert residual is not None
                residual[J, I] = res
        for t, message in sorted(messages.items()):
            failures.append(PairFailure(int(I[t]), int(J[t]), message))
    failures.sort(key=lambda f: (f.i, f.j))
    worst = None
    if certified:
        assert residual is not None
        ok = status == STATUS_OK
        worst = float(residual[ok].max()) if ok.any() else float("nan")
        residual[status == STATUS_FAILED] = np.nan
    return PairwiseResult(matrix, status, residual, worst, tuple(failures), problem.metric,
                          symmetric, estimate, backend, computed, loaded)


# process-pool backend: the problem is sent once per worker process (initializer)
_WORKER_PROBLEM = None


def _init_worker(problem):
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem


def _compute_in_worker(pairs):
    return compute_block(_WORKER_PROBLEM, pairs)


def _run_process_pool(problem, todo, n_jobs, on_done) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: forking a process whose numba thread pool is running is unsafe
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(problem,)) as pool:
        futures = {pool.submit(_compute_in_worker, pairs): b for b, pairs in todo}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


__all__ = ["PairFailure", "PairwiseError", "PairwiseResult", "WorkEstimate", "pairwise"]
