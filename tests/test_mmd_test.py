"""Two-sample tests: permutation machinery against naive recomputation, calibration, power,
reproducibility, the linear z-test, and every bad input of the MMD API."""

import io

import numpy as np
import pytest
from naive import naive_mmd2, naive_permutation_null
from scipy.stats import norm

from divkit import MMDTestResult, mmd2, mmd_test
from divkit.mmd import testing


@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
@pytest.mark.parametrize("memory_budget", [testing.MEMORY_BUDGET, 1000])
@pytest.mark.parametrize("kernel,kw", [("gaussian", {"bandwidth": 0.8}), ("polynomial", {}),
                                       ("energy", {})])
def test_null_statistics_match_naive_relabellings(estimator, memory_budget, kernel, kw, rng):
    X = rng.normal(size=(9, 2))
    Y = rng.normal(size=(7, 2)) + 0.4
    res = mmd_test(X, Y, kernel, estimator=estimator, n_permutations=25, rng=42,
                   memory_budget=memory_budget, **kw)
    assert res.matrix_free == (memory_budget == 1000)  # 16^2 * 8 bytes > 1000
    sigmas = [kw["bandwidth"]] if "bandwidth" in kw else (1.0,)
    expected = naive_permutation_null(X, Y, 42, 25, estimator, kernel=kernel, sigmas=sigmas)
    np.testing.assert_allclose(res.null_statistics, expected, rtol=1e-10, atol=1e-12)
    observed = naive_mmd2(X, Y, estimator, kernel=kernel, sigmas=sigmas)
    np.testing.assert_allclose(res.statistic, observed, rtol=1e-10, atol=1e-12)
    assert res.statistic == pytest.approx(mmd2(X, Y, kernel, estimator=estimator, **kw),
                                          rel=1e-10, abs=1e-12)
    count = np.count_nonzero(expected >= observed - 1e-12 * abs(observed))
    assert res.p_value == (1 + count) / 26


def test_matrix_free_path_with_several_panels_and_batches(rng):
    X = rng.normal(size=(150, 3))
    Y = rng.normal(size=(140, 3)) + 0.2
    full = mmd_test(X, Y, bandwidth=1.5, n_permutations=300, rng=3)
    # 290^2 * 8 bytes = 673 kB does not fit: several row panels and batches of relabellings
    lean = mmd_test(X, Y, bandwidth=1.5, n_permutations=300, rng=3, memory_budget=300_000)
    assert not full.matrix_free and lean.matrix_free
    np.testing.assert_allclose(lean.null_statistics, full.null_statistics, rtol=1e-10, atol=1e-14)
    assert lean.p_value == full.p_value


def test_result_fields(rng):
    X = rng.normal(size=(20, 2))
    Y = rng.normal(size=(25, 2))
    res = mmd_test(X, Y, bandwidth="median", n_permutations=50, rng=0)
    assert isinstance(res, MMDTestResult)
    assert res.null_statistics.shape == (50,)
    assert res.n_permutations == 50 and res.method == "permutation"
    assert res.kernel == "gaussian" and res.estimator == "unbiased"
    from divkit import median_bandwidth

    assert res.bandwidth == median_bandwidth(X, Y)
    assert mmd_test(X, Y, "gaussian", [1.0, 2.0], n_permutations=5).bandwidth == (1.0, 2.0)
    assert mmd_test(X, Y, "linear", n_permutations=5).bandwidth is None
    assert 1 / 51 <= res.p_value <= 1.0


def test_seeded_runs_are_reproducible(rng):
    X = rng.normal(size=(15, 2))
    Y = rng.normal(size=(12, 2))
    a = mmd_test(X, Y, n_permutations=60, rng=7)
    b = mmd_test(X, Y, n_permutations=60, rng=7)
    c = mmd_test(X, Y, n_permutations=60, rng=8)
    d = mmd_test(X, Y, n_permutations=60, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.null_statistics, b.null_statistics)
    np.testing.assert_array_equal(a.null_statistics, d.null_statistics)
    assert a.p_value == b.p_value
    assert not np.array_equal(a.null_statistics, c.null_statistics)


def test_calibration_under_the_null():
    rng = np.random.default_rng(20261122)
    p_values = []
    for _ in range(400):
        Z = rng.normal(size=(60, 2))
        p_values.append(mmd_test(Z[:30], Z[30:], bandwidth=1.0, n_permutations=99,
                                 rng=rng).p_value)
    p_values = np.array(p_values)
    rejection = np.mean(p_values < 0.05)
    assert 0.02 <= rejection <= 0.08, rejection
    # permutation p-values are (super-)uniform on {1/100, ..., 1}: the mean is about 1/2
    assert 0.45 < p_values.mean() < 0.56


def test_power_under_a_shift():
    rng = np.random.default_rng(99)
    rejections = 0
    for _ in range(30):
        X = rng.normal(size=(80, 2))
        Y = rng.normal(size=(80, 2)) + np.array([1.0, 0.0])
        res = mmd_test(X, Y, bandwidth="median", n_permutations=99, rng=rng)
        rejections += res.p_value < 0.05
    assert rejections >= 29


def test_linear_z_test_matches_its_formula(rng):
    X = rng.normal(size=(41, 3))
    Y = rng.normal(size=(38, 3)) + 0.3
    res = mmd_test(X, Y, "laplacian", 2.0, estimator="linear")
    # naive: terms h_i over the 19 disjoint pairs, one-sided normal tail
    h = [naive_mmd2(X[2 * i:2 * i + 2], Y[2 * i:2 * i + 2], "linear", kernel="laplacian",
                    sigmas=[2.0]) for i in range(19)]
    z = np.mean(h) / (np.std(h, ddof=1) / np.sqrt(19))
    assert res.method == "linear" and res.null_statistics is None
    np.testing.assert_allclose(res.statistic, np.mean(h), rtol=1e-12)
    np.testing.assert_allclose(res.z_score, z, rtol=1e-10)
    np.testing.assert_allclose(res.p_value, norm.sf(z), rtol=1e-10)
    assert res.statistic == pytest.approx(mmd2(X, Y, "laplacian", 2.0, estimator="linear"))


def test_linear_z_test_calibration_and_power():
    rng = np.random.default_rng(4)
    null_p = [mmd_test(rng.normal(size=(400, 2)), rng.normal(size=(400, 2)),
                       estimator="linear").p_value for _ in range(300)]
    assert 0.02 <= np.mean(np.array(null_p) < 0.05) <= 0.08
    alt_p = [mmd_test(rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2)) + 1.0,
                      estimator="linear").p_value for _ in range(10)]
    assert max(alt_p) < 0.05


def test_linear_z_test_degenerate_variance():
    X = np.zeros((6, 1))
    Y = np.ones((6, 1))
    res = mmd_test(X, Y, estimator="linear")
    assert res.p_value == 0.0 and res.z_score == np.inf
    assert mmd_test(X, X, estimator="linear").p_value == 1.0


def test_progress_bar_writes_to_stderr(capsys, rng):
    X = rng.normal(size=(10, 2))
    Y = rng.normal(size=(10, 2))
    quiet = mmd_test(X, Y, n_permutations=300, rng=1)
    loud = mmd_test(X, Y, n_permutations=300, rng=1, progress=True)
    assert "permutations" in capsys.readouterr().err
    np.testing.assert_array_equal(quiet.null_statistics, loud.null_statistics)


# ---------------------------------------------------------------------------------------------
# bad input: every case names its argument
# ---------------------------------------------------------------------------------------------

X0 = np.random.default_rng(0).normal(size=(6, 2))
Y0 = np.random.default_rng(1).normal(size=(5, 2))


@pytest.mark.parametrize("fn", [mmd2, mmd_test])
def test_dimension_mismatch(fn):
    with pytest.raises(ValueError, match="same dimension: x has d=2, y has d=3"):
        fn(X0, np.ones((4, 3)))


@pytest.mark.parametrize("fn", [mmd2, mmd_test])
def test_nan_and_inf(fn):
    bad = X0.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        fn(bad, Y0)
    with pytest.raises(ValueError, match="y contains 1 NaN"):
        fn(Y0, bad)
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="x contains 1 infinite"):
        fn(bad, Y0)


def test_too_few_points_for_unbiased_and_linear():
    with pytest.raises(ValueError, match="unbiased estimator needs at least 2 points in x, got 1"):
        mmd2(X0[:1], Y0)
    with pytest.raises(ValueError, match="at least 2 points in y, got 1"):
        mmd_test(X0, Y0[:1])
    with pytest.raises(ValueError, match="linear estimator needs at least 2 points"):
        mmd2(X0, Y0[:1], estimator="linear")
    with pytest.raises(ValueError, match="linear z-test needs at least 4 points"):
        mmd_test(X0[:3], Y0[:3], estimator="linear")


@pytest.mark.parametrize("bandwidth", [0.0, -1.0, [1.0, 0.0], [-2.0]])
def test_nonpositive_bandwidth(bandwidth):
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        mmd2(X0, Y0, bandwidth=bandwidth)


def test_bad_bandwidth_values_and_types():
    with pytest.raises(ValueError, match="bandwidth must be finite"):
        mmd2(X0, Y0, bandwidth=np.nan)
    with pytest.raises(ValueError, match="bandwidth contains 1 NaN"):
        mmd2(X0, Y0, bandwidth=[1.0, np.nan])
    with pytest.raises(ValueError, match="or 'median', got 'mean'"):
        mmd2(X0, Y0, bandwidth="mean")
    with pytest.raises(TypeError, match="bandwidth must be a positive number"):
        mmd2(X0, Y0, bandwidth=None)
    with pytest.raises(ValueError, match="bandwidth is empty"):
        mmd2(X0, Y0, bandwidth=[])
    with pytest.raises(ValueError, match="kernel 'linear' takes no bandwidth"):
        mmd2(X0, Y0, "linear", bandwidth=[1.0, 2.0])
    with pytest.raises(ValueError, match="kernel 'energy' takes no bandwidth"):
        mmd2(X0, Y0, "energy", bandwidth="median")
    with pytest.raises(ValueError, match="bandwidth='median' gives 0"):
        mmd2(np.zeros((4, 2)), np.zeros((3, 2)), bandwidth="median")


def test_unknown_kernel_and_estimator_and_method():
    with pytest.raises(ValueError, match="unknown kernel 'rbf'"):
        mmd2(X0, Y0, "rbf")
    with pytest.raises(TypeError, match="kernel must be a string"):
        mmd2(X0, Y0, lambda a, b: a @ b)
    with pytest.raises(ValueError, match="estimator must be one of"):
        mmd2(X0, Y0, estimator="vstat")
    with pytest.raises(ValueError, match="method must be one of"):
        mmd_test(X0, Y0, method="bootstrap")
    with pytest.raises(ValueError, match="method='linear' is the z-test of estimator='linear'"):
        mmd_test(X0, Y0, method="linear")
    with pytest.raises(ValueError, match="estimator='linear' is tested with method='linear'"):
        mmd_test(X0, Y0, estimator="linear", method="permutation")


def test_bad_kernel_parameters():
    with pytest.raises(ValueError, match="kernel_weights has 1 entries but there are 2"):
        mmd2(X0, Y0, bandwidth=[1.0, 2.0], kernel_weights=[1.0])
    with pytest.raises(ValueError, match="kernel_weights must be >= 0"):
        mmd2(X0, Y0, bandwidth=[1.0, 2.0], kernel_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="kernel_weights are all zero"):
        mmd2(X0, Y0, bandwidth=[1.0, 2.0], kernel_weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="no kernel_weights"):
        mmd2(X0, Y0, "polynomial", kernel_weights=[1.0])
    with pytest.raises(ValueError, match="degree must be >= 1"):
        mmd2(X0, Y0, "polynomial", degree=0)
    with pytest.raises(TypeError, match="degree must be an integer"):
        mmd2(X0, Y0, "polynomial", degree=2.5)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        mmd2(X0, Y0, "polynomial", gamma=0.0)
    with pytest.raises(ValueError, match="coef0 must be >= 0"):
        mmd2(X0, Y0, "polynomial", coef0=-1.0)


def test_bad_point_weights():
    w = np.full(6, 1 / 6)
    with pytest.raises(ValueError, match="supported by estimator='biased' only"):
        mmd2(X0, Y0, a=w)
    with pytest.raises(ValueError, match="a must sum to 1"):
        mmd2(X0, Y0, estimator="biased", a=np.ones(6))
    with pytest.raises(ValueError, match="b has 6 weights but there are 5 points"):
        mmd2(X0, Y0, estimator="biased", b=w)
    with pytest.raises(ValueError, match="a contains negative"):
        mmd2(X0, Y0, estimator="biased", a=np.r_[-0.5, 1.5, 0, 0, 0, 0])


def test_bad_array_shapes_and_types():
    with pytest.raises(ValueError, match="x must be 1-D or 2-D"):
        mmd2(np.ones((2, 2, 2)), Y0)
    with pytest.raises(TypeError, match="y must be real-valued"):
        mmd2(X0, Y0 + 1j)
    with pytest.raises(ValueError, match="y is empty"):
        mmd2(X0, np.empty((0, 2)))
    with pytest.raises(ValueError, match=r"x is empty \(shape \(3, 0\)\)"):
        mmd2(np.empty((3, 0)), Y0)


def test_bad_test_arguments():
    with pytest.raises(ValueError, match="n_permutations must be >= 1"):
        mmd_test(X0, Y0, n_permutations=0)
    with pytest.raises(TypeError, match="n_permutations must be an integer"):
        mmd_test(X0, Y0, n_permutations=10.0)
    with pytest.raises(ValueError, match="memory_budget must be >= 1"):
        mmd_test(X0, Y0, memory_budget=0)
    with pytest.raises(TypeError, match="progress must be True or False"):
        mmd_test(X0, Y0, progress=io.StringIO())
    with pytest.raises(ValueError, match="max_points must be >= 2"):
        mmd2(X0, Y0, bandwidth="median", median_max_points=1)


def test_extreme_magnitudes_and_no_p_value_for_a_nan_statistic():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(7, 3))
    unit = mmd_test(x, y, bandwidth=1.3, n_permutations=19, rng=0)
    big = mmd_test(x * 1e200, y * 1e200, bandwidth=1.3e200, n_permutations=19, rng=0)
    assert big.statistic == pytest.approx(unit.statistic, rel=1e-12)
    assert big.p_value == unit.p_value and big.bandwidth == 1.3e200
    tiny = mmd_test(x * 1e-200, y * 1e-200, kernel="energy", n_permutations=19, rng=0)
    energy = mmd_test(x, y, kernel="energy", n_permutations=19, rng=0)
    np.testing.assert_allclose(tiny.null_statistics, energy.null_statistics * 1e-200, rtol=1e-12)
    with pytest.raises(FloatingPointError, match="not representable"):
        mmd_test(x * 1e160, y * 1e160, kernel="linear", n_permutations=19, rng=0)
