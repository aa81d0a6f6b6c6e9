"""Many small exact OT problems at once (e.g. word mover's distance between document pairs).

:func:`emd_batch` validates the whole batch once, solves every problem with the network
simplex in parallel over problems (numba ``prange``), and passes each raw answer through the
same finisher as :func:`divkit.emd` (:func:`divkit.ot.result.finish`): zero-mass atoms
restored, potentials centred, one certificate pass and the strict check with ``rtol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import MASS_RTOL, as_float_array, check_int, check_scalar
from ..problem import check_flag, dense_problem_trusted
from ..result import OPTIMALITY_RTOL, OptimalityError, RawSolution, finish
from ._network_simplex import STATUS_MAX_ITER, STATUS_OPTIMAL, solve_batch
from .network_simplex import ARTIFICIAL_FLOW_RTOL, PRICE_RTOL, default_max_iter


@dataclass(frozen=True)
class BatchOTResult:
    """Optimal costs of a batch of transport problems.

    Attributes
    ----------
    costs : ndarray of shape (k,)
        ``min <G, C_k>`` for each problem.
    f, g : ndarray of shape (k, n) and (k, m), or None
        Centred optimal potentials, when requested with ``return_potentials=True``.
    iterations : ndarray of shape (k,)
        Network simplex pivots per problem.
    worst_relative_residual : ndarray of shape (k,)
        Each problem's strict certificate residual
        (:meth:`divkit.ot.Certificate.worst_relative_residual`).
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
    normalize: bool = False,
) -> BatchOTResult:
    r"""Exact OT costs of many independent problems, in parallel over problems.

    For each ``k`` solves :math:`\min_{G \ge 0,\ G 1 = a_k,\ G^T 1 = b_k} \langle G, C_k\rangle`
    with the network simplex and certifies it with the same finisher as :func:`divkit.emd`.

    Parameters
    ----------
    a_batch : array_like of shape (k, n)
        Source masses, one problem per row.
    b_batch : array_like of shape (k, m)
        Target masses, each row with the same total as the matching row of ``a_batch``
        (relative tolerance ``MASS_RTOL``; rows are rescaled to match exactly), unless
        ``normalize=True`` (every row divided by its total).
    C_batch : array_like of shape (k, n, m) or (n, m)
        Cost matrices, or one matrix shared by all problems.
    return_potentials : bool
        Also return the optimal potentials.
    max_iter : int, optional
        Pivot cap per problem (default :func:`~divkit.ot.solvers.network_simplex.default_max_iter`).
    rtol : float
        Strict certificate tolerance; a problem that does not reach it raises.
    normalize : bool
        Divide every row of ``a_batch`` and ``b_batch`` by its total.

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
    lo = Cs.min(axis=(1, 2))
    hi = Cs.max(axis=(1, 2))
    if not np.all(np.isfinite(hi - lo)):
        raise ValueError("C_batch has a problem whose cost range overflows float64; rescale it")
    sa = A.sum(axis=1)
    sb = B.sum(axis=1)
    if check_flag(normalize, "normalize"):
        A = A / sa[:, None]
        B = B / sb[:, None]
    else:
        rel = np.abs(sa - sb) / np.maximum(sa, sb)
        if np.any(rel > MASS_RTOL):
            bad = int(np.argmax(rel))
            raise ValueError(
                f"a_batch and b_batch have different total mass in problem {bad} "
                f"({sa[bad]!r} vs {sb[bad]!r}); pass normalize=True to normalise them")
        B = B * (sa / sb)[:, None]
    B = np.ascontiguousarray(B)
    A = np.ascontiguousarray(A)
    cap = default_max_iter(n, m) if max_iter is None else check_int(max_iter, "max_iter", low=0)
    rtol = check_scalar(rtol, "rtol", low=0.0, low_open=True)
    return_potentials = check_flag(return_potentials, "return_potentials")
    R, K, V, counts, F, G, status, iters = solve_batch(A, B, Cs, shared, PRICE_RTOL, cap,
                                                        ARTIFICIAL_FLOW_RTOL)
    costs = np.empty(k)
    worst = np.empty(k)
    f_out = np.empty((k, n)) if return_potentials else None
    g_out = np.empty((k, m)) if return_potentials else None
    failures = []
    for p in range(k):
        c = counts[p]
        st = int(status[p])
        raw = RawSolution(rows=R[p, :c], cols=K[p, :c], flows=V[p, :c], f=F[p], g=G[p],
                          solver="network_simplex", iterations=int(iters[p]), c_transformed=True,
                          status="optimal" if st == STATUS_OPTIMAL else
                          ("max_iter" if st == STATUS_MAX_ITER else "unbounded"),
                          message=f"problem {p}: pivot cap max_iter={cap} hit or numerical trouble")
        problem = dense_problem_trusted(A[p], B[p], Cs[0] if shared else Cs[p])
        try:
            res = finish(problem, raw, rtol=rtol, sparse=True)
        except OptimalityError as exc:
            failures.append((p, str(exc)))
            assert exc.result is not None  # finish() always attaches the uncertified result
            res = exc.result
        costs[p] = res.cost
        worst[p] = res.certificate.worst_relative_residual()
        if return_potentials:
            assert f_out is not None and g_out is not None  # allocated above when return_potentials
            f_out[p] = res.f
            g_out[p] = res.g
    if failures:
        raise OptimalityError(f"{len(failures)} of {k} problems did not reach a certified optimum "
                              f"(first: problem {failures[0][0]}: {failures[0][1]})")
    return BatchOTResult(costs=costs, f=f_out, g=g_out, iterations=iters,
                         worst_relative_residual=worst)


__all__ = ["BatchOTResult", "emd_batch"]
