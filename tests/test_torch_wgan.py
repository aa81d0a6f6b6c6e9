"""WGAN pieces: gradient_penalty and wgan_critic_loss against hand-written versions, the
optimiser contract of critic_wasserstein, and a tiny WGAN-GP run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import divkit.torch as dt


def _net(d, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, 1)).to(dtype)


def _hand_penalty(critic, real, fake, alpha, one_sided):
    # the textbook WGAN-GP penalty, written out independently
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat)
    (g,) = torch.autograd.grad(out, x_hat, grad_outputs=torch.ones_like(out), create_graph=True)
    norm = g.flatten(1).norm(2, dim=1)
    excess = (norm - 1).clamp(min=0) if one_sided else norm - 1
    return 10.0 * (excess**2).mean()


@pytest.mark.parametrize("one_sided", [False, True])
def test_gradient_penalty_equals_hand_written_value_and_gradients(one_sided):
    critic = _net(3, 0)
    with torch.no_grad():
        critic[2].weight.mul_(8.0)  # gradient norms on both sides of 1
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    fake = torch.randn(32, 3, generator=gen, dtype=torch.float64) + 1.0
    alpha = torch.rand(32, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    got = dt.gradient_penalty(critic, real, fake, one_sided=one_sided, rng=torch.Generator().manual_seed(5))
    got_grads = torch.autograd.grad(got, list(critic.parameters()), materialize_grads=True)
    ref = _hand_penalty(critic, real, fake, alpha, one_sided)
    ref_grads = torch.autograd.grad(ref, list(critic.parameters()), materialize_grads=True)
    assert ref.item() > 0
    assert got.item() == pytest.approx(ref.item(), rel=1e-13)
    for a, b in zip(got_grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_gradient_penalty_images_and_flat_critic():
    # (B, C, H, W) inputs: the norm runs over C*H*W
    conv = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(3 * 4 * 4, 1)).double()
    real = torch.randn(5, 2, 6, 6, dtype=torch.float64)
    fake = torch.randn(5, 2, 6, 6, dtype=torch.float64)
    alpha = torch.rand(5, 1, 1, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    got = dt.gradient_penalty(conv, real, fake, rng=torch.Generator().manual_seed(2))
    assert got.item() == pytest.approx(_hand_penalty(conv, real, fake, alpha, False).item(), rel=1e-13)
    # a constant critic: ||grad|| = 0, penalty = weight, and finite gradients (no sqrt'(0) = inf)
    lin = nn.Linear(2, 1).double()
    with torch.no_grad():
        lin.weight.zero_()
    pen = dt.gradient_penalty(lin, torch.zeros(4, 2, dtype=torch.float64), torch.ones(4, 2, dtype=torch.float64))
    assert pen.item() == pytest.approx(10.0)
    pen.backward()
    assert torch.isfinite(lin.weight.grad).all()


def test_gradient_penalty_bad_input():
    net = _net(2, 0)
    z = torch.zeros(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="same shape"):
        dt.gradient_penalty(net, z, torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="weight"):
        dt.gradient_penalty(net, z, z, weight=-1.0)
    with pytest.raises(TypeError, match="real must be a torch.Tensor"):
        dt.gradient_penalty(net, [[0.0, 0.0]], z)
    with pytest.raises(TypeError, match="critic must be callable"):
        dt.gradient_penalty(3, z, z)
    with pytest.raises(ValueError, match="unknown penalty"):
        dt.wgan_critic_loss(net, z, z, penalty="l2")


def test_wgan_critic_loss_is_negative_gap_plus_penalty():
    net = _net(2, 3)
    real = torch.randn(16, 2, dtype=torch.float64)
    fake = torch.randn(16, 2, dtype=torch.float64) + 2
    loss, est = dt.wgan_critic_loss(net, real, fake, rng=torch.Generator().manual_seed(0))
    gap = net(real).mean() - net(fake).mean()
    pen = dt.gradient_penalty(net, real, fake, rng=torch.Generator().manual_seed(0))
    assert est.item() == pytest.approx(gap.item(), rel=1e-14)
    assert loss.item() == pytest.approx((-gap + pen).item(), rel=1e-13)
    assert not est.requires_grad and loss.requires_grad


def test_critic_wasserstein_uses_the_callers_optimizer():
    x = torch.randn(64, 2, dtype=torch.float64)
    net = _net(2, 4)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.0, 0.9))
    dt.critic_wasserstein(x, x + 1, critic=net, optimizer=opt, n_steps=3, evaluate=False)
    assert opt.state[next(net.parameters())]["step"].item() == 3
    dt.critic_wasserstein(x, x + 1, critic=net, optimizer=opt, n_steps=2, evaluate=False)
    assert opt.state[next(net.parameters())]["step"].item() == 5
    with pytest.raises(ValueError, match="either lr or optimizer"):
        dt.critic_wasserstein(x, x + 1, critic=net, optimizer=opt, lr=1e-3, n_steps=1)
    with pytest.raises(TypeError, match="optimizer must be"):
        dt.critic_wasserstein(x, x + 1, critic=net, optimizer="adam", n_steps=1)


def test_critic_wasserstein_keeps_its_own_optimizer_across_calls():
    # five calls of 4 steps with the kept Adam state equal one call of 20 steps (same batches)
    x = torch.randn(64, 2, dtype=torch.float64)
    a, b = _net(2, 5), _net(2, 5)
    gen = torch.Generator().manual_seed(9)
    for _ in range(5):
        res = dt.critic_wasserstein(x, x + 1, critic=a, n_steps=4, lr=1e-2, rng=gen, evaluate=False)
    assert res.gradient_norm is None and res.estimate.shape == ()
    dt.critic_wasserstein(x, x + 1, critic=b, n_steps=20, lr=1e-2, rng=torch.Generator().manual_seed(9))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


def test_tiny_wgan_gp_estimate_increases_with_separation():
    """A WGAN-GP critic trained in a loop of short calls ranks separations like the exact W1."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(256, 2, generator=g, dtype=torch.float64)
    estimates, exact = [], []
    for shift in (0.25, 1.0, 2.5):
        y = torch.randn(256, 2, generator=g, dtype=torch.float64) + torch.tensor([shift, 0.0], dtype=torch.float64)
        net = _net(2, 0)
        opt = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.0, 0.9))
        stream = torch.Generator().manual_seed(1)
        for _ in range(30):
            res = dt.critic_wasserstein(base, y, critic=net, optimizer=opt, n_steps=5, batch_size=128,
                                        rng=stream, evaluate=False)
        with torch.no_grad():
            estimates.append((net(base).mean() - net(y).mean()).item())
        exact.append(dt.wasserstein(base, y).item())
        assert torch.isfinite(res.trace).all()
    assert estimates[0] < estimates[1] < estimates[2]
    assert exact[0] < exact[1] < exact[2]
    # the critic's value is a lower bound up to sampling noise, and not far below at this size
    assert estimates[2] == pytest.approx(exact[2], rel=0.3)
