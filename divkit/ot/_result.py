"""Former home of the result types; they live in :mod:`divkit.ot.result` now."""

from .result import (  # noqa: F401 (re-exported for old imports)
    OPTIMALITY_RTOL,
    Certificate,
    KRPotential,
    OptimalityError,
    OTResult,
    centre_potentials,
    certify,
    require_optimal,
)
