"""
MMD test power against sample size
==================================

Two Gaussians whose means differ by 0.5 in one of three coordinates. For each sample size
the permutation test (:func:`divkit.mmd_test`, Gaussian kernel, median bandwidth, 99
permutations) is run on 20 independent draws; the fraction of rejections at level 0.05 is the
test's power. Under the null (equal distributions) it stays near 0.05.
"""

import matplotlib.pyplot as plt
import numpy as np

import divkit

rng = np.random.default_rng(0)
sizes = [10, 20, 40, 80]
repetitions = 20
shift = np.array([0.5, 0.0, 0.0])
power, size_under_null = [], []
for n in sizes:
    rejected = rejected_null = 0
    for rep in range(repetitions):
        x = rng.normal(size=(n, 3))
        y = rng.normal(size=(n, 3)) + shift
        z = rng.normal(size=(n, 3))
        rejected += divkit.mmd_test(x, y, bandwidth="median", n_permutations=99, rng=rep).p_value <= 0.05
        rejected_null += divkit.mmd_test(x, z, bandwidth="median", n_permutations=99, rng=rep).p_value <= 0.05
    power.append(rejected / repetitions)
    size_under_null.append(rejected_null / repetitions)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(sizes, power, "o-", label="power (mean shift 0.5)")
ax.plot(sizes, size_under_null, "s--", label="rejection rate under the null")
ax.axhline(0.05, color="grey", lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_xlabel("sample size n (= m)")
ax.set_ylabel("rejection rate at level 0.05")
ax.set_ylim(-0.02, 1.02)
ax.legend()
fig.tight_layout()
print("power:", dict(zip(sizes, power)))
