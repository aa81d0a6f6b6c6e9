"""The exact OT autograd Function, with divkit.emd replaced by the scipy.linprog oracle.

divkit.emd lives in another module; here it is monkeypatched with tests/naive.linprog_emd so
the Function (forward values, plan/potential gradients, point gradients) is checked on its
own. The end-to-end check against the real divkit.emd is in test_torch_crosscheck.py.
"""

import naive
import numpy as np
import pytest
import scipy.stats
import torch

import divkit
from divkit.torch import exact_ot_cost, wasserstein

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def linprog_solver(monkeypatch):
    monkeypatch.setattr(divkit, "emd", naive.linprog_emd, raising=False)


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def test_w1_in_1d_equals_scipy(rng):
    x, y = rng.normal(size=7), rng.normal(size=5) + 1
    a, b = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(5))
    got = wasserstein(t64(x), t64(y), t64(a), t64(b), p=1).item()
    assert got == pytest.approx(scipy.stats.wasserstein_distance(x, y, a, b), rel=1e-9)


def test_w2_between_translates_is_the_shift(rng):
    # translating a point cloud by s moves it exactly ||s|| in W_2 (identity coupling is optimal)
    x = rng.normal(size=(6, 3))
    shift = np.array([0.3, -1.0, 2.0])
    got = wasserstein(t64(x), t64(x + shift), p=2).item()
    assert got == pytest.approx(np.linalg.norm(shift), rel=1e-9)


def test_cost_value_and_dual_value_agree_with_oracle(rng):
    C = rng.uniform(size=(5, 4))
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(4))
    ref = naive.linprog_emd(a, b, C)
    cost = exact_ot_cost(t64(C), t64(a), t64(b))
    assert cost.item() == pytest.approx(ref.cost, rel=1e-12)
    assert cost.item() == pytest.approx(a @ ref.f + b @ ref.g, rel=1e-8)  # strong duality


def test_gradients_are_plan_and_centred_potentials(rng):
    C = rng.uniform(size=(5, 4))
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(4))
    ref = naive.linprog_emd(a, b, C)
    Ct, at, bt = (t64(v).requires_grad_() for v in (C, a, b))
    gC, ga, gb = torch.autograd.grad(exact_ot_cost(Ct, at, bt), (Ct, at, bt))
    np.testing.assert_allclose(gC.numpy(), ref.plan, atol=1e-12)
    np.testing.assert_allclose(ga.numpy(), ref.f, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), ref.g, atol=1e-12)
    assert float(a @ ga.numpy()) == pytest.approx(float(b @ gb.numpy()), abs=1e-12)  # centred


def test_gradcheck_cost_matrix(rng):
    C = t64(rng.uniform(size=(4, 5))).requires_grad_()
    a, b = t64(rng.dirichlet(np.ones(4))), t64(rng.dirichlet(np.ones(5)))
    assert torch.autograd.gradcheck(lambda c: exact_ot_cost(c, a, b), (C,), eps=1e-7, atol=1e-6)


def test_gradcheck_weights_on_the_simplex(rng):
    # The cost is defined on sum a == sum b only: perturb through softmax, which removes the
    # (f + c, g - c) ambiguity of the potentials.
    C = t64(rng.uniform(size=(4, 5)))
    la, lb = t64(rng.normal(size=4)).requires_grad_(), t64(rng.normal(size=5)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda u, v: exact_ot_cost(C, torch.softmax(u, 0), torch.softmax(v, 0)), (la, lb), eps=1e-7, atol=1e-6
    )


@pytest.mark.parametrize("p", [1, 2, 1.5])
def test_gradcheck_points(p, rng):
    x = t64(rng.normal(size=(4, 2))).requires_grad_()
    y = t64(rng.normal(size=(5, 2)) + 1.0).requires_grad_()
    assert torch.autograd.gradcheck(lambda u, v: wasserstein(u, v, p=p), (x, y), eps=1e-7, atol=1e-6)


def test_envelope_gradient_for_points(rng):
    # d W1 / d x_i = sum_j G_ij (x_i - y_j) / ||x_i - y_j||
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(5, 2))
    xt = t64(x).requires_grad_()
    (gx,) = torch.autograd.grad(wasserstein(xt, t64(y)), xt)
    C = np.linalg.norm(x[:, None] - y[None], axis=-1)
    plan = naive.linprog_emd(np.full(4, 0.25), np.full(5, 0.2), C).plan
    want = np.einsum("ij,ijk->ik", plan, (x[:, None] - y[None]) / C[..., None])
    np.testing.assert_allclose(gx.numpy(), want, atol=1e-10)


def test_coinciding_points_give_finite_gradients():
    x = t64([[0.0, 0.0], [1.0, 0.0]]).requires_grad_()
    (gx,) = torch.autograd.grad(wasserstein(x, x.detach().clone()), x)
    assert torch.all(torch.isfinite(gx))
    assert wasserstein(x, x.detach().clone()).item() == pytest.approx(0.0, abs=1e-12)


def test_float32_and_integer_inputs(rng):
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    w32 = wasserstein(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    assert w32.dtype == torch.float32
    assert w32.item() == pytest.approx(wasserstein(t64(x), t64(y)).item(), rel=1e-6)
    wi = wasserstein(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 3]))
    assert wi.item() == pytest.approx(1.0, rel=1e-6)


def test_negative_costs_are_fine(rng):
    C = rng.uniform(-3.0, -1.0, size=(4, 4))
    ref = naive.linprog_emd(np.full(4, 0.25), np.full(4, 0.25), C)
    assert exact_ot_cost(t64(C)).item() == pytest.approx(ref.cost, rel=1e-12)
    assert ref.cost < 0


def meta(*shape):
    return torch.empty(shape, device="meta")


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: wasserstein(torch.zeros(3, 2), meta(3, 2)), ValueError, "same device, got x on cpu, y on meta"),
        (lambda: wasserstein(torch.zeros(3, 2), torch.zeros(3, 2), meta(3)), ValueError, "a on meta"),
        (lambda: wasserstein(torch.zeros(3, 2), torch.zeros(3, 1)), ValueError, "same dimension"),
        (lambda: wasserstein(torch.tensor([[float("nan")]]), torch.zeros(1, 1)), ValueError, "x contains 1 NaN"),
        (lambda: wasserstein(torch.zeros(2, 1), torch.zeros(2, 1), p=0.5), ValueError, "p must be >= 1"),
        (lambda: wasserstein(torch.zeros(2, 1), torch.zeros(2, 1), torch.ones(3) / 3), ValueError, "a must be 1-D with 2 weights"),
        (lambda: exact_ot_cost(torch.zeros(2)), ValueError, "C must be 2-D"),
        (lambda: exact_ot_cost(torch.tensor([[0.0, float("inf")]])), ValueError, "C contains 0 NaN and 1 infinite"),
        (lambda: exact_ot_cost(torch.zeros(2, 2), torch.tensor([0.5, 0.5]), torch.tensor([0.7, 0.7])), ValueError, "different total mass"),
        (lambda: exact_ot_cost(torch.zeros(2, 2), torch.tensor([1.5, -0.5])), ValueError, "a contains negative"),
        (lambda: exact_ot_cost([[0.0]]), TypeError, "C must be a torch.Tensor"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gradient_at_zero_distance_is_zero_not_nan():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]], dtype=torch.float64, requires_grad=True)
    w = wasserstein(x, x.detach().clone(), p=2)
    w.backward()
    assert w.item() == 0.0
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_tensor_bandwidth_must_be_positive():
    from divkit.torch import mmd2

    with pytest.raises(ValueError, match="bandwidth must be > 0 and finite"):
        mmd2(torch.zeros(3, 2), torch.ones(3, 2), bandwidth=torch.tensor(-1.0))
    with pytest.raises(ValueError, match="bandwidth must be > 0 and finite"):
        mmd2(torch.zeros(3, 2), torch.ones(3, 2), bandwidth=torch.tensor(0.0))
