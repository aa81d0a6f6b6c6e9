"""Pairwise distance and divergence matrices between many distributions, locally or on dask.

See :func:`divkit.pairwise`. The blocks of pairs run in this process (numba threads), in a
local process pool, or on a ``dask.distributed`` cluster, with the same result bit for bit.
"""

from divkit.pairwise._metrics import metric_names
from divkit.pairwise.api import (
    BACKENDS,
    PairFailure,
    PairwiseError,
    PairwiseResult,
    WorkEstimate,
    pairwise,
)

__all__ = [
    "BACKENDS",
    "PairFailure",
    "PairwiseError",
    "PairwiseResult",
    "WorkEstimate",
    "metric_names",
    "pairwise",
]


# ``divkit.pairwise`` names both this subpackage and the function. Importing a submodule
# (``import divkit.pairwise.api``, or a dask worker unpickling a block task) makes Python bind
# the package to the attribute ``divkit.pairwise``; a callable package keeps
# ``divkit.pairwise(X)`` working whichever of the two the attribute holds.
import sys as _sys
import types as _types


class _CallablePackage(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return pairwise(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallablePackage
