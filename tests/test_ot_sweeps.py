"""The O(n m) sweeps over a dense cost matrix that bracket every exact-OT solve: the problem's
fused min/max/finiteness pass, the column c-transform and the certificate's dual pass.

Each is checked against plain numpy on the same arrays (sizes that are and are not multiples of
the kernels' 4-way unrolling, non-finite entries anywhere including the tail, positive dual
violations), and for independence from numba's thread count.
"""

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from divkit.ot.problem import min_max_finite
from divkit.ot.result import DUAL_ROUNDING, _dense_dual_pass, ctransform_cols_dense


@st.composite
def _matrices(draw):
    n = draw(st.integers(1, 9))
    m = draw(st.integers(1, 11))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e300]))
    rng = np.random.default_rng(seed)
    C = (rng.standard_normal((n, m)) * scale).astype(np.float64)
    return C, rng


@given(_matrices(), st.lists(st.sampled_from([np.nan, np.inf, -np.inf]), max_size=4))
def testmin_max_finite_matches_numpy(case, bad_values):
    C, rng = case
    flat = C.reshape(-1)
    positions = rng.choice(flat.size, size=min(len(bad_values), flat.size), replace=False)
    for pos, value in zip(positions, bad_values):
        flat[pos] = value
    lo, hi, bad = min_max_finite(C)
    finite = flat[np.isfinite(flat)]
    n_nan = int(np.isnan(flat).sum())
    n_inf = int(np.isinf(flat).sum())
    assert bad == n_nan * 10**12 + n_inf
    if finite.size:
        assert lo == finite.min() and hi == finite.max()
    else:
        assert lo == np.inf and hi == -np.inf


def testmin_max_finite_sees_an_infinite_last_entry():
    # the entry after the unrolled part of the sweep
    C = np.zeros((3, 3))
    C[-1, -1] = np.inf
    assert min_max_finite(C)[2] == 1
    C[-1, -1] = np.nan
    assert min_max_finite(C)[2] == 10**12


@given(_matrices(), st.booleans())
def test_column_ctransform_matches_numpy(case, every_column):
    C, rng = case
    f = rng.standard_normal(C.shape[0]) * np.abs(C).max()
    if every_column:
        cols = np.arange(C.shape[1], dtype=np.int64)
    else:
        cols = np.flatnonzero(rng.random(C.shape[1]) < 0.5).astype(np.int64)
    expected = (C[:, cols] - f[:, None]).min(axis=0) if cols.size else np.empty(0)
    np.testing.assert_array_equal(ctransform_cols_dense(C, f, cols), expected)


def _naive_dual_numbers(C, f, g, floor):
    t = f[:, None] + g[None, :] - C
    q = np.where(t > 0, t / np.maximum(np.abs(C) + np.abs(f)[:, None] + np.abs(g)[None, :], floor), 0.0)
    counted = q > DUAL_ROUNDING
    return (np.abs(C).max(), t.max(), (q[counted].max() if counted.any() else 0.0),
            (t[counted].max() if counted.any() else 0.0))


@given(_matrices(), st.integers(0, 3))
def test_dual_pass_matches_numpy(case, n_violations):
    C, rng = case
    n, m = C.shape
    f = rng.standard_normal(n)
    g = (C - f[:, None]).min(axis=0)  # feasible: every f_i + g_j <= C_ij
    for _ in range(n_violations):  # then break a few constraints by a visible amount
        j = rng.integers(m)
        g[j] += abs(g[j]) * rng.uniform(1e-6, 1.0) + 1e-3
    floor = 1e-3
    assert _dense_dual_pass(C, f, g, floor) == _naive_dual_numbers(C, f, g, floor)


@given(_matrices(), st.lists(st.floats(0.25, 64.0), min_size=1, max_size=4),
       st.sampled_from([0.0, 1.0, 1e6]), st.sampled_from([1e-300, 1e-3, 1.0]))
def test_dual_pass_keeps_violations_just_beyond_the_rounding_allowance(case, factors, offset, floor):
    # violations of a few to a few dozen eps relative to |C_ij| + |f_i| + |g_j|, around the
    # DUAL_ROUNDING = 16 eps cut, with potentials on an offset: the pass screens rows by
    # |f_i| + min_j |g_j| before it looks at each entry, and must not screen one of these away
    C, rng = case
    n, m = C.shape
    f = rng.standard_normal(n) + offset * np.abs(C).max()
    g = (C - f[:, None]).min(axis=0)
    eps = np.finfo(np.float64).eps
    for k in factors:
        i, j = rng.integers(n), rng.integers(m)
        size = abs(C[i, j]) + abs(f[i]) + abs(g[j])
        g[j] = max(g[j], C[i, j] - f[i] + k * eps * size)
    assert _dense_dual_pass(C, f, g, floor) == _naive_dual_numbers(C, f, g, floor)


@pytest.mark.parametrize("threads", [1, 2])
def test_sweeps_do_not_depend_on_the_thread_count(threads, rng, monkeypatch):
    import divkit._numba

    monkeypatch.setattr(divkit._numba, "PARALLEL_MIN_WORK", 0)  # the parallel builds, small as C is
    C = rng.standard_normal((257, 131))
    f = rng.standard_normal(257)
    cols = np.arange(131, dtype=np.int64)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        g1 = ctransform_cols_dense(C, f, cols)
        d1 = _dense_dual_pass(C, f, g1 + 1e-9, 1e-3)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        g2 = ctransform_cols_dense(C, f, cols)
        d2 = _dense_dual_pass(C, f, g2 + 1e-9, 1e-3)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(g1, g2)
    assert d1 == d2
