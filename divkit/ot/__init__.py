"""Exact discrete optimal transport: LP primal and dual, network simplex, 1-D and sliced W_p.

Every exact solver returns an :class:`OTResult` carrying an independently computed
:class:`Certificate` of optimality.
"""

from .api import WassersteinResult, emd, kantorovich_rubinstein_potential, wasserstein
from .batch import BatchOTResult, emd_batch
from .costs import cost_matrix
from .network_simplex import network_simplex, network_simplex_points
from .one_d import sliced_wasserstein, wasserstein_1d
from .problem import OTProblem, make_problem
from .result import (
    Certificate,
    KRPotential,
    OptimalityError,
    OTResult,
    RawSolution,
    certify,
    finish,
)

__all__ = [
    "BatchOTResult",
    "Certificate",
    "KRPotential",
    "OTProblem",
    "OTResult",
    "OptimalityError",
    "RawSolution",
    "WassersteinResult",
    "certify",
    "cost_matrix",
    "emd",
    "emd_batch",
    "finish",
    "kantorovich_rubinstein_potential",
    "make_problem",
    "network_simplex",
    "network_simplex_points",
    "sliced_wasserstein",
    "wasserstein",
    "wasserstein_1d",
]
