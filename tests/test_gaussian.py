"""Gaussian closed forms against explicit-inverse formulas, quadrature and Monte Carlo."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import naive
from divkit import gaussian


def random_spd(rng, d, cond=20.0):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.exp(rng.uniform(0, math.log(cond), d)) * rng.uniform(0.2, 3.0)
    return (q * eig) @ q.T


@st.composite
def gaussian_pairs(draw):
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(d), random_spd(rng, d), rng.standard_normal(d) * 2, random_spd(rng, d))


@settings(max_examples=40)
@given(gaussian_pairs())
def test_full_covariance_against_explicit_formulas(pair):
    m1, s1, m2, s2 = pair
    np.testing.assert_allclose(gaussian.kl(m1, s1, m2, s2), naive.gaussian_kl(m1, s1, m2, s2), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(gaussian.w2(m1, s1, m2, s2), naive.gaussian_w2(m1, s1, m2, s2), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        gaussian.bhattacharyya(m1, s1, m2, s2), naive.gaussian_bhattacharyya(m1, s1, m2, s2), rtol=1e-8, atol=1e-12
    )


@settings(max_examples=40)
@given(gaussian_pairs())
def test_diagonal_path_equals_full_path(pair):
    m1, s1, m2, s2 = pair
    v1, v2 = np.diag(s1).copy(), np.diag(s2).copy()
    for fn in (gaussian.kl, gaussian.w2, gaussian.bhattacharyya, gaussian.squared_hellinger):
        np.testing.assert_allclose(fn(m1, v1, m2, v2), fn(m1, np.diag(v1), m2, np.diag(v2)), rtol=1e-9, atol=1e-12)
        # a diagonal on one side only also works
        np.testing.assert_allclose(fn(m1, v1, m2, np.diag(v2)), fn(m1, np.diag(v1), m2, v2), rtol=1e-9, atol=1e-12)


@settings(max_examples=30)
@given(gaussian_pairs(), st.integers(0, 2**32 - 1))
def test_w2_is_a_metric(pair, seed):
    m1, s1, m2, s2 = pair
    rng = np.random.default_rng(seed)
    m3, s3 = rng.standard_normal(len(m1)), random_spd(rng, len(m1))
    d12, d13, d32 = gaussian.w2(m1, s1, m2, s2), gaussian.w2(m1, s1, m3, s3), gaussian.w2(m3, s3, m2, s2)
    assert d12 <= d13 + d32 + 1e-9
    np.testing.assert_allclose(d12, gaussian.w2(m2, s2, m1, s1), rtol=1e-8, atol=1e-10)
    assert gaussian.w2(m1, s1, m1, s1) < 1e-6
    assert gaussian.kl(m1, s1, m1, s1) == pytest.approx(0.0, abs=1e-10)
    assert gaussian.kl(m1, s1, m2, s2) >= 0
    assert 0 <= gaussian.squared_hellinger(m1, s1, m2, s2) <= 2


def _dist(m, s):
    return scipy.stats.norm(m, math.sqrt(s))


@pytest.mark.parametrize("m1,s1,m2,s2", [(0.0, 1.0, 1.0, 1.0), (0.3, 0.5, -1.2, 2.5), (2.0, 4.0, 2.0, 0.25)])
def test_one_dimensional_quadrature(m1, s1, m2, s2):
    p, q = _dist(m1, s1), _dist(m2, s2)
    lim = 30
    kl_quad = scipy.integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -lim, lim, limit=200)[0]
    bc_quad = scipy.integrate.quad(lambda x: math.sqrt(p.pdf(x) * q.pdf(x)), -lim, lim, limit=200)[0]
    # W2 in 1-D is the L2 distance between quantile functions
    qf1, qf2 = scipy.stats.norm(m1, math.sqrt(s1)).ppf, scipy.stats.norm(m2, math.sqrt(s2)).ppf
    w2_quad = math.sqrt(scipy.integrate.quad(lambda t: (qf1(t) - qf2(t)) ** 2, 0, 1, limit=200)[0])
    assert gaussian.kl(m1, s1, m2, s2) == pytest.approx(kl_quad, rel=1e-7)
    assert gaussian.bhattacharyya(m1, s1, m2, s2) == pytest.approx(-math.log(bc_quad), rel=1e-7)
    assert gaussian.squared_hellinger(m1, s1, m2, s2) == pytest.approx(2 * (1 - bc_quad), rel=1e-7)
    assert gaussian.w2(m1, s1, m2, s2) == pytest.approx(w2_quad, rel=1e-6)


def test_four_dimensional_monte_carlo():
    rng = np.random.default_rng(7)
    d = 4
    m1, s1 = rng.standard_normal(d) * 0.5, random_spd(rng, d, cond=5)
    m2, s2 = rng.standard_normal(d) * 0.5, random_spd(rng, d, cond=5)
    p = scipy.stats.multivariate_normal(m1, s1)
    q = scipy.stats.multivariate_normal(m2, s2)
    x = p.rvs(size=200_000, random_state=rng)
    log_ratio = p.logpdf(x) - q.logpdf(x)
    kl_mc, kl_se = log_ratio.mean(), log_ratio.std() / math.sqrt(len(x))
    assert abs(gaussian.kl(m1, s1, m2, s2) - kl_mc) < 4 * kl_se
    # BC = E_p[sqrt(q/p)]
    root = np.exp(-0.5 * log_ratio)
    bc_mc, bc_se = root.mean(), root.std() / math.sqrt(len(x))
    assert abs(math.exp(-gaussian.bhattacharyya(m1, s1, m2, s2)) - bc_mc) < 4 * bc_se


def test_w2_equal_covariance_is_mean_distance_and_commuting_case():
    s = np.diag([1.0, 9.0])
    assert gaussian.w2([0, 0], s, [3, 4], s) == pytest.approx(5.0, rel=1e-12)
    # commuting covariances: W2^2 = ||m||^2 + ||S1^1/2 - S2^1/2||_F^2
    assert gaussian.w2([0, 0], np.diag([1.0, 4.0]), [0, 0], np.diag([4.0, 1.0])) == pytest.approx(math.sqrt(2.0), rel=1e-12)


def test_entropy_closed_form():
    s = np.array([[2.0, 0.3], [0.3, 1.0]])
    expected = 0.5 * math.log(np.linalg.det(2 * math.pi * math.e * s))
    assert gaussian.entropy([0.0, 1.0], s) == pytest.approx(expected, rel=1e-12)
    assert gaussian.entropy([0.0, 1.0], s) == pytest.approx(scipy.stats.multivariate_normal([0, 1], s).entropy(), rel=1e-12)


def test_float32_and_integer_inputs_and_python_float_results():
    val = gaussian.kl(np.zeros(2, np.float32), np.eye(2, dtype=np.float32), np.ones(2, dtype=np.int64), np.eye(2, dtype=np.int64) * 2)
    assert type(val) is float
    assert val == pytest.approx(naive.gaussian_kl(np.zeros(2), np.eye(2), np.ones(2), 2 * np.eye(2)), rel=1e-12)


def test_tiny_and_huge_scales():
    for scale in (1e-150, 1e150):
        assert gaussian.kl(0.0, scale, 0.0, 2 * scale) == pytest.approx(0.5 * (0.5 - 1 + math.log(2)), rel=1e-12)
        assert gaussian.w2(0.0, scale**2, 0.0, 4 * scale**2) == pytest.approx(scale, rel=1e-12)


@pytest.mark.parametrize(
    "args,match",
    [
        (([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], [0.0, 0.0], np.eye(2)), "cov1 is not positive definite"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), "cov2 is not symmetric"),
        (([0.0, 0.0], [1.0, -1.0], [0.0, 0.0], [1.0, 1.0]), "cov1 is not positive definite"),
        (([0.0, np.nan], np.eye(2), [0.0, 0.0], np.eye(2)), "mean1 contains 1 NaN"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, np.inf], [np.inf, 1.0]]), "cov2 contains 2 infinite"),
        (([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2)), r"cov1 must have shape \(2, 2\)"),
        (([0.0, 0.0], [1.0], [0.0, 0.0], np.eye(2)), "cov1 has 1 variances but mean1 has dimension 2"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0, 0.0], np.eye(3)), "mean1 has dimension 2 but mean2 has dimension 3"),
        (([], [], [], []), "mean1 is empty"),
    ],
)
def test_bad_input(args, match):
    for fn in (gaussian.kl, gaussian.w2, gaussian.bhattacharyya, gaussian.squared_hellinger):
        with pytest.raises(ValueError, match=match):
            fn(*args)


@pytest.mark.parametrize("c", [1e-150, 1e150])
def test_w2_is_homogeneous_at_extreme_scales(c):
    rng = np.random.default_rng(3)
    m1, s1, m2, s2 = rng.standard_normal(3), random_spd(rng, 3), rng.standard_normal(3), random_spd(rng, 3)
    base = gaussian.w2(m1, s1, m2, s2)
    assert gaussian.w2(m1 * c, s1 * c * c, m2 * c, s2 * c * c) == pytest.approx(base * c, rel=1e-12)
    assert gaussian.w2(m1 * c, np.diag(s1) * c * c, m2 * c, np.diag(s2) * c * c) == pytest.approx(
        gaussian.w2(m1, np.diag(s1), m2, np.diag(s2)) * c, rel=1e-12)
    assert gaussian.w2([1e200], [1.0], [-1e200], [1.0]) == pytest.approx(2e200, rel=1e-15)
