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

from .._validation import as_float_array
from ._result import OPTIMALITY_RTOL, OTResult, centre_potentials, certified_result, require_optimal_strict


def _import_pot():
    try:
        import ot  # noqa: PLC0415 (optional dependency, imported lazily)
    except ImportError as exc:  # pragma: no cover - POT is installed in CI
        raise ImportError(
            'method="pot" needs the optional dependency POT (pip install pot)'
        ) from exc
    return ot


def solve_pot(a: np.ndarray, b: np.ndarray, C: np.ndarray, *, rtol: float = OPTIMALITY_RTOL,
              **options) -> OTResult:
    """Solve with POT's ``ot.emd(a, b, C, log=True, **options)`` and certify the answer.

    Parameters
    ----------
    a, b : ndarray
        Validated float64 marginals with equal totals.
    C : ndarray of shape (n, m)
        Cost matrix; NaN or inf entries raise ``ValueError`` (POT would return cost 0).
    rtol : float
        Certificate tolerance (see :meth:`~divkit.ot.Certificate.is_optimal`).
    **options
        Passed to ``ot.emd`` (e.g. ``numItermax``).

    Returns
    -------
    OTResult
        ``solver="pot"``, dense plan, centred potentials, divkit's certificate; POT's own
        ``result_code`` and warning are in ``extra``.

    Raises
    ------
    OptimalityError
        When divkit's certificate does not confirm POT's answer.
    ImportError
        When POT is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> res = solve_pot(np.full(2, 0.5), np.full(2, 0.5), np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> round(res.cost, 12), res.solver
    (0.0, 'pot')
    >>> C = -5.0 - np.eye(3)  # all negative: POT alone returns cost 0
    >>> solve_pot(np.full(3, 1 / 3), np.full(3, 1 / 3), C)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    divkit.ot._result.OptimalityError: solver 'pot' did not reach a certified optimum: ...
    """
    C = as_float_array(C, "C", ndim=2)
    ot = _import_pot()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.emd(a, b, C, log=True, **options)
    plan = np.asarray(plan, dtype=np.float64)
    f, g = centre_potentials(a, b, np.asarray(log["u"], float), np.asarray(log["v"], float))
    result = certified_result(
        a, b, C, plan, f, g,
        solver="pot",
        extra={
            "pot_cost": float(log["cost"]),
            "pot_result_code": int(log.get("result_code", -1)),
            "pot_warning": log.get("warning"),
            "pot_python_warnings": [str(w.message) for w in caught],
        },
    )

    return require_optimal_strict(result, rtol, C=C)


__all__ = ["solve_pot"]
