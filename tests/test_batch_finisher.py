"""The batch kernels certify through the one finisher: same bits as ``finish`` on the same raw
solution, and the kernels it is made of against independent references (math.fsum, numpy's
quantile/median, LP optimum via POT)."""

import math

import numba
import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit, prange

from divkit._numba import next_task
from divkit.ot import OptimalityError, emd_batch
from divkit.ot.problem import dense_problem_trusted, low_cost, median_in_place, sample_pairs
from divkit.ot.result import RawSolution, finish, fsum
from divkit.ot.solvers._network_simplex import (
    STATUS_OPTIMAL,
    batch_block,
    points_cost_matrix,
    solve_certify_batch,
)
from divkit.ot.solvers.batch import emd_point_pairs, problem_masses
from divkit.ot.solvers.network_simplex import ARTIFICIAL_FLOW_RTOL, PRICE_RTOL

_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=300)
@given(st.lists(st.one_of(_finite, st.sampled_from([1e308, -1e308, 1e-308, 5e-324, 1.0, -1.0,
                                                     1e16, -1e16, 1e-16])), max_size=40))
def test_fsum_is_math_fsum(values):
    try:
        want = math.fsum(values)
    except OverflowError:
        return  # math.fsum refuses an overflowing intermediate; ours returns the plain sum
    assert fsum(np.array(values, dtype=np.float64)) == want


def _numpy_low_cost(sample):
    nz = np.abs(sample[sample != 0])
    if nz.size == 0:
        return 1.0
    return float(max(np.quantile(nz, 0.01), 2.0**-50 * np.median(np.abs(sample))))


@settings(max_examples=200)
@given(st.integers(1, 3000), st.integers(0, 2**32 - 1), st.booleans())
def test_median_in_place_equals_numpy_median(size, seed, ties):
    # the batch kernel's artificial cost takes this median of a strided cost sample
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=size).astype(float) if ties else rng.normal(size=size) * 1e3
    assert median_in_place(x.copy()) == np.median(x)


@settings(max_examples=200)
@given(st.integers(1, 300), st.integers(1, 3000), st.integers(0, 2**32 - 1), st.booleans())
def test_problem_masses_equal_each_rows_own_sum(rows, cols, seed, fortran):
    # the finisher compares a batch problem's mass with OTProblem.total_mass = float(a.sum())
    # bit for bit; problem_masses takes every row at once
    rng = np.random.default_rng(seed)
    A = rng.random((rows, cols)) * 10.0 ** rng.uniform(-8, 8, size=(rows, 1))
    A[rng.random((rows, cols)) < 0.1] = 0.0
    if fortran:
        A = np.asfortranarray(A)
    expected = np.array([float(np.ascontiguousarray(row).sum()) for row in A])
    assert np.array_equal(problem_masses(A), expected)


@settings(max_examples=200)
@given(st.integers(1, 5000), st.integers(0, 2**32 - 1), st.sampled_from(range(6)))
def test_low_cost_equals_numpy_quantile_and_median(size, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == 0:
        x = rng.normal(size=size)
    elif kind == 1:  # ties
        x = rng.integers(-3, 4, size=size).astype(float)
    elif kind == 2:  # 26 decades, half zeros
        x = np.exp(rng.normal(size=size) * 30) * (rng.random(size) < 0.5)
    elif kind == 3:  # mostly zeros
        x = np.zeros(size)
        x[: int(rng.integers(0, size + 1))] = 1e-300
    elif kind == 4:  # huge entries next to tiny ones: the median term wins
        x = np.where(rng.random(size) < 0.6, 1e20, rng.random(size) * 1e-10)
    else:  # a few non-zero entries, last and decreasing: every one enters the heap pass
        x = np.zeros(size)
        k = int(rng.integers(0, min(size, 60) + 1))
        x[size - k:] = np.sort(rng.random(k))[::-1]
    assert low_cost(x) == _numpy_low_cost(x)


def _batch(seed, k, n, m, zero_mass):
    rng = np.random.default_rng(seed)
    A = rng.dirichlet(np.ones(n), k)
    B = rng.dirichlet(np.ones(m), k)
    if zero_mass:
        A[0, 0] = 0.0
        A[0] /= A[0].sum()
    B = B * (A.sum(axis=1) / B.sum(axis=1))[:, None]
    Cs = rng.random((k, n, m)) * 10.0 ** rng.integers(-3, 4)
    return A, B, Cs


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 9), st.integers(1, 9),
       st.booleans())
def test_batch_gives_finishs_bits_on_the_same_raw_solution(seed, k, n, m, zero_mass):
    A, B, Cs = _batch(seed, k, n, m, zero_mass and n > 1)
    out = emd_batch(A, B, Cs, return_potentials=True)
    s_rows, s_cols = sample_pairs(n, m)
    A2 = np.ascontiguousarray(A)
    B2 = np.ascontiguousarray(B * (A.sum(axis=1) / B.sum(axis=1))[:, None])
    R, K, V, counts, F, G, *_rest = solve_certify_batch(
        A2, B2, Cs, False, problem_masses(A2), s_rows, s_cols, PRICE_RTOL, batch_block(n, m),
        10**6, ARTIFICIAL_FLOW_RTOL, 2)
    status = _rest[2]
    for p in range(k):
        assert status[p] == STATUS_OPTIMAL
        c = counts[p]
        raw = RawSolution(rows=R[p, :c], cols=K[p, :c], flows=V[p, :c], f=F[p], g=G[p],
                          solver="network_simplex", c_transformed=True)
        res = finish(dense_problem_trusted(A2[p], B2[p], Cs[p]), raw)
        assert out.costs[p] == res.cost
        assert out.worst_relative_residual[p] == res.certificate.worst_relative_residual()
        np.testing.assert_array_equal(out.f[p], res.f)
        np.testing.assert_array_equal(out.g[p], res.g)
        np.testing.assert_allclose(out.costs[p], ot.emd2(A2[p], B2[p], Cs[p]), rtol=1e-9,
                                   atol=1e-12 * Cs[p].max())


def test_point_pairs_equal_dense_batch_and_report_failures():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 7, 3))
    Y = rng.normal(size=(3, 6, 3))
    I = np.array([0, 1, 2, 3, 0])
    J = np.array([0, 1, 2, 0, 2])
    A = rng.dirichlet(np.ones(7), 5)
    B = rng.dirichlet(np.ones(6), 5)
    A[2, 3] = 0.0  # a zero-mass atom: the full finisher path
    A[2] /= A[2].sum()
    for power in (1.0, 2.0):
        Cs = np.stack([points_cost_matrix(X[i], Y[j], 0, 2.0, power) for i, j in zip(I, J)])
        dense = emd_batch(A, B, Cs)
        pts = emd_point_pairs(X, Y, I, J, A, B, metric_code=0, minkowski_p=2.0, power=power)
        np.testing.assert_array_equal(pts.costs, dense.costs)
        np.testing.assert_array_equal(pts.worst_relative_residual, dense.worst_relative_residual)
        assert pts.failures == {}
    capped = emd_point_pairs(X, Y, I, J, A, B, metric_code=0, minkowski_p=2.0, power=1.0,
                             max_iter=1)
    assert capped.failures and all("max_iter" in why for why in capped.failures.values())
    with pytest.raises(OptimalityError, match="did not reach a certified optimum"):
        emd_batch(A, B, Cs, max_iter=1)


def test_points_cost_matrix_equals_the_shared_pair_cost():
    from divkit import cost_matrix

    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(13, 5)), rng.normal(size=(11, 5))
    for code, metric in enumerate(["euclidean", "sqeuclidean", "cityblock", "chebyshev"]):
        np.testing.assert_array_equal(points_cost_matrix(x, y, code, 2.0, 1.0),
                                      cost_matrix(x, y, metric))
    np.testing.assert_array_equal(points_cost_matrix(x, y, 0, 2.0, 2.0),
                                  cost_matrix(x, y) ** 2.0)


@njit(parallel=True)
def _claim_all(n_tasks, n_workers, reps):
    # which worker loop took each task (each task does some work so the loops interleave)
    owner = np.full(n_tasks, -1, dtype=np.int64)
    claims = np.zeros(n_tasks, dtype=np.int64)
    counter = np.zeros(1, dtype=np.int64)
    for w in prange(n_workers):
        while True:
            k = next_task(counter, 1)
            if k >= n_tasks:
                break
            s = 0.0
            for r in range(reps * (1 + k % 5)):
                s += np.sqrt(float(r + k))
            owner[k] = w if s >= 0 else -2
            claims[k] += 1
    return owner, claims


@pytest.mark.parametrize("n_workers", [1, 2, 5])
def test_next_task_hands_out_every_task_once(n_workers):
    owner, claims = _claim_all(5000, n_workers, 50)
    # no task lost or taken twice by racing worker loops (nor by loops given private copies
    # of the counter)
    assert np.all(claims == 1)
    assert set(np.unique(owner)) <= set(range(n_workers))


@pytest.mark.parametrize("shared", [False, True])
def test_batch_bits_do_not_depend_on_threads_or_worker_loops(shared):
    # the problems are handed out dynamically: which thread solves which must not matter
    A, B, Cs = _batch(7, 40, 12, 9, True)
    if shared:
        Cs = Cs[:1]
    A2 = np.ascontiguousarray(A)
    B2 = np.ascontiguousarray(B * (A.sum(axis=1) / B.sum(axis=1))[:, None])
    s_rows, s_cols = sample_pairs(12, 9)
    outs = []
    before = numba.get_num_threads()
    try:
        for threads, workers in [(1, 1), (2, 2), (2, 7), (1, 3)]:
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            outs.append(solve_certify_batch(A2, B2, Cs, shared, problem_masses(A2), s_rows,
                                            s_cols, PRICE_RTOL, batch_block(12, 9), 10**6,
                                            ARTIFICIAL_FLOW_RTOL, workers))
    finally:
        numba.set_num_threads(before)
    for out in outs[1:]:
        for x, y in zip(outs[0], out):
            np.testing.assert_array_equal(x, y)
