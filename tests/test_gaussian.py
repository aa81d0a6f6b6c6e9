"""Gaussian closed forms against explicit-inverse formulas, quadrature and Monte Carlo."""

import math

import naive
import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert gaussian.w2(m1, s1, m1, s1) == 0.0
    assert gaussian.w2(m1, s1, m1.copy(), s1.copy()) == 0.0
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
        (([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], [0.0, 0.0], np.eye(2)), "cov1 is not positive"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), "cov2 is not symmetric"),
        (([0.0, 0.0], [1.0, -1.0], [0.0, 0.0], [1.0, 1.0]), "cov1 is not positive"),
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



# ---------------------------------------------------------------------------------------------
# W2 for positive semi-definite covariances, nearly equal inputs: mpmath and nuclear-norm oracles
# ---------------------------------------------------------------------------------------------

MP_DPS = 60  # nearly equal inputs at eps = 1e-12 cancel 24 digits in the trace formula: 36 remain


def mp_w2(m1, s1, m2, s2):
    """W2 from the trace formula at MP_DPS digits on the exact float inputs (mpmath eigsy)."""
    import mpmath as mp

    with mp.workdps(MP_DPS):
        a, b = mp.matrix(np.atleast_2d(s1).tolist()), mp.matrix(np.atleast_2d(s2).tolist())
        e, q = mp.eigsy(a)
        root = q * mp.diag([mp.sqrt(max(x, 0)) for x in e]) * q.T
        m = root * b * root
        e2, _ = mp.eigsy((m + m.T) / 2)
        cross = mp.fsum(mp.sqrt(max(x, 0)) for x in e2)
        trace = mp.fsum(a[i, i] + b[i, i] for i in range(a.rows))
        mean = mp.fsum((mp.mpf(float(x)) - mp.mpf(float(y))) ** 2 for x, y in zip(np.atleast_1d(m1), np.atleast_1d(m2)))
        return mp.sqrt(mean + trace - 2 * cross)


def spd_with_condition(rng, d, cond):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.geomspace(1.0, 1.0 / cond, d) if d > 1 else np.ones(1)
    s = (q * eig) @ q.T
    return 0.5 * (s + s.T)


def perturbed(rng, s, eps):
    """(I + eps K) S (I + eps K)^T: positive definite, relative distance ~eps from S."""
    k = np.eye(len(s)) + eps * rng.standard_normal(s.shape)
    out = k @ s @ k.T
    return 0.5 * (out + out.T)


# Bound reached (measured over d = 1..8, 3 seeds, max relative error):
#   condition 1    .. 1e3 : <= 5e-15 at every eps in 1e-2..1e-12
#   condition 1e6         : <= 2e-13, 4e-12 at eps = 1e-12
#   condition 1e9         : <= 4e-12 for eps >= 1e-8, 1e-10 at eps = 1e-10, 5e-8 at 1e-12
#   condition 1e12        : ~1e-9 for eps >= 1e-6, 1e-5 below
# Why: eigh resolves an eigenvalue ~1e-12 only to ~1e-16 absolute (1e-4 relative), and where the
# perturbation is as small as that absolute error, the terms of the small-eigenvalue directions
# (whose weights are ~1 / lambda) inherit it. Those corners are asserted at the measured bound.
def w2_rtol(cond, eps):
    if cond <= 1e6:
        return 1e-10
    if cond <= 1e9:
        return 1e-10 if eps >= 1e-8 else 1e-6
    return 1e-8 if eps >= 1e-6 else 1e-3


W2_CASES = [
    (d, cond, eps)
    for d in (1, 2, 5, 8)
    for cond in (1.0, 1e3, 1e6, 1e9, 1e12)
    for eps in (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)
]


@pytest.mark.parametrize("d,cond,eps", W2_CASES)
def test_w2_nearly_equal_against_mpmath(d, cond, eps):
    rng = np.random.default_rng(int(d * 1000 + math.log10(cond) * 10 - math.log10(eps)))
    s1 = spd_with_condition(rng, d, cond)
    s2 = perturbed(rng, s1, eps)
    m1 = rng.standard_normal(d)
    for m2 in (m1, m1 + eps * rng.standard_normal(d)):
        ref = mp_w2(m1, s1, m2, s2)
        got = gaussian.w2(m1, s1, m2, s2)
        assert abs(got - ref) <= w2_rtol(cond, eps) * ref, (got, float(ref))
        assert gaussian.w2(m2, s2, m1, s1) == pytest.approx(got, rel=1e-12)
    # diagonal covariances: the O(d) path
    v1 = np.diag(s1).copy()
    v2 = v1 * (1 + eps * rng.standard_normal(d))
    ref = mp_w2(m1, np.diag(v1), m1, np.diag(v2))
    assert abs(gaussian.w2(m1, v1, m1, v2) - ref) <= 1e-13 * ref


def test_w2_nearly_equal_in_fifty_dimensions_against_mpmath():
    rng = np.random.default_rng(50)
    s1 = spd_with_condition(rng, 50, 1e4)
    for eps in (1e-3, 1e-9):
        s2 = perturbed(rng, s1, eps)
        ref = mp_w2(np.zeros(50), s1, np.zeros(50), s2)
        assert abs(gaussian.w2(np.zeros(50), s1, np.zeros(50), s2) - ref) <= 1e-10 * ref


def test_w2_issue_cases_isotropic_scaling():
    # KL/W2 issue cases: N(0, I) vs N(0, (1 + eps) I) in d = 50; W2 = sqrt(d) (sqrt(1 + eps) - 1)
    import mpmath as mp

    d = 50
    for eps in (1e-6, 1e-8, 1e-12):
        s2 = (1 + eps) * np.eye(d)
        with mp.workdps(MP_DPS):
            e = mp.mpf(1 + eps) - 1  # the float's own perturbation
            ref = mp.sqrt(d) * (mp.sqrt(1 + e) - 1)
        full = gaussian.w2(np.zeros(d), np.eye(d), np.zeros(d), s2)
        diag = gaussian.w2(np.zeros(d), np.ones(d), np.zeros(d), np.diag(s2).copy())
        assert abs(full - ref) <= 1e-13 * ref and abs(diag - ref) <= 1e-13 * ref


def mp_w2_factors(m1, a, m2, b):
    """W2 for S1 = A A^T, S2 = B B^T from the factors at MP_DPS digits: ||A||^2 + ||B||^2 - 2 ||A^T B||_*
    (CONVENTIONS §7), independent of any square root of a rounded singular matrix."""
    import mpmath as mp

    with mp.workdps(MP_DPS):
        am, bm = mp.matrix(a.tolist()), mp.matrix(b.tolist())
        nuclear = mp.fsum(mp.svd_r(am.T * bm, compute_uv=False)) if a.shape[1] and b.shape[1] else 0
        frob = mp.fsum(x * x for x in am) + mp.fsum(x * x for x in bm)
        mean = mp.fsum((mp.mpf(float(x)) - mp.mpf(float(y))) ** 2 for x, y in zip(m1, m2))
        return mp.sqrt(mean + frob - 2 * nuclear)


def _rank_deficient(rng, d, r, scale=1.0):
    a = rng.standard_normal((d, r)) * scale
    return a, a @ a.T


@pytest.mark.parametrize("d,r1,r2", [(1, 0, 1), (3, 1, 2), (5, 2, 2), (8, 3, 8), (8, 8, 3), (20, 4, 7), (50, 10, 10)])
def test_w2_positive_semidefinite_against_nuclear_norm(d, r1, r2):
    # CONVENTIONS §7: tr (S1^1/2 S2 S1^1/2)^1/2 = ||A^T B||_* for S1 = A A^T, S2 = B B^T
    rng = np.random.default_rng(d * 100 + r1 * 10 + r2)
    a, s1 = _rank_deficient(rng, d, r1)
    b, s2 = _rank_deficient(rng, d, r2, scale=1.5)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    nuclear = np.linalg.svd(a.T @ b, compute_uv=False).sum() if r1 and r2 else 0.0
    expected = math.sqrt(np.sum((m1 - m2) ** 2) + np.sum(a * a) + np.sum(b * b) - 2 * nuclear)
    got = gaussian.w2(m1, s1, m2, s2)
    assert got == pytest.approx(expected, rel=1e-10)
    assert gaussian.w2(m2, s2, m1, s1) == pytest.approx(expected, rel=1e-10)
    if d <= 8:
        assert abs(got - mp_w2_factors(m1, a, m2, b)) <= 1e-10 * got
    # identical singular inputs: exactly 0
    assert gaussian.w2(m1, s1, m1, s1.copy()) == 0.0
    # a zero covariance is a point mass: W2 = sqrt(|m1 - m2|^2 + tr S2)
    zero = np.zeros((d, d))
    assert gaussian.w2(m1, zero, m2, s2) == pytest.approx(math.sqrt(np.sum((m1 - m2) ** 2) + np.trace(s2)), rel=1e-12)


def test_w2_singular_sample_covariance_fewer_samples_than_dimensions():
    # FID-like: n = 10 samples in d = 30, ddof = 1 covariance of rank 9; nuclear-norm oracle
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((10, 30)), rng.standard_normal((12, 30)) + 0.1
    xc, yc = x - x.mean(0), y - y.mean(0)
    a, b = xc.T / math.sqrt(9), yc.T / math.sqrt(11)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    assert np.linalg.eigvalsh(s1).min() < 0  # rounding noise where the exact eigenvalue is 0
    nuclear = np.linalg.svd(a.T @ b, compute_uv=False).sum()
    diff = x.mean(0) - y.mean(0)
    expected = math.sqrt(diff @ diff + np.sum(a * a) + np.sum(b * b) - 2 * nuclear)
    assert gaussian.w2(x.mean(0), s1, y.mean(0), s2) == pytest.approx(expected, rel=1e-10)
    assert gaussian.w2(x.mean(0), s1, x.mean(0), s1) == 0.0


def test_w2_nearly_equal_singular_absolute_accuracy():
    # both singular: the Procrustes route, accurate to ~1e-16 ||S||^1/2 absolute (documented)
    rng = np.random.default_rng(5)
    a, s1 = _rank_deficient(rng, 6, 3)
    for eps in (1e-4, 1e-8, 1e-12):
        b = a + eps * rng.standard_normal(a.shape)
        s2 = b @ b.T
        ref = mp_w2_factors(np.zeros(6), a, np.zeros(6), b)
        assert abs(gaussian.w2(np.zeros(6), s1, np.zeros(6), s2) - ref) <= 1e-14 * math.sqrt(np.abs(s1).max())


def test_w2_psd_diagonal_and_bad_semidefinite_input():
    assert gaussian.w2([0.0, 0.0], [0.0, 4.0], [0.0, 0.0], [1.0, 0.0]) == pytest.approx(math.sqrt(5.0), rel=1e-15)
    assert gaussian.w2([0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]) == 0.0
    with pytest.raises(ValueError, match="cov2 is not positive semi-definite"):
        gaussian.w2([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 0.0], [0.0, -1e-3]])
    with pytest.raises(ValueError, match="cov1 is not positive semi-definite"):
        gaussian.w2([0.0], [-1e-300], [0.0], [1.0])
    # rounding-level negative eigenvalues are accepted as 0
    assert gaussian.w2([0.0, 0.0], [[1.0, 0.0], [0.0, -1e-17]], [0.0, 0.0], np.eye(2)) == pytest.approx(1.0, rel=1e-12)


def mp_kl_bhattacharyya(m1, s1, m2, s2):
    """KL and Bhattacharyya from determinants and inverses at MP_DPS digits (mpmath)."""
    import mpmath as mp

    with mp.workdps(MP_DPS):
        a, b = mp.matrix(np.atleast_2d(s1).tolist()), mp.matrix(np.atleast_2d(s2).tolist())
        dm = mp.matrix([mp.mpf(float(x)) - mp.mpf(float(y)) for x, y in zip(np.atleast_1d(m1), np.atleast_1d(m2))])
        d = a.rows
        binv = b**-1
        kl = (sum((binv * a)[i, i] for i in range(d)) + (dm.T * binv * dm)[0] - d
              + mp.log(mp.det(b) / mp.det(a))) / 2
        s = (a + b) / 2
        bh = (dm.T * s**-1 * dm)[0] / 8 + mp.log(mp.det(s) / mp.sqrt(mp.det(a) * mp.det(b))) / 2
        return kl, bh


@pytest.mark.parametrize("d,cond,eps", [(d, c, e) for d in (1, 3, 8) for c in (1.0, 1e3, 1e6)
                                        for e in (1e-2, 1e-6, 1e-10, 1e-12)])
def test_kl_and_bhattacharyya_nearly_equal_against_mpmath(d, cond, eps):
    rng = np.random.default_rng(int(d * 100 + math.log10(cond) - math.log10(eps)))
    s1 = spd_with_condition(rng, d, cond)
    s2 = perturbed(rng, s1, eps)
    m1 = rng.standard_normal(d)
    m2 = m1 + eps * rng.standard_normal(d)
    kl_ref, bh_ref = mp_kl_bhattacharyya(m1, s1, m2, s2)
    # measured: <= 1e-13 relative up to condition 1e6 (the Cholesky solve of S2 costs ~cond^1/2 ulps)
    assert abs(gaussian.kl(m1, s1, m2, s2) - kl_ref) <= 1e-10 * kl_ref
    assert abs(gaussian.bhattacharyya(m1, s1, m2, s2) - bh_ref) <= 1e-10 * bh_ref
    h2 = gaussian.squared_hellinger(m1, s1, m2, s2)
    import mpmath as mp

    with mp.workdps(MP_DPS):
        h2_ref = -2 * mp.expm1(-bh_ref)
    assert abs(h2 - h2_ref) <= 1e-10 * h2_ref
    assert gaussian.kl(m1, s1, m1, s1.copy()) == 0.0
    assert gaussian.bhattacharyya(m1, s1, m1, s1.copy()) == 0.0
    assert gaussian.squared_hellinger(m1, s1, m1, s1.copy()) == 0.0


def test_kl_issue_isotropic_case_and_singular_refusal():
    import mpmath as mp

    d = 50
    for eps in (1e-6, 1e-8):
        with mp.workdps(MP_DPS):
            e = mp.mpf(1 + eps) - 1
            ref = d / 2 * (1 / (1 + e) - 1 + mp.log(1 + e))
        for s2 in ((1 + eps) * np.eye(d), np.full(d, 1 + eps)):
            s1 = np.eye(d) if s2.ndim == 2 else np.ones(d)
            assert abs(gaussian.kl(np.zeros(d), s1, np.zeros(d), s2) - ref) <= 1e-13 * ref
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    for fn in (gaussian.kl, gaussian.bhattacharyya, gaussian.squared_hellinger):
        with pytest.raises(ValueError, match="cov2 is not positive definite.*degenerate.*w2"):
            fn([0.0, 0.0], np.eye(2), [0.0, 0.0], singular)
