"""Torch mmd2: median bandwidth, polynomial parameters and the expansion path against the numpy
side; exact W with float32 weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import divkit
from divkit.torch import mmd2, wasserstein


def _samples(n=60, m=50, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.2 + 0.3


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian", "imq", "laplacian_l2"])
def test_median_bandwidth_equals_numpy(kernel):
    x, y = _samples()
    got = mmd2(torch.from_numpy(x), torch.from_numpy(y), kernel, "median").item()
    ref = divkit.mmd2(x, y, kernel, "median")
    assert got == pytest.approx(ref, rel=1e-11, abs=1e-14)


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@pytest.mark.parametrize("gamma,coef0,degree", [(None, 1.0, 3), (0.05, 0.0, 2), (0.2, 2.0, 4)])
def test_polynomial_parameters_equal_numpy(gamma, coef0, degree, estimator):
    x, y = _samples()
    got = mmd2(torch.from_numpy(x), torch.from_numpy(y), "polynomial", estimator=estimator,
               gamma=gamma, coef0=coef0, degree=degree).item()
    ref = divkit.mmd2(x, y, "polynomial", estimator=estimator, gamma=gamma, coef0=coef0, degree=degree)
    assert got == pytest.approx(ref, rel=1e-11, abs=1e-13)


@pytest.mark.parametrize("kernel", ["gaussian", "imq"])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_expansion_path_equals_difference_path_and_numpy(kernel, estimator):
    x, y = _samples(d=64)
    x = x + 50.0  # far from the origin: centring keeps the expansion accurate
    y = y + 50.0
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = torch.from_numpy(y)
    fast = mmd2(tx, ty, kernel, 4.0, estimator=estimator)  # default: expansion at d = 64
    (gfast,) = torch.autograd.grad(fast, tx)
    slow = mmd2(tx, ty, kernel, 4.0, estimator=estimator, expansion=False)
    (gslow,) = torch.autograd.grad(slow, tx)
    assert fast.item() == pytest.approx(slow.item(), rel=1e-10, abs=1e-14)
    torch.testing.assert_close(gfast, gslow, rtol=1e-8, atol=1e-13)
    assert fast.item() == pytest.approx(divkit.mmd2(x, y, kernel, 4.0, estimator=estimator), rel=1e-10, abs=1e-14)


def test_expansion_identical_points_have_exact_zero_distance():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.normal(size=(40, 64)) * 1e3 + 1e4)
    # biased MMD^2 of a sample with itself is exactly 0 only if every k(x_i, x_i) is exactly 1
    kxx = mmd2(x, x, "gaussian", 10.0, estimator="biased")
    assert kxx.item() == pytest.approx(0.0, abs=1e-12)
    # one sample: its own kernel sum has n exact ones on the diagonal
    dup = torch.cat([x[:1], x[:1]])
    # tiny bandwidth: only exactly coinciding pairs contribute: 4/4 (the duplicated pair) + 2/4
    val = mmd2(dup, x[1:3], "gaussian", 1e-3, estimator="biased")
    assert val.item() == 1.5


def test_expansion_bad_input():
    x = torch.zeros(4, 8)
    with pytest.raises(ValueError, match="expansion=True"):
        mmd2(x, x, "energy", expansion=True)
    with pytest.raises(TypeError, match="expansion"):
        mmd2(x, x, "gaussian", expansion="yes")
    with pytest.raises(TypeError, match="bandwidth"):
        mmd2(x, x, "gaussian", "mean")
    with pytest.raises(ValueError, match="degree"):
        mmd2(x, x, "polynomial", degree=0)


def test_wasserstein_accepts_float32_dirichlet_weights_and_refuses_unequal_totals():
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.normal(size=(60, 2)).astype(np.float32))
    y = torch.from_numpy(rng.normal(size=(70, 2)).astype(np.float32))
    refused = 0
    for _ in range(40):
        a = torch.from_numpy(rng.dirichlet(np.ones(60)).astype(np.float32))
        b = torch.from_numpy(rng.dirichlet(np.ones(70)).astype(np.float32))
        a, b = a / a.sum(), b / b.sum()  # renormalised in float32: totals 1 +- a few ulp
        try:
            w = wasserstein(x, y, a, b)
        except ValueError:
            refused += 1
            continue
        ref = divkit.wasserstein(x.double().numpy(), y.double().numpy(), a.double().numpy() / a.double().sum().item(),
                                 b.double().numpy() / b.double().sum().item())
        assert w.item() == pytest.approx(ref, rel=1e-5)
    assert refused == 0
    with pytest.raises(ValueError, match="different total mass"):
        wasserstein(x, y, torch.ones(60), torch.ones(70))
    with pytest.raises(ValueError, match="different total mass"):
        wasserstein(x, y, a, b * 1.001)
