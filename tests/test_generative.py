"""FID and KID (numpy and torch) against independent oracles.

FID oracle (CONVENTIONS §7): with A = Xc / sqrt(n-1), B = Yc / sqrt(m-1),
tr (S1^1/2 S2 S1^1/2)^1/2 = ||A B^T||_* (the nuclear norm, from an SVD of the n x m matrix),
so FID = ||mu1 - mu2||^2 + ||A||_F^2 + ||B||_F^2 - 2 ||A B^T||_*: no covariance, no matrix
square root. Cases are chosen with FID comparable to the traces, so the oracle itself has no
cancellation beyond ~1e-14.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.image.kid import poly_mmd

import divkit
import divkit.torch as dt

REL = 1e-10


def oracle_fid(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    a = (x - x.mean(0)) / np.sqrt(x.shape[0] - 1)
    b = (y - y.mean(0)) / np.sqrt(y.shape[0] - 1)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    diff = x.mean(0) - y.mean(0)
    return float(diff @ diff + np.sum(a * a) + np.sum(b * b) - 2.0 * nuclear)


def _cases():
    rng = np.random.default_rng(11)
    d = 512
    # rank 32 in d = 512
    w1, w2 = rng.normal(size=(32, d)), rng.normal(size=(32, d))
    yield "rank32_d512", rng.normal(size=(600, 32)) @ w1, rng.normal(size=(600, 32)) @ w2 + 0.1
    # 400 samples in d = 512 (n < d)
    yield "n400_d512", rng.normal(size=(400, d)), 1.3 * rng.normal(size=(400, d)) + 0.05
    # 5 constant ("dead") columns
    x = rng.normal(size=(700, 64))
    y = rng.normal(size=(700, 64)) @ np.diag(rng.uniform(0.5, 2.0, 64))
    x[:, :5] = 0.0
    y[:, :5] = 1.5
    yield "dead5_d64", x, y
    # rank 16 in d = 256, different rank on each side
    yield (
        "rank16_vs_rank40_d256",
        rng.normal(size=(300, 16)) @ rng.normal(size=(16, 256)),
        rng.normal(size=(300, 40)) @ rng.normal(size=(40, 256)),
    )


CASES = list(_cases())


@pytest.mark.parametrize("name,x,y", CASES, ids=[c[0] for c in CASES])
def test_fid_rank_deficient_matches_nuclear_norm_oracle(name, x, y):
    expected = oracle_fid(x, y)
    got = divkit.frechet_distance(x, y)
    assert abs(got - expected) <= REL * expected
    got_torch = dt.frechet_distance(torch.from_numpy(x), torch.from_numpy(y))
    assert got_torch.dtype == torch.float64
    assert abs(got_torch.item() - expected) <= REL * expected


def test_fid_full_rank_and_float32_input():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 20)).astype(np.float32)
    y = (rng.normal(size=(400, 20)) @ rng.normal(size=(20, 20)) / 4).astype(np.float32)
    expected = oracle_fid(x, y)  # float32 values, moments in float64
    assert divkit.frechet_distance(x, y) == pytest.approx(expected, rel=REL)
    assert dt.frechet_distance(torch.from_numpy(x), torch.from_numpy(y)).item() == pytest.approx(expected, rel=REL)


def test_fid_identical_is_exactly_zero_and_from_moments():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 80))  # n < d: singular covariance
    assert divkit.frechet_distance(x, x) == 0.0
    assert dt.frechet_distance(torch.from_numpy(x), torch.from_numpy(x)).item() == 0.0
    y = rng.normal(size=(60, 80)) + 1.0
    m1, c1 = divkit.feature_moments(x)
    m2, c2 = divkit.feature_moments(y)
    np.testing.assert_allclose(c1, np.cov(x, rowvar=False, ddof=1), rtol=1e-12, atol=1e-14)
    assert divkit.frechet_distance_from_moments(m1, c1, m2, c2) == divkit.frechet_distance(x, y)
    assert divkit.frechet_distance(x, y) == pytest.approx(oracle_fid(x, y), rel=REL)


def test_fid_extreme_magnitudes_scale_exactly():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6)) + 0.3
    base = dt.frechet_distance(torch.from_numpy(x), torch.from_numpy(y)).item()
    for s in (2.0**-400, 2.0**400):
        got = dt.frechet_distance(torch.from_numpy(x * s), torch.from_numpy(y * s)).item()
        assert got == pytest.approx(base * s * s, rel=1e-12)


def test_fid_known_value():
    # N((1,0), diag(2,0)) vs N((0,4), diag(0,2)): orthogonal supports, cross term 0
    x = [[0.0, 0.0], [2.0, 0.0]]
    y = [[0.0, 3.0], [0.0, 5.0]]
    assert divkit.frechet_distance(x, y) == pytest.approx(21.0, rel=1e-14)


@pytest.mark.parametrize(
    "x,y,exc,match",
    [
        (np.zeros((1, 3)), np.zeros((4, 3)), ValueError, "x needs at least 2"),
        (np.zeros((4, 3)), np.zeros((4, 2)), ValueError, "same feature dimension"),
        (np.zeros(4), np.zeros(4), ValueError, "2-D"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), np.zeros((3, 2)), ValueError, "x contains 1 NaN"),
        (np.zeros((3, 2)), np.array([[0.0, np.inf], [1.0, 1.0]]), ValueError, "y contains"),
    ],
)
def test_fid_bad_input(x, y, exc, match):
    with pytest.raises(exc, match=match):
        divkit.frechet_distance(x, y)
    with pytest.raises(exc, match=match):
        dt.frechet_distance(torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(y)))


def test_torch_fid_bad_types():
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        dt.frechet_distance(np.zeros((3, 2)), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="dtype"):
        dt.frechet_distance(torch.zeros(3, 2), torch.zeros(3, 2), dtype=torch.int64)


# --------------------------------------------------------------------------------------------- KID


@pytest.mark.parametrize("degree,gamma,coef0", [(3, None, 1.0), (2, 0.3, 0.5), (4, None, 0.0)])
def test_kid_equals_torchmetrics_poly_mmd_on_same_subsets(degree, gamma, coef0):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(300, 16))
    y = rng.normal(size=(250, 16)) * 1.1 + 0.1
    res = divkit.kid(x, y, n_subsets=7, subset_size=120, degree=degree, gamma=gamma, coef0=coef0, rng=1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    ref = torch.stack(
        [
            poly_mmd(tx[torch.from_numpy(ix)], ty[torch.from_numpy(iy)], degree=degree, gamma=gamma, coef=coef0)
            for ix, iy in zip(res.indices_x, res.indices_y)
        ]
    ).numpy()
    scale = np.abs(ref).max()
    np.testing.assert_allclose(res.values, ref, rtol=0, atol=REL * scale)
    assert res.mean == pytest.approx(ref.mean(), abs=REL * scale)
    assert res.std == pytest.approx(ref.std(ddof=0), abs=REL * scale)
    for row in res.indices_x:  # without replacement within a subset
        assert len(set(row.tolist())) == 120

    tres = dt.kid(tx, ty, n_subsets=7, subset_size=120, degree=degree, gamma=gamma, coef0=coef0, rng=1)
    tref = torch.stack(
        [
            poly_mmd(tx[ix], ty[iy], degree=degree, gamma=gamma, coef=coef0)
            for ix, iy in zip(tres.indices_x, tres.indices_y)
        ]
    )
    assert torch.allclose(tres.values, tref, rtol=0, atol=REL * float(tref.abs().max()))
    assert tres.std.item() == pytest.approx(tref.std(correction=0).item(), abs=REL * scale)


def test_kid_full_subset_is_unbiased_mmd2_naive():
    # one subset holding every row: the U-statistic does not depend on the order of the rows
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 5)) + 0.2
    k = lambda a, b: (a @ b / 5 + 1.0) ** 3
    n = 30
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(n))
    expected = sxx / (n * (n - 1)) + syy / (n * (n - 1)) - 2 * sxy / n**2
    res = divkit.kid(x, y, n_subsets=1, subset_size=30, rng=0)
    assert res.mean == pytest.approx(expected, rel=1e-12)
    assert res.std == 0.0
    tres = dt.kid(torch.from_numpy(x), torch.from_numpy(y), n_subsets=1, subset_size=30, rng=0)
    assert tres.mean.item() == pytest.approx(expected, rel=1e-12)


def test_kid_seeded_reproducible_and_bad_input():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    a = divkit.kid(x, y, n_subsets=3, subset_size=10, rng=5)
    b = divkit.kid(x, y, n_subsets=3, subset_size=10, rng=5)
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(ValueError, match="subset_size=60 exceeds"):
        divkit.kid(x, y, subset_size=60)
    with pytest.raises(ValueError, match="subset_size"):
        divkit.kid(x, y, subset_size=1)
    with pytest.raises(TypeError, match="n_subsets"):
        divkit.kid(x, y, n_subsets=2.5, subset_size=10)
    with pytest.raises(ValueError, match="gamma"):
        divkit.kid(x, y, subset_size=10, gamma=0.0)
    with pytest.raises(ValueError, match="coef0"):
        divkit.kid(x, y, subset_size=10, coef0=-1.0)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    with pytest.raises(ValueError, match="subset_size=60 exceeds"):
        dt.kid(tx, ty, subset_size=60)
    with pytest.raises(ValueError, match="degree"):
        dt.kid(tx, ty, subset_size=10, degree=0)
