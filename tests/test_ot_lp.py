"""Exact discrete OT through the LP: primal vs dual vs POT vs a dense naive LP, certificates,
invariances, zero-mass points, Kantorovich–Rubinstein, and the solver/ground-cost layer."""

import dataclasses

import numpy as np
import ot
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_cost_matrix, naive_transport_lp
from scipy.spatial.distance import cdist

from divkit import (
    cost_matrix,
    emd,
    kantorovich_rubinstein_potential,
    wasserstein,
    wasserstein_1d,
)
from divkit.ot import OptimalityError, certify
from divkit.ot import api as ot_api

TOL = 1e-9
METHODS = ("highs-primal", "highs-dual", "network_simplex")


def scale_of(a, C):
    return float(np.sum(a)) * float(np.abs(C).max())


def assert_close_cost(x, y, a, C, rel=TOL):
    """Agreement to ``rel`` relative to the cost and to the problem's scale ``mass * max|C|``."""
    assert abs(x - y) <= rel * max(abs(y), scale_of(a, C), 1e-300), (x, y)


# ---------------------------------------------------------------------------------------------
# random problems: sizes 1..60, weights with zeros, costs with ties, negative and huge entries
# ---------------------------------------------------------------------------------------------

COST_KINDS = ("uniform", "ties", "negative", "all_negative", "huge", "tiny", "euclidean")


@st.composite
def problems(draw, max_size=60):
    n = draw(st.integers(1, max_size))
    m = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(COST_KINDS))
    zero_frac = draw(st.sampled_from([0.0, 0.3]))
    rng = np.random.default_rng(seed)

    def weights(k):
        w = rng.random(k)
        w[rng.random(k) < zero_frac] = 0.0
        if w.sum() == 0:
            w[rng.integers(k)] = 1.0
        return w / w.sum()

    a, b = weights(n), weights(m)
    if kind == "uniform":
        C = rng.random((n, m))
    elif kind == "ties":
        C = rng.integers(0, 3, size=(n, m)).astype(float)
    elif kind == "negative":
        C = rng.normal(size=(n, m))
    elif kind == "all_negative":
        C = -1.0 - rng.random((n, m))
    elif kind == "huge":
        C = rng.random((n, m)) * 1e30
    elif kind == "tiny":
        C = rng.random((n, m)) * 1e-30
    else:
        C = cdist(rng.random((n, 2)), rng.random((m, 2)))
    return a, b, C, kind


@settings(max_examples=80)
@given(problems())
def test_primal_equals_dual_equals_naive_and_pot(problem):
    a, b, C, kind = problem
    primal = emd(a, b, C, method="highs-primal")
    dual = emd(a, b, C, method="highs-dual")
    simplex = emd(a, b, C)  # method="auto": the network simplex
    assert simplex.solver.startswith("network_simplex")
    assert_close_cost(primal.cost, dual.cost, a, C)
    assert_close_cost(primal.cost, simplex.cost, a, C)
    for res in (primal, dual, simplex):
        cert = res.certificate
        scale = scale_of(a, C)
        assert cert.duality_gap <= TOL * scale
        assert cert.dual_infeasibility <= TOL * scale
        assert cert.complementary_slackness <= TOL * scale
        assert cert.marginal_error <= TOL
        assert cert.negative_mass == 0.0
        plan = res.dense_plan()
        np.testing.assert_allclose(plan.sum(axis=1), a, rtol=0, atol=1e-12)
        np.testing.assert_allclose(plan.sum(axis=0), b, rtol=0, atol=1e-12)
        # the reported cost is <plan, C>, recomputed here independently
        assert_close_cost(res.cost, float((plan * C).sum()), a, C, rel=1e-12)
        # centring convention <a, f> = <b, g>
        assert abs(a @ res.f - b @ res.g) <= 1e-12 * max(scale, 1e-300) + 1e-12 * abs(a @ res.f)
    if kind not in ("huge", "tiny", "all_negative"):  # inputs POT 0.9.7 handles correctly
        assert_close_cost(primal.cost, float(ot.emd2(a, b, C)), a, C)
    if kind in ("huge", "tiny"):
        # the same problem at unit scale is an independent check of the rescaling
        unit = float(np.abs(C).max())
        assert_close_cost(primal.cost / unit, emd(a, b, C / unit).cost, a, C / unit)


@settings(max_examples=15)
@given(problems(max_size=12))
def test_matches_dense_naive_lp(problem):
    a, b, C, _ = problem
    assert_close_cost(emd(a, b, C).cost, naive_transport_lp(a, b, C), a, C)


@settings(max_examples=25)
@given(problems(max_size=25), st.floats(-100, 100), st.floats(1e-3, 1e3))
def test_invariances(problem, shift, factor):
    a, b, C, _ = problem
    rng = np.random.default_rng(0)
    base = emd(a, b, C).cost
    pr, pc = rng.permutation(len(a)), rng.permutation(len(b))
    assert_close_cost(emd(a[pr], b[pc], C[np.ix_(pr, pc)]).cost, base, a, C)
    C_shift = C + shift * np.abs(C).max()
    assert_close_cost(emd(a, b, C_shift).cost, base + shift * np.abs(C).max(), a, C_shift)
    assert_close_cost(emd(a, b, C * factor, method="highs-dual").cost, base * factor, a, C * factor)


@pytest.mark.parametrize("method", METHODS)
def test_zero_mass_points_get_feasible_c_transform_potentials(method, rng):
    a = np.array([0.0, 0.5, 0.0, 0.5])
    b = np.array([0.2, 0.0, 0.8])
    C = rng.random((4, 3))
    res = emd(a, b, C, method=method)
    f, g = res.f, res.g
    assert np.max(f[:, None] + g[None, :] - C) <= 1e-12
    # zero-mass rows and columns carry exactly their c-transform
    np.testing.assert_allclose(f[[0, 2]], (C[[0, 2]][:, [0, 2]] - g[[0, 2]]).min(axis=1), rtol=0, atol=1e-14)
    np.testing.assert_allclose(g[1], (C[:, 1] - f).min(), rtol=0, atol=1e-14)
    assert np.all(res.dense_plan()[[0, 2]] == 0) and np.all(res.dense_plan()[:, 1] == 0)
    assert abs(res.cost - naive_transport_lp(a, b, C)) <= 1e-12


@pytest.mark.parametrize("method", METHODS)
def test_sparse_plan_is_basic(method, rng):
    n, m = 30, 20
    a, b = rng.random(n), rng.random(m)
    a /= a.sum()
    b /= b.sum()
    C = rng.random((n, m))
    res = emd(a, b, C, method=method, sparse=True)
    assert sp.issparse(res.plan)
    assert res.plan.nnz <= n + m - 1
    np.testing.assert_allclose(res.dense_plan(), emd(a, b, C, method=method).dense_plan(), atol=1e-15)
    recheck = certify(a, b, C, res.plan, res.f, res.g)
    assert recheck.is_optimal()
    assert abs(recheck.primal_value - res.cost) <= 1e-15


def test_single_points_and_rectangular():
    res = emd([1.0], [1.0], [[-3.5]])
    assert res.cost == -3.5
    np.testing.assert_array_equal(res.dense_plan(), [[1.0]])
    res = emd([1.0], [0.25, 0.75], [[2.0, 4.0]], method="highs-dual")
    assert abs(res.cost - 3.5) <= 1e-15
    res = emd([0.25, 0.75], [1.0], [[2.0], [4.0]])
    assert abs(res.cost - 3.5) <= 1e-15


def test_pot_failure_modes_are_not_shared():
    rng = np.random.default_rng(3)
    a = np.full(5, 0.2)
    # all-negative costs (POT 0.9.7 returns 0)
    C = -1.0 - rng.random((5, 5))
    assert abs(emd(a, a, C).cost - naive_transport_lp(a, a, C)) <= 1e-12
    # entries near 1e32 (POT issue 229): cost scales exactly with C
    C = rng.random((5, 5))
    base = emd(a, a, C).cost
    assert abs(emd(a, a, C * 1e32).cost / 1e32 - base) <= 1e-12 * base
    # float32 marginals whose float64 totals differ by ~1e-8 (POT issues 342, 429)
    a32 = (rng.random(7) + 0.1).astype(np.float32)
    a32 /= a32.sum()
    b32 = (rng.random(9) + 0.1).astype(np.float32)
    b32 /= b32.sum()
    C32 = rng.random((7, 9)).astype(np.float32)
    res = emd(a32, b32, C32)
    a64 = a32.astype(float)
    b64 = b32.astype(float) * (a64.sum() / b32.astype(float).sum())
    assert abs(res.cost - naive_transport_lp(a64, b64, C32.astype(float))) <= 1e-9
    assert isinstance(res.cost, float)


def north_west_corner_support(a, b):
    """The staircase of arcs from (0, 0) to (n-1, m-1) carrying the north-west-corner plan:
    a feasible plan lives on it, so forbidding only other arcs keeps the problem feasible."""
    ra, rb = list(a), list(b)
    n, m = len(ra), len(rb)
    support = np.zeros((n, m), dtype=bool)
    i = j = 0
    while True:
        support[i, j] = True
        move = min(ra[i], rb[j])
        ra[i] -= move
        rb[j] -= move
        if i == n - 1 and j == m - 1:
            return support
        if j == m - 1 or (i < n - 1 and ra[i] <= rb[j]):
            i += 1
        else:
            j += 1


def test_pot_issue_229_forbidden_entries():
    """Entries of 1e32 used as forbidden arcs (POT issue 229: POT 0.9.7 returns 88.509...)."""
    M = np.array([
        [2.50275352e02, 3.74653218e02, 2.41352736e03, 1e32, 1.51751540e-03],
        [2.13082030e02, 3.28812836e02, 2.29487946e03, 1e32, 1.37109800e-01],
        [1.97333083e02, 3.09175848e02, 2.24250550e03, 1e32, 2.46506283e00],
        [1e32, 1e32, 1e32, 5.26223432e00, 2.5e31],
        [3.84690152e01, 8.09465684e01, 3.33064175e02, 2.5e31, 0.0],
    ])
    a = np.array([0.125, 0.125, 0.125, 0.125, 0.5])
    expected = naive_transport_lp(a, a, M, allowed=M < 1e30)
    for method in METHODS:
        res = emd(a, a, M, method=method)
        assert abs(res.cost - expected) <= 1e-12 * expected
        assert np.all(res.dense_plan()[M >= 1e30] == 0)
        assert res.certificate.dual_infeasibility <= 1e-9 * expected


@settings(max_examples=25)
@given(problems(max_size=20), st.sampled_from([1e20, 1e32, 1e300]))
def test_forbidden_arcs_next_to_ordinary_costs(problem, big):
    a, b, C, _ = problem
    rng = np.random.default_rng(int(C.size))
    C = rng.random(C.shape)
    keep = north_west_corner_support(a, b)
    forbidden = (rng.random(C.shape) < 0.4) & ~keep
    C[forbidden] = big
    expected = naive_transport_lp(a, b, C, allowed=~forbidden)
    for method in METHODS:
        res = emd(a, b, C, method=method)
        assert abs(res.cost - expected) <= 1e-9 * max(expected, 1.0)


@pytest.mark.parametrize("method", METHODS)
def test_near_ties_far_below_the_cost_range_are_resolved(method):
    """Two plans whose costs differ by 2e-6 out of 5e5: HiGHS alone (tolerance 1e-10 on costs
    rescaled to [0, 1]) may return either; the refinement on reduced costs finds the optimum."""
    u = np.array([189053.38179353, -522748.44148075])
    v = np.array([-4.13063543e-07, -2.44146738e-06])
    C = np.abs(np.subtract.outer(u, v))
    a = np.full(2, 0.5)
    res = emd(a, a, C, method=method)
    expected = 0.5 * (C[0, 0] + C[1, 1])  # the monotone (sorted) coupling
    assert abs(res.cost - expected) <= 1e-15 * expected
    assert res.certificate.dual_infeasibility <= 1e-15 * expected
    np.testing.assert_array_equal(res.dense_plan(), np.diag(a))


def test_integer_and_duplicate_inputs():
    x = np.array([[0, 0], [0, 0], [1, 1]])
    y = np.array([[0, 0], [1, 1], [1, 1]])
    # two copies of (0,0) against one: 1/3 of the mass travels sqrt(2)
    assert abs(wasserstein(x, y) - np.sqrt(2) / 3) <= 1e-15
    res = emd([1, 1], [1, 1], [[0, 1], [1, 0]])
    assert res.cost == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_non_optimal_answer_raises(method, monkeypatch, rng):
    a = np.full(4, 0.25)
    C = rng.random((4, 4))
    honest = ot_api._raw_solve

    def lazy(problem, name, options):
        raw = honest(problem, name, options)
        worse = np.outer(problem.a, problem.b) / problem.a.sum()  # feasible but not optimal
        rows, cols = np.nonzero(worse)
        return dataclasses.replace(raw, rows=rows, cols=cols, flows=worse[rows, cols])

    monkeypatch.setattr(ot_api, "_raw_solve", lazy)
    with pytest.raises(OptimalityError, match="did not reach a certified optimum") as info:
        emd(a, a, C, method=method)
    assert info.value.result.certificate.complementary_slackness > 0


# (HiGHS's IPM finishes this small problem before it first looks at the clock, so the time
# limit is exercised on the simplex route only)
@pytest.mark.parametrize("method, cap", [("highs-primal", {"time_limit": 1e-9}),
                                         ("highs-primal", {"max_iter": 2}),
                                         ("highs-dual", {"max_iter": 2})])
def test_stopped_solver_raises_instead_of_returning(method, cap, rng):
    a = np.full(40, 1 / 40)
    C = rng.random((40, 40))
    with pytest.raises(OptimalityError, match="HiGHS stopped without an optimum"):
        emd(a, a, C, method=method, **cap)


# ---------------------------------------------------------------------------------------------
# ground costs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock", "chebyshev", "minkowski"])
def test_cost_matrix_matches_cdist_and_naive(metric, rng):
    x = rng.normal(size=(13, 3)) * 1e3
    y = rng.normal(size=(7, 3))
    minkowski = metric == "minkowski"
    C = cost_matrix(x, y, metric, **({"minkowski_p": 3.0} if minkowski else {}))
    np.testing.assert_allclose(C, cdist(x, y, metric, **({"p": 3.0} if minkowski else {})),
                               rtol=1e-13, atol=0)
    np.testing.assert_allclose(C, naive_cost_matrix(x, y, metric, 3.0), rtol=1e-13, atol=0)


def test_cost_matrix_edge_cases(rng):
    x = rng.random((6, 2)).astype(np.float32)
    C = cost_matrix(x)
    assert C.dtype == np.float64 and C.shape == (6, 6)
    assert np.all(np.diag(C) == 0.0)
    # coincident far-away points: exactly zero (no cancellation), 1-D input is points on a line
    far = np.array([[1e8 + 0.5, -1e8]])
    assert cost_matrix(far, far, "sqeuclidean")[0, 0] == 0.0
    np.testing.assert_array_equal(cost_matrix([0, 1, 3], [2]), [[2.0], [1.0], [1.0]])


# ---------------------------------------------------------------------------------------------
# W_p on point clouds, Kantorovich–Rubinstein
# ---------------------------------------------------------------------------------------------


@st.composite
def clouds(draw, max_size=25):
    n = draw(st.integers(1, max_size))
    m = draw(st.integers(1, max_size))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + rng.normal(size=d)
    a = rng.random(n) * (rng.random(n) > 0.2) + (np.arange(n) == 0)
    b = rng.random(m) * (rng.random(m) > 0.2) + (np.arange(m) == 0)
    return x, y, a / a.sum(), b / b.sum()


@settings(max_examples=25)
@given(clouds(), st.sampled_from(["euclidean", "cityblock", "chebyshev"]))
def test_kantorovich_rubinstein_potential(cloud, metric):
    x, y, a, b = cloud
    res = wasserstein(x, y, a, b, p=1, metric=metric, return_result=True)
    kr = res.kr_potential
    w1 = wasserstein(x, y, a, b, p=1, metric=metric)
    assert abs(kr.value - w1) <= 1e-9 * max(w1, 1.0)
    assert abs(float(a @ kr.phi_x - b @ kr.phi_y) - w1) <= 1e-9 * max(w1, 1.0)
    pts = np.vstack([x, y])
    phi = np.concatenate([kr.phi_x, kr.phi_y])
    D = naive_cost_matrix(pts, pts, metric)
    assert np.max(np.abs(phi[:, None] - phi[None, :]) - D) <= 1e-12 * max(1.0, D.max())
    again = kantorovich_rubinstein_potential(x, y, res, a, b, metric=metric)
    np.testing.assert_array_equal(again.phi_x, kr.phi_x)


@settings(max_examples=25)
@given(clouds())
def test_wasserstein_inequalities(cloud):
    x, y, a, b = cloud
    w1 = wasserstein(x, y, a, b, p=1)
    # W1 >= |E x - E y| (Jensen: |.| is convex and 1-Lipschitz)
    assert w1 >= np.linalg.norm(a @ x - b @ y) - 1e-12
    # W_p is non-decreasing in p (Jensen / Hoelder)
    w2 = wasserstein(x, y, a, b, p=2, method="highs-dual")
    w3 = wasserstein(x, y, a, b, p=3)
    assert w1 <= w2 * (1 + 1e-9) + 1e-12
    assert w2 <= w3 * (1 + 1e-9) + 1e-12
    # symmetry
    assert abs(wasserstein(y, x, b, a, p=1) - w1) <= 1e-9 * max(w1, 1.0)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 31, 64, 100])
@pytest.mark.parametrize("theta", [-1.0, -0.5, -0.1, 0.0, 0.1, 0.3, 0.5, 1.0, 1e-7, 123.456])
def test_wgan_parallel_segments_exact(n, theta):
    """WGAN Example 1 (Arjovsky et al. 2017): W1 between {0} x [0,1] and {theta} x [0,1] is
    |theta|, exactly, for every discretisation."""
    heights = (np.arange(n) + 0.5) / n
    x0 = np.column_stack([np.zeros(n), heights])
    xt = np.column_stack([np.full(n, theta), heights])
    assert wasserstein(x0, xt, p=1) == abs(theta)
    assert wasserstein(x0, xt, p=1, method="highs-dual") == abs(theta)


@pytest.mark.parametrize("n", [1, 5, 64])
def test_demo_segments_give_exact_w1(n):
    """The points ``divkit demo`` builds (divkit._cli.parallel_segments) give W1 = |theta|."""
    from divkit._cli import DEMO_THETAS, parallel_segments

    for theta in DEMO_THETAS:
        x0, x_theta, _, _ = parallel_segments(theta, n)
        assert wasserstein(x0, x_theta, p=1) == abs(theta)


def test_one_dimensional_fast_path_matches_lp(rng):
    x, y = rng.normal(size=17), rng.normal(size=11) + 0.3
    a, b = rng.random(17), rng.random(11)
    a, b = a / a.sum(), b / b.sum()
    for p in (1, 1.5, 2):
        lp = wasserstein(x[:, None], y[:, None], a, b, p=p, method="highs-primal")
        fast = wasserstein(x[:, None], y[:, None], a, b, p=p)
        assert abs(lp - fast) <= 1e-12 * lp
        assert abs(fast - wasserstein_1d(x, y, a, b, p=p)) <= 1e-14 * fast


def test_wasserstein_weights_need_normalize_true_unless_they_sum_to_1(rng):
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    a, b = rng.random(5) * 7, rng.random(4)
    with pytest.raises(ValueError, match="a sums to .* not 1 .* pass normalize=True"):
        wasserstein(x, y, a, b, p=2)
    res = wasserstein(x, y, a, b, p=2, return_result=True, normalize=True)
    ref = naive_transport_lp(a / a.sum(), b / b.sum(), naive_cost_matrix(x, y) ** 2)
    assert abs(res.cost * res.length_scale**2 - ref) <= 1e-12
    assert abs(wasserstein(x, y, a, b, p=2, normalize=True) - np.sqrt(ref)) <= 1e-12
    assert res.distance == wasserstein(x, y, a, b, p=2, normalize=True)
    assert res.kr_potential is None


@pytest.mark.parametrize("highs_method", ["highs-ipm", "highs"])
def test_other_highs_algorithms(highs_method, rng):
    a = rng.random(12)
    a /= a.sum()
    C = rng.random((12, 12))
    ref = naive_transport_lp(a, a, C)
    for method in ("highs-primal", "highs-dual"):
        assert abs(emd(a, a, C, method=method, highs_method=highs_method).cost - ref) <= 1e-9


@pytest.mark.parametrize("scale", [1e-200, 1e200])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_and_costs_at_extreme_magnitudes(scale, p, rng):
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(7, 2))
    unit = wasserstein(x, y, p=p)
    assert wasserstein(x * scale, y * scale, p=p) == pytest.approx(unit * scale, rel=1e-12)
    for metric in ("euclidean", "sqeuclidean", "cityblock"):
        factor = scale * scale if metric == "sqeuclidean" else scale
        if np.isfinite(factor) and factor > 0:
            np.testing.assert_allclose(cost_matrix(x * scale, y * scale, metric=metric),
                                       cost_matrix(x, y, metric=metric) * factor, rtol=1e-14)
