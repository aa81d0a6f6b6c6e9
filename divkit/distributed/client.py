"""Finding a dask.distributed client, sizing blocks to its workers, running blocks on it."""

from __future__ import annotations

import uuid

import numpy as np


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in the tests
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install divkit[dask]"
        ) from exc
    return distributed


def resolve_client(client=None):
    """The ``distributed.Client`` to use: ``client`` itself (checked) or the current one."""
    distributed = _import_distributed()
    if client is None:
        try:
            return distributed.get_client()
        except ValueError as exc:
            raise ValueError(
                "backend='dask' found no dask.distributed client: start one "
                "(distributed.Client(...)) or pass client="
            ) from exc
    if not isinstance(client, distributed.Client):
        raise TypeError(
            f"client must be a dask.distributed.Client, got {type(client).__module__}."
            f"{type(client).__qualname__}"
        )
    if client.status not in ("running", "connecting", "newly-created"):
        raise ValueError(f"client is not connected (status {client.status!r})")
    return client


def worker_memory(client) -> tuple[int, int]:
    """``(number of workers, smallest worker memory limit in bytes)``; 0 when unlimited."""
    workers = client.scheduler_info(n_workers=-1)["workers"] if _accepts_n_workers(client) \
        else client.scheduler_info()["workers"]
    if not workers:
        raise ValueError("the dask cluster has no workers")
    limits = [int(w.get("memory_limit") or 0) for w in workers.values()]
    positive = [m for m in limits if m > 0]
    return len(workers), (min(positive) if positive else 0)


def _accepts_n_workers(client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def run_blocks(client, compute, problem, blocks, on_done) -> None:
    """Submit ``compute(problem, pairs)`` for each ``(b, pairs)`` and call ``on_done(b, out)``
    as blocks finish (any order; the caller stores each block by its index).

    The problem is scattered once (broadcast to every worker) rather than pickled into each
    task. A task that raises propagates here; failing *pairs* are data, not exceptions.
    """
    distributed = _import_distributed()
    if not blocks:
        return
    remote = client.scatter(problem, broadcast=True, hash=False)
    # a fresh token per run: keys built from id(problem) were reused by a later call while the
    # scheduler was still cancelling the previous run's futures, which cancelled the new ones
    run = uuid.uuid4().hex
    futures = {}
    for b, pairs in blocks:
        fut = client.submit(compute, remote, np.asarray(pairs), pure=False,
                            key=f"divkit-pairwise-block-{b}-{run}")
        futures[fut] = b
    try:
        for fut in distributed.as_completed(list(futures)):
            on_done(futures[fut], fut.result())
    finally:
        for fut in futures:
            fut.cancel()


__all__ = ["resolve_client", "run_blocks", "worker_memory"]
