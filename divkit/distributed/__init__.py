"""dask.distributed support: pairwise blocks on a cluster and MMD on chunked dask arrays.

Nothing here imports dask at module level: :func:`is_dask_array` is a cheap check that core
divkit calls (a dask array can only exist once dask has been imported by its user), and the
dask code lives in :mod:`divkit.distributed.mmd` and :mod:`divkit.distributed.client`, which
import dask when they are used (``pip install divkit[dask]``).
"""

from __future__ import annotations

import sys


def is_dask_array(obj) -> bool:
    """True when ``obj`` is a ``dask.array.Array`` (without importing dask)."""
    if "dask.array" not in sys.modules:
        return False
    return isinstance(obj, sys.modules["dask.array"].Array)


def dask_dispatch(name: str, arguments: dict):
    """Call ``divkit.distributed.mmd.<name>(**arguments)``: the hook of the in-memory MMD
    functions, which pass their own ``locals()`` when given a dask array."""
    from divkit.distributed import mmd

    return getattr(mmd, name)(**arguments)


__all__ = ["dask_dispatch", "is_dask_array"]
