"""Many small exact OT problems at once (e.g. word mover's distance between document pairs).

:func:`emd_batch` validates the whole batch once, then one numba kernel solves every problem
with the network simplex in parallel over problems (``prange``) and, in the same loop, computes
each problem's certificate numbers with the finisher's own kernel
(:func:`divkit.ot.result.certify_dense`: centred potentials, exactly rounded plan sums, the dual
pass) while its cost matrix is still in cache. :func:`finish_batch` judges each problem by its
:class:`~divkit.ot.Certificate` (:func:`divkit.ot.result.judge_batch`) and sends every problem
off that common path (zero-mass atoms, a solver stop, a first certificate that misses ``rtol``)
through :func:`divkit.ot.result.finish` itself, as :func:`divkit.emd` would. Either way a
problem gets the bits :func:`finish` gives it.

:func:`emd_point_pairs` is the same for pairs of point clouds (``divkit.pairwise``): the cost
matrix of each pair is built inside the parallel loop instead of a ``(k, n, m)`` batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..._validation import MASS_RTOL, as_float_array, check_int, check_scalar
from ..problem import check_flag, dense_problem_trusted, sample_pairs
from ..result import OPTIMALITY_RTOL, OptimalityError, RawSolution, finish, judge_batch
from ._network_simplex import (
    FLAG_NONE,
    FLAG_NONFINITE_COST,
    STATUS_MAX_ITER,
    STATUS_OPTIMAL,
    batch_block,
    points_cost_matrix,
    solve_certify_batch,
    solve_certify_point_pairs,
)
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
    s_rows, s_cols = sample_pairs(n, m)
    masses = problem_masses(A)
    raw = solve_certify_batch(A, B, Cs, shared, masses, s_rows, s_cols, PRICE_RTOL,
                              batch_block(n, m), cap, ARTIFICIAL_FLOW_RTOL,
                              numba.get_num_threads())
    out = finish_batch(A, B, lambda p: Cs[0] if shared else Cs[p], raw, masses, cap, rtol,
                       return_potentials)
    if out.failures:
        first, reason = next(iter(sorted(out.failures.items())))
        raise OptimalityError(f"{len(out.failures)} of {k} problems did not reach a certified "
                              f"optimum (first: problem {first}: {reason})")
    return BatchOTResult(costs=out.costs, f=out.f, g=out.g, iterations=out.iterations,
                         worst_relative_residual=out.worst_relative_residual)


def problem_masses(A: np.ndarray) -> np.ndarray:
    """``float(A[p].sum())`` of every row: the ``total_mass`` each problem's
    :class:`~divkit.ot.problem.OTProblem` would measure. numpy reduces each row of a
    C-contiguous array along its contiguous axis with the same pairwise summation as the 1-D
    ``row.sum()``, so one ``sum(axis=1)`` gives the same bits (tested) without a Python loop
    over thousands of rows."""
    return np.ascontiguousarray(A, dtype=np.float64).sum(axis=1)


@dataclass(frozen=True)
class BatchFinish:
    """Per-problem outcome of :func:`finish_batch` (``failures``: problem -> reason)."""

    costs: np.ndarray
    f: np.ndarray | None
    g: np.ndarray | None
    iterations: np.ndarray
    worst_relative_residual: np.ndarray
    failures: dict


def finish_batch(A, B, cost_of, raw, masses, cap, rtol, return_potentials=False) -> BatchFinish:
    """Judge the output of a batch kernel (:func:`solve_certify_batch` or
    :func:`solve_certify_point_pairs`) with the one finisher.

    Problems the kernel certified on :func:`~divkit.ot.result.finish`'s common path (their
    certificate numbers computed in the kernel by :func:`~divkit.ot.result.certify_dense`) are
    judged by :func:`~divkit.ot.result.judge_batch`, i.e. by their :class:`Certificate`; every
    other problem (zero-mass atoms, a solver stop, a certificate that misses ``rtol`` on the
    first potentials) goes through :func:`~divkit.ot.result.finish` itself with
    ``cost_of(p)``, its cost matrix. Failed problems keep their uncertified cost and residual
    and are listed in ``failures`` with the finisher's reason.
    """
    R, K, V, counts, F, G, Fc, Gc, status, iters, sums, duals, floors, flags = raw
    costs, worst, ok = judge_batch(sums, duals, masses, floors, rtol)
    f_out = g_out = None
    if return_potentials:
        f_out, g_out = Fc.copy(), Gc.copy()
    failures = {}
    for p in np.flatnonzero((flags != FLAG_NONE) | ~ok):
        st = int(status[p])
        if flags[p] == FLAG_NONFINITE_COST:
            raise ValueError(f"problem {p} has a cost matrix with non-finite entries (overflow); "
                             "rescale the points or lower the power")
        c = counts[p]
        solution = RawSolution(rows=R[p, :c], cols=K[p, :c], flows=V[p, :c], f=F[p], g=G[p],
                               solver="network_simplex", iterations=int(iters[p]),
                               c_transformed=True,
                               status="optimal" if st == STATUS_OPTIMAL else
                               ("max_iter" if st == STATUS_MAX_ITER else "unbounded"),
                               message=f"problem {p}: pivot cap max_iter={cap} hit or numerical "
                                       "trouble")
        problem = dense_problem_trusted(A[p], B[p], cost_of(p))
        try:
            res = finish(problem, solution, rtol=rtol, sparse=True)
        except OptimalityError as exc:
            failures[int(p)] = str(exc)
            assert exc.result is not None  # finish() always attaches the uncertified result
            res = exc.result
        costs[p] = res.cost
        worst[p] = res.certificate.worst_relative_residual()
        if return_potentials:
            assert f_out is not None and g_out is not None  # allocated above when return_potentials
            f_out[p] = res.f
            g_out[p] = res.g
    return BatchFinish(costs=costs, f=f_out, g=g_out, iterations=iters,
                       worst_relative_residual=worst, failures=failures)


def emd_point_pairs(X, Y, I, J, A, B, *, metric_code: int, minkowski_p: float, power: float,
                    max_iter: int | None = None, rtol: float = OPTIMALITY_RTOL) -> BatchFinish:
    """Exact OT between point clouds ``X[I[k]]`` and ``Y[J[k]]`` with masses ``A[k]``,
    ``B[k]`` and costs ``d(x, y)**power``, for many pairs at once (trusted input: float64
    stacks ``X`` (NX, n, d), ``Y`` (NY, m, d), probability rows ``A`` (k, n), ``B`` (k, m)).

    The cost matrices are built inside the parallel loop, one problem at a time, so a block of
    pairs never holds a ``(k, n, m)`` batch; every problem is certified by the one finisher
    (:func:`finish_batch`). ``B`` is rescaled to ``A``'s totals as :func:`emd_batch` does.
    Failures are returned (``BatchFinish.failures``), not raised.
    """
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B * (A.sum(axis=1) / B.sum(axis=1))[:, None], dtype=np.float64)
    n, m = A.shape[1], B.shape[1]
    cap = default_max_iter(n, m) if max_iter is None else check_int(max_iter, "max_iter", low=0)
    s_rows, s_cols = sample_pairs(n, m)
    masses = problem_masses(A)
    I = np.ascontiguousarray(I, dtype=np.int64)
    J = np.ascontiguousarray(J, dtype=np.int64)
    raw = solve_certify_point_pairs(X, Y, I, J, A, B, masses, int(metric_code),
                                    float(minkowski_p), float(power), s_rows, s_cols, PRICE_RTOL,
                                    batch_block(n, m), cap, ARTIFICIAL_FLOW_RTOL,
                                    numba.get_num_threads())

    def cost_of(p):
        return points_cost_matrix(X[I[p]], Y[J[p]], int(metric_code), float(minkowski_p),
                                  float(power))

    return finish_batch(A, B, cost_of, raw, masses, cap, rtol)


__all__ = ["BatchOTResult", "emd_batch"]
