"""
An optimal transport plan between two point clouds
==================================================

:func:`divkit.emd` solves the transport problem exactly and returns the plan, the dual
potentials and a certificate of optimality computed independently of the solver.
"""

import matplotlib.pyplot as plt
import numpy as np

import divkit

rng = np.random.default_rng(0)
x = rng.normal(size=(30, 2))
y = rng.normal(size=(40, 2)) * 0.5 + np.array([3.0, 1.0])
a, b = np.full(30, 1 / 30), np.full(40, 1 / 40)
res = divkit.emd(a, b, divkit.cost_matrix(x, y, metric="sqeuclidean"))
cert = res.certificate
print(f"W2^2 = {res.cost:.6f}, duality gap = {cert.duality_gap:.2e}, optimal: {cert.is_optimal()}")

fig, ax = plt.subplots(figsize=(6, 4))
rows, cols = np.nonzero(res.plan > 1e-12)
for i, j in zip(rows, cols):
    ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="grey", lw=0.5 + 60 * res.plan[i, j], alpha=0.6)
ax.scatter(*x.T, label="x (30 points)")
ax.scatter(*y.T, label="y (40 points)")
ax.set_title(f"optimal plan: {len(rows)} arcs, $W_2^2$ = {res.cost:.3f}")
ax.legend()
ax.set_aspect("equal")
fig.tight_layout()
