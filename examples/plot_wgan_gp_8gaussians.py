"""
WGAN-GP on "8 Gaussians", monitored with the exact W1 and MMD^2
===============================================================

A small WGAN-GP (Gulrajani et al. 2017) learns the 2-D mixture of eight Gaussians on a circle.
The critic is trained with :func:`divkit.torch.critic_wasserstein` (the gradient penalty of
:func:`divkit.torch.gradient_penalty`, the caller's Adam optimiser kept across calls), the
generator with ``-E f(G(z))``. Every ``EVAL_EVERY`` steps we measure the generator against fresh
data with two independent yardsticks:

* the **exact** Wasserstein-1 distance between the samples (:func:`divkit.torch.wasserstein`,
  an exact LP solve), which the critic only estimates;
* the unbiased MMD^2 with a Gaussian kernel at the median bandwidth (:func:`divkit.torch.mmd2`).

Sizes are small so that the example runs on a CPU in well under a minute; raise ``N_STEPS``
(e.g. to 5000) for a sharper fit.
"""

import math
import os

import matplotlib.pyplot as plt
import torch
from torch import nn

import divkit.torch as dt

N_STEPS = int(os.environ.get("DIVKIT_EXAMPLE_STEPS", "1200"))  # generator updates
CRITIC_STEPS = 5  # critic updates per generator update (the WGAN-GP recipe)
BATCH = 128
EVAL_EVERY = 60
EVAL_SIZE = 200  # points per side for the exact W1 and MMD^2

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny networks: threads cost more than they save


def eight_gaussians(n, generator=None):
    """n points from 8 Gaussians (std 0.05) centred on the circle of radius 2."""
    k = torch.randint(8, (n,), generator=generator)
    angle = k.float() * (2 * math.pi / 8)
    centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return centres + 0.05 * torch.randn(n, 2, generator=generator)


def mlp(d_in, d_out, width=64):
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, d_out))


generator = mlp(2, 2)
critic = mlp(2, 1)
opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))
opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
stream = torch.Generator().manual_seed(1)  # batches and interpolation weights of the critic
eval_rng = torch.Generator().manual_seed(2)

steps, w1_exact, mmd_values, critic_estimates = [], [], [], []
for step in range(N_STEPS + 1):
    real = eight_gaussians(BATCH * CRITIC_STEPS)
    with torch.no_grad():
        fake = generator(torch.randn(BATCH * CRITIC_STEPS, 2))
    # CRITIC_STEPS critic updates; evaluate=False skips the full-sample estimate
    res = dt.critic_wasserstein(real, fake, critic=critic, optimizer=opt_c, n_steps=CRITIC_STEPS,
                                batch_size=BATCH, rng=stream, evaluate=False)

    loss_g = -critic(generator(torch.randn(BATCH, 2))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()

    if step % EVAL_EVERY == 0:
        with torch.no_grad():
            x = eight_gaussians(EVAL_SIZE, eval_rng).double()
            y = generator(torch.randn(EVAL_SIZE, 2, generator=eval_rng)).double()
            steps.append(step)
            w1_exact.append(dt.wasserstein(x, y).item())
            mmd_values.append(dt.mmd2(x, y, "gaussian", "median").item())
            critic_estimates.append(res.estimate.item())

print(f"step {steps[0]}: W1 {w1_exact[0]:.3f}, MMD^2 {mmd_values[0]:.4f}")
print(f"step {steps[-1]}: W1 {w1_exact[-1]:.3f}, MMD^2 {mmd_values[-1]:.4f}")

# %%
# The generator's samples, and the two distances along training. The critic's mini-batch value
# (grey) tracks the exact W1 only roughly: a trained critic is a lower-bound estimate.

with torch.no_grad():
    x = eight_gaussians(1000, eval_rng)
    y = generator(torch.randn(1000, 2, generator=eval_rng))

fig, axes = plt.subplots(1, 3, figsize=(13, 4))
axes[0].scatter(x[:, 0], x[:, 1], s=3, alpha=0.4, label="data")
axes[0].scatter(y[:, 0], y[:, 1], s=3, alpha=0.4, label="generator")
axes[0].set_aspect("equal")
axes[0].legend(loc="upper right")
axes[0].set_title(f"samples after {N_STEPS} steps")
axes[1].plot(steps, w1_exact, label="exact W1 (LP)")
axes[1].plot(steps, critic_estimates, color="grey", alpha=0.6, label="critic estimate (batch)")
axes[1].set_xlabel("generator step")
axes[1].set_title("Wasserstein-1")
axes[1].legend()
axes[2].plot(steps, mmd_values, color="C2")
axes[2].set_yscale("symlog", linthresh=1e-3)
axes[2].set_xlabel("generator step")
axes[2].set_title("unbiased MMD$^2$ (Gaussian, median bandwidth)")
fig.tight_layout()
plt.show()
