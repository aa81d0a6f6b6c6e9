"""MMD^2 estimators, kernels and energy distance against independent oracles."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_energy_distance, naive_kernel_matrix, naive_median_bandwidth, naive_mmd2

from divkit import energy_distance, median_bandwidth, mmd2
from divkit._numba import build_once
from divkit.mmd import _kernels
from divkit.mmd.kernels import KERNELS

#: agreement demanded against the naive reference: relative to the value, with an absolute
#: floor relative to the size of the kernel sums (a difference of O(1) terms can be ~0)
RTOL = 1e-10

KERNEL_CASES = [
    ("gaussian", {"bandwidth": 1.3}),
    ("gaussian", {"bandwidth": [0.5, 2.0], "kernel_weights": [0.25, 1.5]}),
    ("laplacian", {"bandwidth": 0.7}),
    ("laplacian_l2", {"bandwidth": [0.4, 3.0]}),
    ("imq", {"bandwidth": 2.0}),
    ("polynomial", {}),
    ("polynomial", {"gamma": 0.3, "coef0": 2.0, "degree": 2}),
    ("linear", {}),
    ("energy", {}),
]


def naive_args(kernel, kw):
    """Translate mmd2's keyword arguments to naive_kernel_matrix's."""
    out = {"kernel": kernel}
    if "bandwidth" in kw:
        out["sigmas"] = np.atleast_1d(kw["bandwidth"]).tolist()
    if "kernel_weights" in kw:
        out["weights"] = kw["kernel_weights"]
    for key in ("gamma", "coef0", "degree"):
        if key in kw:
            out[key] = kw[key]
    return out


def kernel_scale(X, Y, args):
    """Size of the three kernel-sum terms, the natural unit of MMD^2's rounding error."""
    X = X.reshape(len(X), -1)
    Y = Y.reshape(len(Y), -1)
    pairs = ((X, X), (Y, Y), (X, Y))
    return sum(np.abs(naive_kernel_matrix(A, B, **args)).mean() for A, B in pairs)


def samples(seed, n, m, d, shift=0.3, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * scale + offset
    Y = rng.normal(size=(m, d)) * scale + offset + shift
    if d == 1:
        return X[:, 0], Y[:, 0]  # exercise the 1-D input path too
    return X, Y


def assert_close_to_naive(value, expected, X, Y, args, rtol=RTOL):
    atol = 1e-12 * kernel_scale(np.asarray(X), np.asarray(Y), args)
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------
# agreement with the naive reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel,kw", KERNEL_CASES)
@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@settings(max_examples=12)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), m=st.integers(2, 9),
       d=st.sampled_from([1, 1, 2, 5]), duplicate=st.booleans())
def test_every_kernel_and_estimator_matches_naive(kernel, kw, estimator, seed, n, m, d, duplicate):
    X, Y = samples(seed, n, m, d)
    if duplicate:  # a point shared by both samples and repeated within x
        X[0] = X[-1]
        Y[0] = X[0]
    got = mmd2(X, Y, kernel, estimator=estimator, **kw)
    args = naive_args(kernel, kw)
    assert isinstance(got, float)
    assert_close_to_naive(got, naive_mmd2(X, Y, estimator, **args), X, Y, args)


@pytest.mark.parametrize("kernel,kw", KERNEL_CASES)
def test_multi_block_sizes_match_naive(kernel, kw):
    # more than one block (BLOCK = 512) for x, mirrored off-diagonal blocks, n != m, uneven
    # last blocks, GEMM and direct paths
    X, Y = samples(7, 530, 270, 6, shift=0.5)
    args = naive_args(kernel, kw)
    for estimator in ("unbiased", "biased"):
        got = mmd2(X, Y, kernel, estimator=estimator, **kw)
        assert_close_to_naive(got, naive_mmd2(X, Y, estimator, **args), X, Y, args)


@pytest.mark.parametrize("d", [1, 3, 4, 16])
def test_gemm_and_direct_paths_agree_with_naive_for_gaussian_and_imq(d):
    X, Y = samples(11, 40, 33, d, shift=0.2)
    for kernel in ("gaussian", "imq"):
        args = {"kernel": kernel, "sigmas": [1.7]}
        got = mmd2(X, Y, kernel, 1.7)
        assert_close_to_naive(got, naive_mmd2(X, Y, **args), X, Y, args)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8), m=st.integers(1, 8),
       d=st.sampled_from([1, 2, 4]))
def test_weighted_biased_matches_naive(seed, n, m, d):
    X, Y = samples(seed, n, m, d)
    rng = np.random.default_rng(seed + 1)
    a = rng.random(n) + 0.01
    b = rng.random(m)
    b[0] = 0.0  # a zero-mass point is legitimate
    b[-1] += 0.1
    a /= a.sum()
    b /= b.sum()
    args = {"kernel": "gaussian", "sigmas": [0.9]}
    got = mmd2(X, Y, "gaussian", 0.9, estimator="biased", a=a, b=b)
    expected = naive_mmd2(X, Y, "biased", x_weights=a, y_weights=b, **args)
    assert_close_to_naive(got, max(expected, 0.0), X, Y, args)


# ---------------------------------------------------------------------------------------------
# closed forms, unbiasedness, energy distance
# ---------------------------------------------------------------------------------------------


def gaussian_mmd2_closed_form(d, s_x, s_y, delta, sigma):
    """MMD^2 of N(0, s_x^2 I) and N(delta, s_y^2 I) with the Gaussian kernel of bandwidth sigma.

    E exp(-||U - V||^2 / (2 sigma^2)) for U - V ~ N(mu, t^2 I) is
    (sigma^2 / (sigma^2 + t^2))^(d/2) exp(-||mu||^2 / (2 (sigma^2 + t^2))).
    """
    def expected_kernel(t2, mu2):
        return (sigma**2 / (sigma**2 + t2)) ** (d / 2) * math.exp(-mu2 / (2 * (sigma**2 + t2)))

    return (expected_kernel(2 * s_x**2, 0.0) + expected_kernel(2 * s_y**2, 0.0)
            - 2 * expected_kernel(s_x**2 + s_y**2, float(np.sum(np.square(delta)))))


def test_unbiased_and_linear_estimators_are_unbiased():
    d, n, m, sigma = 2, 12, 9, 1.2
    delta = np.array([0.4, -0.2])
    truth = gaussian_mmd2_closed_form(d, 1.0, 1.5, delta, sigma)
    rng = np.random.default_rng(2024)
    draws = {"unbiased": [], "linear": [], "biased": []}
    for _ in range(3000):
        X = rng.normal(size=(n, d))
        Y = rng.normal(size=(m, d)) * 1.5 + delta
        for est in draws:
            draws[est].append(mmd2(X, Y, "gaussian", sigma, estimator=est))
    for est in ("unbiased", "linear"):
        vals = np.array(draws[est])
        stderr = vals.std(ddof=1) / math.sqrt(len(vals))
        assert abs(vals.mean() - truth) < 3 * stderr, (est, vals.mean(), truth, stderr)
    # the oracle is sharp enough to see the V-statistic's bias
    biased = np.array(draws["biased"])
    assert biased.mean() - truth > 5 * biased.std(ddof=1) / math.sqrt(len(biased))
    assert min(draws["unbiased"]) < 0  # negative estimates occur and are kept


def test_large_sample_converges_to_closed_form():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 3))
    Y = rng.normal(size=(2500, 3)) + 0.5
    truth = gaussian_mmd2_closed_form(3, 1.0, 1.0, np.full(3, 0.5), 1.0)
    assert abs(mmd2(X, Y) - truth) < 0.01


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 15), m=st.integers(1, 15),
       weighted=st.booleans())
def test_energy_distance_is_square_of_scipy_in_1d(seed, n, m, weighted):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n) * 3
    v = rng.normal(size=m) + 1
    uw = vw = None
    if weighted:
        uw = rng.random(n) + 0.1
        vw = rng.random(m) + 0.1
        uw /= uw.sum()
        vw /= vw.sum()
    # scipy returns sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|) (its CDF form sqrt(2) * l2 distance)
    scipy_value = scipy.stats.energy_distance(u, v, uw, vw)
    got = energy_distance(u, v, a=uw, b=vw)
    np.testing.assert_allclose(got, scipy_value**2, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("d", [1, 3])
def test_energy_distance_matches_naive_and_energy_kernel(d):
    X, Y = samples(3, 17, 11, d)
    expected = naive_energy_distance(X, Y)
    np.testing.assert_allclose(energy_distance(X, Y), expected, rtol=RTOL)
    np.testing.assert_allclose(mmd2(X, Y, "energy", estimator="biased"), expected, rtol=RTOL)


def test_energy_distance_single_points_and_identical_samples():
    assert energy_distance([0.0], [1.0]) == 2.0
    assert energy_distance([[0.0, 0.0]], [[3.0, 4.0]]) == 10.0
    X = np.random.default_rng(0).normal(size=(20, 2))
    assert energy_distance(X, X[::-1]) == pytest.approx(0.0, abs=1e-14)


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), kernel=st.sampled_from(KERNELS),
       n=st.integers(2, 12), m=st.integers(2, 12), d=st.integers(1, 5))
def test_symmetry_and_biased_nonnegativity(seed, kernel, n, m, d):
    X, Y = samples(seed, n, m, d)
    for est in ("unbiased", "biased"):
        a, b = mmd2(X, Y, kernel, estimator=est), mmd2(Y, X, kernel, estimator=est)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert mmd2(X, Y, kernel, estimator="biased") >= 0.0


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), kernel=st.sampled_from(["gaussian", "laplacian_l2",
                                                               "imq", "energy"]),
       c=st.floats(0.01, 100.0), t=st.floats(-1e3, 1e3), d=st.integers(1, 6))
def test_translation_invariance_and_bandwidth_scaling(seed, kernel, c, t, d):
    X, Y = samples(seed, 10, 7, d)
    base = mmd2(X, Y, kernel, 1.0)
    scale = kernel_scale(np.asarray(X), np.asarray(Y), {"kernel": kernel, "sigmas": [1.0]})
    np.testing.assert_allclose(mmd2(X + t, Y + t, kernel, 1.0), base, rtol=1e-8,
                               atol=1e-9 * scale)
    scaled = mmd2(c * X, c * Y, kernel, c)
    expected = base * c if kernel == "energy" else base  # -||r|| scales with c
    np.testing.assert_allclose(scaled, expected, rtol=1e-8, atol=1e-10 * scale * max(c, 1))


def test_row_order_does_not_matter_for_quadratic_estimators(rng):
    X = rng.normal(size=(40, 3))
    Y = rng.normal(size=(31, 3))
    for est in ("unbiased", "biased"):
        np.testing.assert_allclose(mmd2(X[::-1], Y[rng.permutation(31)], estimator=est),
                                   mmd2(X, Y, estimator=est), rtol=1e-12)


def test_mixture_is_the_weighted_sum_of_its_kernels(rng):
    X = rng.normal(size=(30, 2))
    Y = rng.normal(size=(25, 2)) + 0.3
    parts = [mmd2(X, Y, "gaussian", s) for s in (0.5, 1.0, 4.0)]
    got = mmd2(X, Y, "gaussian", [0.5, 1.0, 4.0], kernel_weights=[1.0, 0.0, 2.5])
    np.testing.assert_allclose(got, parts[0] + 2.5 * parts[2], rtol=1e-12)
    np.testing.assert_allclose(mmd2(X, Y, "gaussian", np.array([0.5, 1.0, 4.0])), sum(parts),
                               rtol=1e-12)


def test_linear_kernel_biased_is_squared_mean_difference(rng):
    X = rng.normal(size=(30, 4))
    Y = rng.normal(size=(20, 4)) + 1.0
    expected = float(np.sum((X.mean(0) - Y.mean(0)) ** 2))
    np.testing.assert_allclose(mmd2(X, Y, "linear", estimator="biased"), expected, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# median heuristic
# ---------------------------------------------------------------------------------------------


def test_median_bandwidth_matches_naive_and_is_used(rng):
    X = rng.normal(size=(30, 3))
    Y = rng.normal(size=(20, 3)) * 2
    sigma = median_bandwidth(X, Y)
    np.testing.assert_allclose(sigma, naive_median_bandwidth(np.concatenate([X, Y])), rtol=1e-13)
    np.testing.assert_allclose(mmd2(X, Y, bandwidth="median"), mmd2(X, Y, bandwidth=sigma),
                               rtol=1e-13)
    np.testing.assert_allclose(median_bandwidth(X), naive_median_bandwidth(X), rtol=1e-13)


def test_median_bandwidth_subsample_is_seeded(rng):
    X = rng.normal(size=(60, 2))
    Y = rng.normal(size=(50, 2))
    a = median_bandwidth(X, Y, max_points=40, rng=3)
    assert a == median_bandwidth(X, Y, max_points=40, rng=3)
    assert a != median_bandwidth(X, Y, max_points=40, rng=4)
    # the documented subsample: default_rng(seed).choice(n + m, max_points, replace=False)
    idx = np.sort(np.random.default_rng(3).choice(110, size=40, replace=False))
    expected = naive_median_bandwidth(np.concatenate([X, Y])[idx])
    np.testing.assert_allclose(a, expected, rtol=1e-13)
    np.testing.assert_allclose(mmd2(X, Y, bandwidth="median", median_max_points=40, rng=3),
                               mmd2(X, Y, bandwidth=a), rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# legitimate edge cases
# ---------------------------------------------------------------------------------------------


def test_float32_and_integer_input():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    Y = rng.normal(size=(15, 3))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    expected = mmd2(X32.astype(np.float64), Y32.astype(np.float64))
    assert mmd2(X32, Y32) == pytest.approx(expected, rel=1e-13)
    Xi = rng.integers(-3, 4, size=(12, 2))
    Yi = rng.integers(-3, 4, size=(9, 2))
    args = {"kernel": "laplacian", "sigmas": [2.0]}
    assert_close_to_naive(mmd2(Xi, Yi, "laplacian", 2),
                          naive_mmd2(Xi, Yi, **args), Xi.astype(float), Yi.astype(float), args)


def test_single_point_biased_and_identical_samples():
    assert mmd2([[1.0, 2.0]], [[1.0, 2.0]], estimator="biased") == 0.0
    expected = 2.0 - 2.0 * math.exp(-0.5)  # k(x,x) + k(y,y) - 2 k(x,y) at distance 1
    assert mmd2([0.0], [1.0], estimator="biased") == pytest.approx(expected, rel=1e-15)
    X = np.random.default_rng(0).normal(size=(300, 8))
    assert mmd2(X, X, estimator="biased") == pytest.approx(0.0, abs=1e-15)


def test_all_duplicated_points():
    X = np.ones((5, 3))
    Y = np.zeros((4, 3))
    expected = 1 + 1 - 2 * math.exp(-3 / 2)
    assert mmd2(X, Y) == pytest.approx(expected, rel=1e-14)
    assert mmd2(X, X) == pytest.approx(0.0, abs=1e-15)


def test_huge_offsets_and_magnitudes():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 6))
    Y = rng.normal(size=(20, 6)) + 0.5
    base = mmd2(X, Y)
    # the GEMM form centres the points, so a common offset of 1e6 costs no accuracy beyond
    # the representation of the shifted points themselves
    np.testing.assert_allclose(mmd2(X + 1e6, Y + 1e6), base, rtol=1e-8)
    # points so large that squared norms overflow: every cross kernel value is 0
    far = mmd2(np.full((3, 6), 1e200), np.full((2, 6), -1e200), estimator="biased")
    assert far == 2.0
    np.testing.assert_allclose(mmd2(X * 1e-150, Y * 1e-150, bandwidth=1e-150), base, rtol=1e-10)


def test_energy_distance_at_extreme_magnitudes():
    # squared distances of such points overflow (or underflow): divkit rescales by a power of 2
    assert energy_distance([1e200], [-1e200]) == 4e200
    assert energy_distance([[3e-200, 0.0]], [[0.0, 4e-200]]) == pytest.approx(1e-199, rel=1e-15)
    X, Y = samples(5, 9, 7, 3)
    for c in (1e180, 1e-180):
        np.testing.assert_allclose(energy_distance(c * X, c * Y), c * energy_distance(X, Y),
                                   rtol=1e-12)
        np.testing.assert_allclose(mmd2(c * X, c * Y, "energy"), c * mmd2(X, Y, "energy"),
                                   rtol=1e-10)


def test_extreme_bandwidths():
    X = np.array([[0.0], [1.0], [3.0]])
    Y = np.array([[0.5], [2.0]])
    # tiny sigma: k = 1 on the diagonal, 0 elsewhere (1/(2 sigma^2) overflows to inf)
    assert mmd2(X, Y, bandwidth=1e-200, estimator="biased") == pytest.approx(1 / 3 + 1 / 2)
    assert mmd2(X, Y, bandwidth=1e-200) == 0.0
    # huge sigma: every kernel value is 1 and all three terms cancel
    assert mmd2(X, Y, bandwidth=1e200) == pytest.approx(0.0, abs=1e-15)


def test_exp_kernel_accuracy_including_subnormals():
    t = np.concatenate([np.linspace(0, 750, 20001), np.logspace(-300, 2.8, 2000)])  # distances
    out = np.empty_like(t)
    apply_laplacian = build_once(_kernels._build_apply_kernel, _kernels.LAPLACIAN)
    apply_laplacian(t, out, t.size, np.ones(1), np.ones(1), 1.0, 1.0, 1)
    ref = np.exp(-t)
    normal = ref > np.finfo(float).tiny
    np.testing.assert_allclose(out[normal], ref[normal], rtol=4e-16)
    np.testing.assert_allclose(out[~normal], ref[~normal], rtol=1e-10, atol=1e-322)


@pytest.mark.parametrize("kernel,kw", [KERNEL_CASES[1], KERNEL_CASES[2], KERNEL_CASES[5],
                                       KERNEL_CASES[8]])
def test_parallel_blocked_path_matches_naive(kernel, kw, monkeypatch):
    # force the multi-threaded kernels (normally reserved for large problems) on multi-block data
    from divkit.mmd import kernels

    monkeypatch.setattr(kernels, "PARALLEL_MIN_PAIRS", 0)
    X, Y = samples(13, 530, 270, 5, shift=0.3)
    args = naive_args(kernel, kw)
    for estimator in ("unbiased", "biased"):
        got = mmd2(X, Y, kernel, estimator=estimator, **kw)
        assert_close_to_naive(got, naive_mmd2(X, Y, estimator, **args), X, Y, args)
    spec = kernels.resolve_kernel(kernel, kw.get("bandwidth", 1.0), X, Y,
                                  kernel_weights=kw.get("kernel_weights"))
    np.testing.assert_allclose(kernels.kernel_matrix(spec, X), naive_kernel_matrix(X, X, **args),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kernels.kernel_matrix(spec, X, Y),
                               naive_kernel_matrix(X, Y, **args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
@pytest.mark.parametrize("kernel", ["gaussian", "laplacian", "laplacian_l2", "imq", "energy"])
def test_extreme_magnitudes_rescale_exactly(kernel, scale):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(7, 3))
    unit_kw, scaled_kw = ({}, {}) if kernel == "energy" else ({"bandwidth": 1.3}, {"bandwidth": 1.3 * scale})
    factor = scale if kernel == "energy" else 1.0
    for estimator in ("unbiased", "biased"):
        unit = mmd2(x, y, kernel, estimator=estimator, **unit_kw)
        got = mmd2(x * scale, y * scale, kernel, estimator=estimator, **scaled_kw)
        assert got == pytest.approx(unit * factor, rel=1e-12)
    if kernel != "energy":
        assert mmd2(x * scale, y * scale, kernel, bandwidth="median") == pytest.approx(
            mmd2(x, y, kernel, bandwidth="median"), rel=1e-12)
        assert median_bandwidth(x * scale, y * scale) == pytest.approx(median_bandwidth(x, y) * scale, rel=1e-14)


def test_overflowing_kernel_sums_raise_instead_of_nan():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(7, 3))
    with pytest.raises(FloatingPointError, match="MMD\\^2 is not representable"):
        mmd2(x * 1e160, y * 1e160, "linear")
