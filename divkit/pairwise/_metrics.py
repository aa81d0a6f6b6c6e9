"""The metrics :func:`divkit.pairwise` knows, and the function that evaluates one block of pairs.

A block is a list of index pairs ``(i, j)``; :func:`compute_block` is a module-level function
of a picklable :class:`PairwiseProblem` so that the same code runs in-process, in a process
pool and on dask workers. Every entry is computed from its own two inputs only (never from
the composition of the block), so any blocking and any backend give the same bits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

#: entry status codes of :class:`~divkit.pairwise.PairwiseResult`
STATUS_OK = 0
STATUS_FAILED = 1

#: metric name -> (input kind, symmetric): "clouds" takes point clouds, "histograms" rows of
#: a 2-D array on a shared support, "both" either
_POINT_METRICS = {
    "wasserstein": ("both", True),
    "sliced_wasserstein": ("clouds", True),
    "mmd2": ("clouds", True),
    "energy_distance": ("clouds", True),
}
#: histogram divergences with a closed form in divkit.divergences (symmetric or not)
_HISTOGRAM_METRICS = {
    "kl": False,
    "js": True,
    "js_distance": True,
    "tv": True,
    "hellinger": True,
    "squared_hellinger": True,
    "pearson_chi2": False,
    "neyman_chi2": False,
    "jeffreys": True,
}


def metric_names() -> tuple:
    """Every metric name :func:`divkit.pairwise` accepts (f-divergence registry names included)."""
    from divkit.fdivergences import F_DIVERGENCES

    names = list(_POINT_METRICS) + list(_HISTOGRAM_METRICS)
    names += [f"f_divergence:{name}" for name in F_DIVERGENCES]
    return tuple(names)


def metric_kind(metric: str):
    """``(input kind, symmetric)`` of a metric name; ValueError naming it when unknown."""
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string, one of {metric_names()}, got {metric!r}")
    if metric in _POINT_METRICS:
        return _POINT_METRICS[metric]
    if metric in _HISTOGRAM_METRICS:
        return "histograms", _HISTOGRAM_METRICS[metric]
    if metric.startswith("f_divergence:"):
        from divkit.fdivergences import F_DIVERGENCES

        name = metric.split(":", 1)[1]
        if name in F_DIVERGENCES:
            # D_f is symmetric only when f(u) = u f(1/u); do not assume it
            return "histograms", False
    raise ValueError(f"unknown metric {metric!r}: metric must be one of {metric_names()}")


@dataclass(frozen=True, eq=False)
class PairwiseProblem:
    """Validated inputs of one :func:`divkit.pairwise` call (shipped once to every worker).

    ``left``/``right`` are lists of float64 ``(n_i, d)`` clouds, or 2-D arrays of histograms;
    ``right`` is ``left`` itself when the matrix is symmetric. ``cost`` is the shared ground
    cost (histograms with the Wasserstein metric), already raised to the power ``p``.
    """

    metric: str
    left: list[np.ndarray] | np.ndarray
    right: list[np.ndarray] | np.ndarray
    left_weights: list | None
    right_weights: list | None
    cost: np.ndarray | None
    scale: float
    options: dict = field(default_factory=dict)
    #: per-process memo of the clouds' content digests (side, index) -> digest, filled by
    #: the blocks that need them, so each cloud is hashed once per process, not once per block
    digests: dict = field(default_factory=dict, repr=False)


def _failure_message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _content_ids(problem: PairwiseProblem, side: str, idx, ids: dict) -> np.ndarray:
    """An integer per cloud of ``problem.left`` or ``problem.right`` (``side``; ``-1`` for
    those not in ``idx``) that is equal for two listed clouds exactly when their points and
    weights are equal (``-0.0`` read as ``0.0``, as ``np.array_equal`` does): a digest of
    each, numbered through ``ids`` (digest -> id, shared between the two sides), so equal
    distributions are found without comparing every pair of arrays."""
    clouds = problem.left if side == "left" else problem.right
    weights = problem.left_weights if side == "left" else problem.right_weights
    assert weights is not None  # Wasserstein cloud weights default to uniform in pairwise()
    out = np.full(len(clouds), -1, dtype=np.int64)
    for i in np.unique(idx):
        key = (side, int(i))
        digest = problem.digests.get(key)
        if digest is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(np.asarray(clouds[i].shape, np.int64).tobytes())
            h.update((clouds[i] + 0.0).tobytes())
            h.update((weights[i] + 0.0).tobytes())
            digest = problem.digests[key] = h.digest()
        out[i] = ids.setdefault(digest, len(ids))
    return out


def _wasserstein_block(problem: PairwiseProblem, I, J):
    """Exact W_p of each pair, certified by the one OT finisher.

    Point clouds: one :func:`~divkit.ot.solvers.batch.emd_point_pairs` call per
    ``(n_i, m_j)`` shape, which builds each pair's cost matrix inside its parallel loop.
    Histograms: :func:`divkit.emd_batch` with the shared ground cost; when that raises
    :class:`~divkit.OptimalityError`, each problem of the group is solved alone so that the
    failing pairs are identified (the others keep their certified values).
    """
    from divkit import OptimalityError, emd_batch
    from divkit.ot.costs import METRIC_CODES
    from divkit.ot.solvers.batch import emd_point_pairs

    opts = problem.options
    p = opts["p"]
    batch_opts = {k: opts[k] for k in ("max_iter", "rtol") if opts.get(k) is not None}
    k = len(I)
    values = np.full(k, np.nan)
    status = np.zeros(k, dtype=np.int8)
    residual = np.full(k, np.nan)
    messages = {}
    if problem.cost is None:  # point clouds: one batch call per (n_i, m_j) shape
        # Wasserstein cloud weights default to uniform in pairwise(), so they are never None here
        assert problem.left_weights is not None and problem.right_weights is not None
        ids: dict = {}
        if problem.right is problem.left:
            lk = rk = _content_ids(problem, "left", np.concatenate([I, J]), ids)
        else:
            lk = _content_ids(problem, "left", I, ids)
            rk = _content_ids(problem, "right", J, ids)
        # one distribution twice: W = 0 exactly (the solver's sum would leave ~1e-17)
        twice = lk[I] == rk[J]
        values[twice], residual[twice] = 0.0, 0.0
        rest = np.flatnonzero(~twice)
        n_left = np.array([c.shape[0] for c in problem.left], dtype=np.int64)
        n_right = np.array([c.shape[0] for c in problem.right], dtype=np.int64)
        shape_of = n_left[I[rest]] * (int(n_right.max()) + 1) + n_right[J[rest]]
        for shape in np.unique(shape_of):
            ts = rest[shape_of == shape]  # this (n_i, m_j) shape's pairs, in block order
            li, I_local = np.unique(I[ts], return_inverse=True)
            rj, J_local = np.unique(J[ts], return_inverse=True)
            X = np.stack([problem.left[i] for i in li])
            Y = np.stack([problem.right[j] for j in rj])
            A = np.stack([problem.left_weights[i] for i in li])[I_local]
            B = np.stack([problem.right_weights[j] for j in rj])[J_local]
            out = emd_point_pairs(X, Y, I_local, J_local, A, B,
                                  metric_code=METRIC_CODES[opts["ground_metric"]],
                                  minkowski_p=opts["minkowski_p"], power=p, **batch_opts)
            ok = np.ones(len(ts), dtype=bool)
            for r, reason in out.failures.items():
                ok[r] = False
                messages[int(ts[r])] = f"OptimalityError: {reason}"
            values[ts] = problem.scale * np.maximum(out.costs, 0.0) ** (1.0 / p)
            residual[ts] = out.worst_relative_residual
            status[ts[~ok]] = STATUS_FAILED
            values[ts[~ok]] = np.nan
            residual[ts[~ok]] = np.nan
        return values, status, residual, messages
    same = np.array([np.array_equal(problem.left[i], problem.right[j]) for i, j in zip(I, J)])
    values[same], residual[same] = 0.0, 0.0  # identical histograms: W = 0 exactly
    ts = np.flatnonzero(~same)
    if ts.size == 0:
        return values, status, residual, messages
    A = problem.left[I[ts]]
    B = problem.right[J[ts]]
    A = A / A.sum(axis=1, keepdims=True)
    B = B / B.sum(axis=1, keepdims=True)
    C = problem.cost
    try:
        res = emd_batch(A, B, C, **batch_opts)
        costs, worst = res.costs, res.worst_relative_residual
        ok = np.ones(len(ts), dtype=bool)
    except OptimalityError:
        costs = np.full(len(ts), np.nan)
        worst = np.full(len(ts), np.nan)
        ok = np.zeros(len(ts), dtype=bool)
        for r in range(len(ts)):
            try:
                one = emd_batch(A[r:r + 1], B[r:r + 1], C, **batch_opts)
            except OptimalityError as exc:
                messages[int(ts[r])] = _failure_message(exc)
                continue
            costs[r], worst[r], ok[r] = one.costs[0], one.worst_relative_residual[0], True
    values[ts] = problem.scale * np.maximum(costs, 0.0) ** (1.0 / p)
    residual[ts] = worst
    status[ts[~ok]] = STATUS_FAILED
    values[ts[~ok]] = np.nan
    return values, status, residual, messages


def _one_pair(problem: PairwiseProblem, i: int, j: int) -> float:
    """One entry of a metric that is evaluated pair by pair (public divkit functions only)."""
    import divkit

    metric, opts = problem.metric, problem.options
    x, y = problem.left[i], problem.right[j]
    a = None if problem.left_weights is None else problem.left_weights[i]
    b = None if problem.right_weights is None else problem.right_weights[j]
    if metric == "sliced_wasserstein":
        return divkit.sliced_wasserstein(x, y, a, b, **opts)
    if metric == "mmd2":
        return divkit.mmd2(x, y, a=a, b=b, **opts)
    if metric == "energy_distance":
        return divkit.energy_distance(x, y, a=a, b=b)
    raise AssertionError(metric)  # pragma: no cover - metric_kind() validated the name


def _histogram_block(problem: PairwiseProblem, I, J):
    """Closed-form divergences of all pairs of the block in one vectorised call (row-wise
    reductions: each entry depends on its own two rows only)."""
    import divkit

    metric = problem.metric
    P, Q = problem.left[I], problem.right[J]
    if metric.startswith("f_divergence:"):
        values = divkit.f_divergence(P, Q, metric.split(":", 1)[1], axis=-1, **problem.options)
    else:
        values = getattr(divkit, metric)(P, Q, axis=-1, **problem.options)
    values = np.asarray(values, dtype=np.float64).reshape(len(I))
    return values, np.zeros(len(I), dtype=np.int8), np.full(len(I), np.nan), {}


def compute_block(problem: PairwiseProblem, pairs: np.ndarray):
    """Values, statuses, certificate residuals and failure messages of one block of pairs.

    ``pairs`` is an int64 ``(k, 2)`` array of ``(i, j)``; messages are keyed by the row of the
    pair in the block. A pair whose solver raises is marked failed (value NaN) with the
    exception's message: it is never returned as a number.
    """
    I, J = pairs[:, 0], pairs[:, 1]
    if problem.metric == "wasserstein":
        return _wasserstein_block(problem, I, J)
    kind, _ = metric_kind(problem.metric)
    if kind == "histograms":
        return _histogram_block(problem, I, J)
    k = len(I)
    values = np.full(k, np.nan)
    status = np.zeros(k, dtype=np.int8)
    messages = {}
    for t in range(k):
        try:
            values[t] = _one_pair(problem, int(I[t]), int(J[t]))
        except (ArithmeticError, RuntimeError) as exc:  # numerical failure of this pair
            status[t] = STATUS_FAILED
            messages[t] = _failure_message(exc)
        except (ValueError, TypeError) as exc:  # inputs this metric refuses: an input error
            raise type(exc)(f"pair ({int(I[t])}, {int(J[t])}) of metric "
                            f"{problem.metric!r}: {exc}") from exc
    return values, status, np.full(k, np.nan), messages


__all__ = ["PairwiseProblem", "compute_block", "metric_kind", "metric_names"]
