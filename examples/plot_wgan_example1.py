"""
WGAN Example 1: KL and JS saturate, W1 does not
===============================================

:math:`P_0` is uniform on the segment :math:`\\{0\\} \\times [0, 1]` and :math:`P_\\theta` on
:math:`\\{\\theta\\} \\times [0, 1]` (Arjovsky, Chintala & Bottou 2017, Example 1). Once the
supports separate, KL is :math:`+\\infty` and JS is stuck at :math:`\\log 2`, whatever
:math:`\\theta` is, while :math:`W_1 = |\\theta|` says how far apart they are.
"""

import matplotlib.pyplot as plt
import numpy as np

import divkit

n_points = 32
heights = (np.arange(n_points) + 0.5) / n_points
uniform = np.full(n_points, 1.0 / n_points)
zeros = np.zeros(n_points)
thetas = np.linspace(-1, 1, 41)
kl, js, w1 = [], [], []
for theta in thetas:
    x0 = np.column_stack([np.zeros(n_points), heights])
    x_theta = np.column_stack([np.full(n_points, theta), heights])
    if theta == 0:
        p0, p_theta = uniform, uniform
    else:  # histograms on the union of the two supports
        p0, p_theta = np.concatenate([uniform, zeros]), np.concatenate([zeros, uniform])
    kl.append(divkit.kl(p0, p_theta))
    js.append(divkit.js(p0, p_theta))
    w1.append(divkit.wasserstein(x0, x_theta, p=1))

kl_plot = np.where(np.isinf(kl), np.nan, kl)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(thetas, w1, label="$W_1$ (exact)")
ax.plot(thetas, js, label="JS (nats)")
ax.scatter([0.0], [0.0], color="C2", zorder=3, label="KL (finite only at $\\theta = 0$)")
ax.axhline(np.log(2), color="grey", lw=0.8, ls="--")
ax.set_xlabel("$\\theta$")
ax.set_ylabel("divergence / distance")
ax.legend()
ax.set_title("KL = +inf and JS = log 2 for every $\\theta \\neq 0$")
fig.tight_layout()
print("KL finite at theta = 0 only:", int(np.isfinite(kl).sum()), "of", len(kl))
