"""Exact discrete optimal transport: LP primal and dual, network simplex, 1-D and sliced W_p,
and a multiscale sparse solver for images and large low-dimensional clouds.

Every exact route is *problem -> raw solver -> one finisher*: :mod:`divkit.ot.problem` validates
once, a raw solver in :mod:`divkit.ot.solvers` solves, and :func:`divkit.ot.result.finish`
certifies. Every exact solver returns an :class:`OTResult` carrying an independently computed
:class:`Certificate` of optimality.
"""

from .api import WassersteinResult, emd, kantorovich_rubinstein_potential, wasserstein
from .costs import cost_matrix
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
from .solvers.batch import BatchOTResult, emd_batch
from .solvers.multiscale import grid_points, multiscale_wasserstein, wasserstein_grid
from .solvers.network_simplex import network_simplex, network_simplex_points

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
    "grid_points",
    "kantorovich_rubinstein_potential",
    "make_problem",
    "multiscale_wasserstein",
    "network_simplex",
    "network_simplex_points",
    "sliced_wasserstein",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_grid",
]
