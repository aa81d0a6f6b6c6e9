"""MMD at full accuracy: identical points at distance exactly 0 on every path, duplicates,
tiny bandwidths and large tied integers in d = 1..64 against an mpmath double loop; results
bitwise independent of the numba thread count."""

import math

import mpmath as mp
import numba
import numpy as np
import pytest

import divkit


def mp_mmd2(x, y, sigma, estimator):
    """Gaussian-kernel MMD^2 by double loops in mpmath (30 digits) on the exact float inputs."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    with mp.workdps(30):
        s = 1 / (2 * mp.mpf(sigma) ** 2)

        def total(a, b, skip_diagonal):
            acc = mp.mpf(0)
            for i in range(len(a)):
                for j in range(len(b)):
                    if skip_diagonal and i == j:
                        continue
                    d2 = mp.fsum((mp.mpf(u) - mp.mpf(v)) ** 2 for u, v in zip(a[i], b[j]))
                    acc += mp.exp(-s * d2)
            return acc

        n, m = len(x), len(y)
        unb = estimator == "unbiased"
        sxx, syy, sxy = total(x, x, unb), total(y, y, unb), total(x, y, False)
        if unb:
            return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)
        return sxx / n**2 + syy / m**2 - 2 * sxy / (n * m)


def _close(got, ref):
    if abs(ref) < 1e-15:
        assert abs(got - ref) <= 1e-15, (got, float(ref))
    else:
        assert abs(got - ref) <= 1e-12 * abs(ref), (got, float(ref), float(abs(got - ref) / abs(ref)))


@pytest.mark.parametrize("d", [1, 3, 4, 8, 16, 64])
def test_identical_points_tiny_bandwidth(d):
    # with X = Y.copy() every x_i has a twin at distance 0: biased MMD^2 is 0 exactly in exact
    # arithmetic (the GEMM expansion gave 0.004-0.017 at small bandwidth)
    rng = np.random.default_rng(d)
    x = rng.standard_normal((50, d)) * 10 + 100
    for sigma in (1e-3, 0.1, 3.0):
        assert abs(divkit.mmd2(x, x.copy(), bandwidth=sigma, estimator="biased")) <= 1e-15
        ref = mp_mmd2(x[:20], x[:20].copy(), sigma, "unbiased")
        _close(divkit.mmd2(x[:20], x[:20].copy(), bandwidth=sigma, estimator="unbiased"), ref)


@pytest.mark.parametrize("d", [2, 4, 8, 32])
def test_duplicated_points_against_mpmath(d):
    rng = np.random.default_rng(100 + d)
    base = rng.standard_normal((8, d)) * 3 + 50
    x = np.repeat(base, 3, axis=0)  # every point three times
    y = np.concatenate([base[:5], rng.standard_normal((10, d)) * 3 + 50])
    for sigma in (0.05, 1.0):
        for estimator in ("biased", "unbiased"):
            _close(divkit.mmd2(x, y, bandwidth=sigma, estimator=estimator), mp_mmd2(x, y, sigma, estimator))


def test_large_tied_integers_default_bandwidth():
    rng = np.random.default_rng(3)
    x = rng.integers(10**6, 10**6 + 5, size=(30, 8)).astype(float)
    y = rng.integers(10**6, 10**6 + 6, size=(25, 8)).astype(float)
    sigma = 2.0
    _close(divkit.mmd2(x, y, bandwidth=sigma, estimator="unbiased"), mp_mmd2(x, y, sigma, "unbiased"))


def test_kernel_matrix_path_and_energy_identical_points_exact_zero():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 16)) + 1e3
    for kernel in ("gaussian", "imq", "laplacian", "energy"):
        bw = None if kernel == "energy" else 0.01
        kwargs = {} if bw is None else {"bandwidth": bw}
        assert abs(divkit.mmd2(x, x.copy(), kernel=kernel, estimator="biased", **kwargs)) <= 1e-15
    assert abs(divkit.energy_distance(x, x.copy())) <= 1e-13
    # the permutation test builds a dense kernel matrix: the biased statistic of identical
    # samples is 0, the unbiased one exactly -2/n at a bandwidth where k(x_i, x_j) = [i = j]
    result = divkit.mmd_test(x[:20], x[:20].copy(), bandwidth=0.01, estimator="biased",
                             n_permutations=19, rng=0)
    assert abs(result.statistic) <= 1e-15
    result = divkit.mmd_test(x[:20], x[:20].copy(), bandwidth=1e-3, n_permutations=19, rng=0)
    assert result.statistic == pytest.approx(-2 / 20, rel=1e-14)


def test_bitwise_independent_of_thread_count():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1500, 16))
    y = rng.standard_normal((1300, 16)) + 0.1
    results = {}
    for threads in (1, 2):
        with divkit.set_workers(threads):  # the one thread setting (docs/guide/threads.rst)
            results[threads] = [divkit.mmd2(x, y, bandwidth=2.0, estimator=e) for e in ("biased", "unbiased")]
            results[threads].append(divkit.mmd2(x, y, kernel="laplacian", bandwidth=2.0))
            results[threads].append(divkit.energy_distance(x, y))
    assert results[1] == results[2]  # bitwise
    assert math.isfinite(results[1][0])


def test_weight_rule_refuse_unless_normalize():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    a, b = rng.random(6) * 3, rng.random(5) * 0.2
    for fn, kwargs in ((divkit.mmd2, {"estimator": "biased"}), (divkit.energy_distance, {})):
        with pytest.raises(ValueError, match="a must sum to 1.*normalize=True"):
            fn(x, y, a=a, b=b / b.sum(), **kwargs)
        with pytest.raises(ValueError, match="b must sum to 1"):
            fn(x, y, a=a / a.sum(), b=b, **kwargs)
        assert fn(x, y, a=a, b=b, normalize=True, **kwargs) == fn(
            x, y, a=a / a.sum(), b=b / b.sum(), **kwargs)
        with pytest.raises(ValueError, match="a has total mass 0"):
            fn(x, y, a=np.zeros(6), normalize=True, **kwargs)
        with pytest.raises(TypeError, match="normalize must be True or False"):
            fn(x, y, normalize="yes", **kwargs)
    # scipy's energy_distance normalises its weights: the normalised divkit value is its square
    from scipy import stats

    u, v = rng.standard_normal(7), rng.standard_normal(4)
    wu, wv = rng.random(7) * 5, rng.random(4)
    assert divkit.energy_distance(u, v, a=wu, b=wv, normalize=True) == pytest.approx(
        stats.energy_distance(u, v, wu, wv) ** 2, rel=1e-12)
