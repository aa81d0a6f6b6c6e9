"""Many small exact OT problems at once (e.g. word mover's distance between document pairs).

:func:`emd_batch` solves each problem with the network simplex of
:mod:`divkit.ot.network_simplex`, in parallel over problems with numba ``prange``, and checks
every answer with the same certificate residuals as :func:`divkit.ot.certify`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_int, check_scalar
from ._network_simplex import STATUS_MAX_ITER, _solve_batch
from ._result import OPTIMALITY_RTOL, OptimalityError
from .network_simplex import PRICE_RTOL, default_max_iter


@dataclass(frozen=True)
class BatchOTResult:
    """Optimal costs of a batch of transport problems.

    Attributes
    ----------
    costs : ndarray of shape (k,)
        ``min <G, C_k>`` for each problem.
    f, g : ndarray of shape (k, n) and (k, m), or None
        Centred optimal potentials (``<a_k, f_k> == <b_k, g_k>``; ``g_k`` is the c-transform
        of ``f_k``), when requested with ``return_potentials=True``.
    iterations : ndarray of shape (k,)
        Network simplex pivots per problem.
    worst_relative_residual : ndarray of shape (k,)
        The largest certificate residual per problem, relative to its scale (see
        :meth:`divkit.ot.Certificate.worst_relative_residual`).
    """

    costs: np.ndarray
    f: np.ndarray | None
    g: np.ndarray | None
    iterations: np.ndarray
    worst_relative_residual: np.ndarray


def _as_batch_marginals(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name, ndim=2)
    if np.any(arr < 0):
        raise ValueError(f"{name} contains negative masses: masses must be >= 0")
    sums = arr.sum(axis=1)
    if np.any(sums <= 0):
        raise ValueError(f"{name} has a problem with total mass 0 (row {int(np.argmin(sums))})")
    return arr


def emd_batch(
    a_batch,
    b_batch,
    C_batch,
    *,
    return_potentials: bool = False,
    max_iter: int | None = None,
    rtol: float = OPTIMALITY_RTOL,
) -> BatchOTResult:
    r"""Exact OT costs of many independent problems, in parallel over problems.

    For each ``k`` solves :math:`\min_{G \ge 0,\ G 1 = a_k,\ G^T 1 = b_k} \langle G, C_k\rangle`
    with the network simplex (cold start), then checks primal feasibility, dual feasibility,
    duality gap and complementary slackness.

    Parameters
    ----------
    a_batch : array_like of shape (k, n)
        Source masses, one problem per row.
    b_batch : array_like of shape (k, m)
        Target masses, each row with the same total as the matching row of ``a_batch``
        (relative tolerance ``MASS_RTOL``; rows are rescaled to match exactly).
    C_batch : array_like of shape (k, n, m) or (n, m)
        Cost matrices, or one matrix shared by all problems.
    return_potentials : bool
        Also return the optimal potentials.
    max_iter : int, optional
        Pivot cap per problem (default :func:`~divkit.ot.network_simplex.default_max_iter`).
    rtol : float
        Certificate tolerance; a problem whose worst relative residual exceeds it raises.

    Returns
    -------
    BatchOTResult

    Raises
    ------
    OptimalityError
        If any problem hits the pivot cap or fails its certificate (the message lists them).

    Examples
    --------
    >>> import numpy as np
    >>> from divkit.ot import emd_batch
    >>> a = np.array([[0.5, 0.5], [1.0, 0.0]])
    >>> b = np.array([[0.5, 0.5], [0.5, 0.5]])
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> emd_batch(a, b, C).costs.round(12).tolist()
    [0.0, 0.5]
    """
    A = _as_batch_marginals(a_batch, "a_batch")
    B = _as_batch_marginals(b_batch, "b_batch")
    Cs = as_float_array(C_batch, "C_batch", ndim=(2, 3))
    k, n = A.shape
    m = B.shape[1]
    if B.shape[0] != k:
        raise ValueError(f"a_batch has {k} problems but b_batch has {B.shape[0]}")
    shared = Cs.ndim == 2
    if shared:
        Cs = Cs[None]
    if Cs.shape[1:] != (n, m) or (not shared and Cs.shape[0] != k):
        want = f"({k}, {n}, {m}) or ({n}, {m})"
        raise ValueError(f"C_batch has shape {np.shape(C_batch)}, expected {want}")
    sa = A.sum(axis=1)
    sb = B.sum(axis=1)
    rel = np.abs(sa - sb) / np.maximum(sa, sb)
    if np.any(rel > 1e-7):
        bad = int(np.argmax(rel))
        raise ValueError(
            f"a_batch and b_batch have different total mass in problem {bad} "
            f"({sa[bad]!r} vs {sb[bad]!r})"
        )
    cap = default_max_iter(n, m) if max_iter is None else check_int(max_iter, "max_iter", low=0)
    rtol = check_scalar(rtol, "rtol", low=0.0)
    costs, F, G, status, iters, worst = _solve_batch(
        A, B, Cs, shared, PRICE_RTOL, cap, bool(return_potentials)
    )
    capped = np.flatnonzero(status == STATUS_MAX_ITER)
    failed = np.flatnonzero((status != 0) | ~(worst <= rtol))
    if failed.size:
        reason = "hit the pivot cap" if capped.size else "failed the certificate"
        raise OptimalityError(
            f"{failed.size} of {k} problems {reason} (first: problem {int(failed[0])}, worst "
            f"relative residual {worst[failed[0]]:.3g}, rtol={rtol:g})"
        )
    return BatchOTResult(
        costs=costs,
        f=F if return_potentials else None,
        g=G if return_potentials else None,
        iterations=iters,
        worst_relative_residual=worst,
    )


__all__ = ["BatchOTResult", "emd_batch"]
