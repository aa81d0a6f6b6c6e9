"""``method="pot"``: POT's network simplex (``ot.emd``), checked by divkit's own certificate.

POT 0.9.7 can return a non-optimal cost without an error (CONVENTIONS.md §3): when its
iteration cap is hit, for all-negative costs (cost 0), for NaN/inf costs (cost 0) and for
entries ~1e32 (POT issue 229). Here every POT answer is certified independently and a failed
certificate raises :class:`~divkit.ot.OptimalityError`; NaN/inf costs are refused before POT
sees them.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..result import RawSolution


def _import_pot():
    try:
        import ot
    except ImportError as exc:  # pragma: no cover - POT is installed in CI
        raise ImportError(
            'method="pot" needs the optional dependency POT (pip install pot)'
        ) from exc
    return ot


def solve_pot_raw(a, b, C, *, max_iter=None) -> RawSolution:
    """Raw POT solve (``ot.emd``) of validated float64 ``a``, ``b`` (positive, equal totals)
    and ``C``, on the costs mapped to ``[0, 1]`` (POT works with absolute tolerances, so
    negative, huge or tiny costs are solved as well as costs in [0, 1]); the potentials are
    mapped back. POT's ``result_code`` other than 1 (optimal) becomes the status. No
    certificate here: :func:`divkit.ot.result.finish` certifies.

    Examples
    --------
    >>> import numpy as np
    >>> raw = solve_pot_raw(np.full(2, 0.5), np.full(2, 0.5), np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> raw.solver, raw.status, raw.flows.tolist()
    ('pot', 'optimal', [0.5, 0.5])
    """
    ot = _import_pot()
    low = float(C.min())
    span = float(C.max()) - low
    span = span if span > 0 else 1.0
    options = {} if max_iter is None else {"numItermax": int(max_iter)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.emd(a, b, (C - low) / span, log=True, **options)
    plan = np.asarray(plan, dtype=np.float64)
    rows, cols = np.nonzero(plan)
    code = int(log.get("result_code", -1))
    message = "; ".join([str(log.get("warning"))] + [str(w.message) for w in caught])
    return RawSolution(rows=rows, cols=cols, flows=plan[rows, cols],
                       f=np.asarray(log["u"], float) * span + low,
                       g=np.asarray(log["v"], float) * span, solver="pot",
                       status="optimal" if code == 1 else f"pot result_code {code}",
                       message=message)


__all__ = ["solve_pot_raw"]
