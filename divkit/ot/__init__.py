"""Exact discrete optimal transport: LP primal and dual, network simplex, 1-D and sliced W_p.

Every exact solver returns an :class:`OTResult` carrying an independently computed
:class:`Certificate` of optimality.
"""

from ._result import Certificate, OptimalityError, OTResult, certify
from .batch import BatchOTResult, emd_batch
from .network_simplex import network_simplex, network_simplex_points

__all__ = [
    "Certificate",
    "OptimalityError",
    "OTResult",
    "certify",
    "BatchOTResult",
    "emd_batch",
    "network_simplex",
    "network_simplex_points",
]
