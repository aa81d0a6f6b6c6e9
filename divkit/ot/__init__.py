"""Exact discrete optimal transport: LP primal and dual, network simplex, 1-D and sliced W_p.

Every exact solver returns an :class:`OTResult` carrying an independently computed
:class:`Certificate` of optimality.
"""

from ._result import Certificate, KRPotential, OptimalityError, OTResult, certify
from .api import emd, kantorovich_rubinstein_potential, wasserstein
from .batch import BatchOTResult, emd_batch
from .costs import cost_matrix
from .network_simplex import network_simplex, network_simplex_points
from .one_d import sliced_wasserstein, wasserstein_1d

__all__ = [
    "BatchOTResult",
    "Certificate",
    "KRPotential",
    "OptimalityError",
    "OTResult",
    "certify",
    "cost_matrix",
    "emd",
    "emd_batch",
    "kantorovich_rubinstein_potential",
    "network_simplex",
    "network_simplex_points",
    "sliced_wasserstein",
    "wasserstein",
    "wasserstein_1d",
]
