"""The raw exact-OT solvers: each takes a validated problem (or its arrays) and returns a
:class:`~divkit.ot.result.RawSolution`; none validates, certifies or centres
(:func:`divkit.ot.result.finish` does, for every route). See docs/architecture.md.

=========================  ==============================================================
``solve_dense_raw``        network simplex on a dense :class:`~divkit.ot.problem.OTProblem`
``solve_points_raw``       network simplex with on-the-fly costs (points problem)
``solve_primal``           primal LP by HiGHS (``a, b, C, settings``)
``solve_dual``             Kantorovich dual LP by HiGHS
``solve_pot_raw``          POT's ``ot.emd`` on costs mapped to [0, 1]
=========================  ==============================================================
"""

from .highs import highs_settings, solve_dual, solve_primal
from .network_simplex import solve_dense_raw, solve_points_raw
from .pot import solve_pot_raw

__all__ = [
           "highs_settings",
           "solve_dense_raw",
           "solve_dual",
           "solve_points_raw",
           "solve_pot_raw",
           "solve_primal",
]
