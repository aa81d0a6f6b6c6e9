"""divkit.torch.mmd2 against the double-loop oracle in tests/naive.py, gradients, bad input."""

import naive
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from divkit.torch import KERNELS, mmd2

torch.set_num_threads(1)


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_double_loop_oracle(kernel, estimator, rng):
    n = 8
    m = 8 if estimator == "linear" else 6
    x = rng.normal(size=(n, 3))
    y = rng.normal(size=(m, 3)) + 0.5
    got = mmd2(t64(x), t64(y), kernel, 1.3, estimator=estimator).item()
    want = naive.naive_mmd2_loops(x, y, kernel, 1.3, estimator)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian", "laplacian_l2", "imq"])
def test_list_of_bandwidths_is_sum_of_kernels(kernel, rng):
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(5, 2))
    got = mmd2(t64(x), t64(y), kernel, [0.5, 2.0]).item()
    want = naive.naive_mmd2_loops(x, y, kernel, [0.5, 2.0])
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("kernel", KERNELS)
def test_blocks_give_the_same_value_and_gradient(kernel, rng):
    x = t64(rng.normal(size=(23, 3))).requires_grad_()
    y = t64(rng.normal(size=(17, 3)))
    whole = mmd2(x, y, kernel, 0.9)
    (g_whole,) = torch.autograd.grad(whole, x)
    blocked = mmd2(x, y, kernel, 0.9, block_elements=20)
    (g_blocked,) = torch.autograd.grad(blocked, x)
    assert blocked.item() == pytest.approx(whole.item(), rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(g_blocked.numpy(), g_whole.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_gradcheck(kernel, estimator, rng):
    x = t64(rng.normal(size=(6, 2))).requires_grad_()
    y = t64(rng.normal(size=(6, 2)) + 0.3).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: mmd2(a, b, kernel, 0.8, estimator=estimator, block_elements=16), (x, y)
    )


def test_gradcheck_through_bandwidth(rng):
    x, y = t64(rng.normal(size=(5, 2))), t64(rng.normal(size=(4, 2)))
    sigma = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: mmd2(x, y, "gaussian", [s, 2.0]), (sigma,))


@pytest.mark.parametrize("kernel", ["energy", "laplacian_l2", "laplacian"])
def test_no_nan_gradient_at_coinciding_points(kernel):
    x = t64([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]).requires_grad_()
    y = t64([[0.0, 0.0], [2.0, 0.0]]).requires_grad_()
    for estimator in ("unbiased", "biased"):
        gx, gy = torch.autograd.grad(mmd2(x, y, kernel, estimator=estimator), (x, y))
        assert torch.all(torch.isfinite(gx)) and torch.all(torch.isfinite(gy))


def test_energy_distance_closed_form_in_1d():
    # x = {0, 1}, y = {0, 2}: 2 E|x-y| - E|x-x'| - E|y-y'| = 2*1 - 1/2 - 1 = 1/2 (V-statistic)
    x, y = t64([0.0, 1.0]), t64([0.0, 2.0])
    assert mmd2(x, y, "energy", estimator="biased").item() == pytest.approx(0.5, rel=1e-15)


def test_unbiased_can_be_negative_and_biased_is_not(rng):
    # identical samples: U = 2/n (mean off-diagonal k - k(x, x)) < 0 for the Gaussian kernel
    x = t64(rng.normal(size=(20, 2)))
    off_diagonal_mean = (sum(
        naive.naive_kernel("gaussian", x[i].numpy(), x[j].numpy(), 1.0)
        for i in range(20) for j in range(20) if i != j
    ) / (20 * 19))
    expected = 2 / 20 * (off_diagonal_mean - 1)
    assert mmd2(x, x.clone(), estimator="unbiased").item() == pytest.approx(expected, rel=1e-12)
    assert expected < 0
    assert mmd2(x, x.clone(), estimator="biased").item() == pytest.approx(0.0, abs=1e-15)


@given(st.integers(0, 10_000))
@settings(max_examples=15)
def test_permutation_symmetry_and_translation_invariance(seed):
    g = np.random.default_rng(seed)
    x, y = g.normal(size=(6, 2)), g.normal(size=(5, 2))
    shift = g.normal(size=2) * 10
    base = mmd2(t64(x), t64(y), "gaussian", 1.0).item()
    assert mmd2(t64(y), t64(x), "gaussian", 1.0).item() == pytest.approx(base, rel=1e-12, abs=1e-14)
    assert mmd2(t64(x[::-1].copy()), t64(y), "gaussian", 1.0).item() == pytest.approx(base, rel=1e-12, abs=1e-14)
    assert mmd2(t64(x + shift), t64(y + shift), "gaussian", 1.0).item() == pytest.approx(base, rel=1e-9, abs=1e-12)


def test_float32_in_float32_out_and_integer_input(rng):
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(7, 2))
    out32 = mmd2(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    assert out32.dtype == torch.float32
    assert out32.item() == pytest.approx(mmd2(t64(x), t64(y)).item(), rel=1e-5, abs=1e-6)
    xi, yi = torch.tensor([[0], [1], [3]]), torch.tensor([[1], [2]])
    assert mmd2(xi, yi, "energy").item() == pytest.approx(
        naive.naive_mmd2_loops([[0], [1], [3]], [[1], [2]], "energy"), rel=1e-6
    )


def test_single_point_biased_and_duplicates(rng):
    x = t64([[1.0, 2.0]])
    assert mmd2(x, x, estimator="biased").item() == 0.0
    y = t64([[1.0, 2.0], [1.0, 2.0]])
    assert mmd2(y, y, estimator="unbiased").item() == pytest.approx(0.0, abs=1e-15)


def meta(shape):
    return torch.empty(shape, device="meta")


@pytest.mark.parametrize(
    "args,kwargs,error,match",
    [
        ((torch.zeros(3, 2), meta((3, 2))), {}, ValueError, "same device, got x on cpu, y on meta"),
        ((torch.zeros(3, 2), torch.zeros(3, 3)), {}, ValueError, "same dimension"),
        ((torch.zeros(3, 2, 1), torch.zeros(3, 2)), {}, ValueError, "x must be 1-D or 2-D"),
        ((torch.tensor([[0.0], [float("nan")]]), torch.zeros(2, 1)), {}, ValueError, "x contains 1 NaN"),
        ((torch.zeros(2, 1), torch.tensor([[0.0], [float("inf")]])), {}, ValueError, "y contains 0 NaN and 1 infinite"),
        ((np.zeros((3, 2)), torch.zeros(3, 2)), {}, TypeError, "x must be a torch.Tensor"),
        ((torch.zeros(0, 2), torch.zeros(3, 2)), {}, ValueError, "x is empty"),
        ((torch.zeros(3, 2), torch.zeros(3, 2), "rbf"), {}, ValueError, "unknown kernel 'rbf'"),
        ((torch.zeros(3, 2), torch.zeros(3, 2)), {"estimator": "v"}, ValueError, "unknown estimator 'v'"),
        ((torch.zeros(3, 2), torch.zeros(3, 2), "gaussian", 0.0), {}, ValueError, "bandwidth must be > 0"),
        ((torch.zeros(3, 2), torch.zeros(3, 2), "gaussian", []), {}, ValueError, "bandwidth is an empty list"),
        ((torch.zeros(3, 2), torch.zeros(3, 2), "gaussian", "a"), {}, TypeError, "bandwidth must be a positive real"),
        ((torch.zeros(1, 2), torch.zeros(6, 2)), {"estimator": "linear"}, ValueError, "at least 2 points per sample"),
        ((torch.zeros(1, 2), torch.zeros(3, 2)), {}, ValueError, "at least 2 points"),
        ((torch.zeros(3, 2), torch.zeros(3, 2)), {"block_elements": 0}, ValueError, "block_elements must be >= 1"),
        ((torch.zeros(3, 2, dtype=torch.complex64), torch.zeros(3, 2)), {}, TypeError, "x must be real-valued"),
    ],
)
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        mmd2(*args, **kwargs)


def test_blocks_bound_the_memory_autograd_keeps(rng):
    # Checkpointed blocks: the graph keeps inputs and block outputs, never an (n, m, d) tensor.
    x = t64(rng.normal(size=(60, 4))).requires_grad_()
    y = t64(rng.normal(size=(50, 4)))
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        value = mmd2(x, y, "energy", block_elements=64)
    assert max(saved) <= 60 * 4  # at most the inputs themselves
    (grad,) = torch.autograd.grad(value, x)
    (dense,) = torch.autograd.grad(mmd2(x, y, "energy"), x)
    np.testing.assert_allclose(grad.numpy(), dense.numpy(), rtol=1e-10, atol=1e-14)
