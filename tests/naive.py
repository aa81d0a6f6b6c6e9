"""Slow, readable reference implementations used as oracles in the tests.

Each function here is written for clarity, as a direct transcription of the textbook formula
with plain loops or dense numpy, and shares no code with divkit itself.
"""

import math

import numpy as np


# ---------------------------------------------------------------------------------------------
# f-divergences and closed forms on histograms
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# optimal transport
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# maximum mean discrepancy
# ---------------------------------------------------------------------------------------------


def naive_kernel_matrix(X, Y, kernel, sigmas=(1.0,), weights=None, gamma=None, coef0=1.0,
                        degree=3):
    """k(x_i, y_j) for all pairs from the textbook formulas, by dense broadcasting."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
    diff = X[:, None, :] - Y[None, :, :]
    sqdist = (diff ** 2).sum(axis=2)
    l1dist = np.abs(diff).sum(axis=2)
    dot = X @ Y.T
    if kernel == "linear":
        return dot
    if kernel == "polynomial":
        gamma = 1.0 / X.shape[1] if gamma is None else gamma
        return (gamma * dot + coef0) ** degree
    if kernel == "energy":
        return -np.sqrt(sqdist)
    weights = np.ones(len(sigmas)) if weights is None else weights
    total = np.zeros_like(sqdist)
    for sigma, w in zip(sigmas, weights):
        if kernel == "gaussian":
            total += w * np.exp(-sqdist / (2.0 * sigma ** 2))
        elif kernel == "laplacian":
            total += w * np.exp(-l1dist / sigma)
        elif kernel == "laplacian_l2":
            total += w * np.exp(-np.sqrt(sqdist) / sigma)
        elif kernel == "imq":
            total += w / np.sqrt(1.0 + sqdist / sigma ** 2)
        else:
            raise ValueError(kernel)
    return total


def naive_mmd2(X, Y, estimator="unbiased", x_weights=None, y_weights=None, **kernel_args):
    """MMD^2 estimators straight from Gretton et al. (2012): dense matrices and loops."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
    n, m = len(X), len(Y)
    if estimator == "linear":
        p = min(n, m) // 2
        terms = []
        for i in range(p):
            x0, x1, y0, y1 = X[2 * i:2 * i + 1], X[2 * i + 1:2 * i + 2], Y[2 * i:2 * i + 1], \
                Y[2 * i + 1:2 * i + 2]
            k = lambda a, b: naive_kernel_matrix(a, b, **kernel_args)[0, 0]  # noqa: E731
            terms.append(k(x0, x1) + k(y0, y1) - k(x0, y1) - k(x1, y0))
        return float(np.mean(terms))
    Kxx = naive_kernel_matrix(X, X, **kernel_args)
    Kyy = naive_kernel_matrix(Y, Y, **kernel_args)
    Kxy = naive_kernel_matrix(X, Y, **kernel_args)
    if estimator == "biased":
        a = np.full(n, 1.0 / n) if x_weights is None else np.asarray(x_weights, dtype=float)
        b = np.full(m, 1.0 / m) if y_weights is None else np.asarray(y_weights, dtype=float)
        return float(a @ Kxx @ a + b @ Kyy @ b - 2.0 * a @ Kxy @ b)
    off_x = sum(Kxx[i, j] for i in range(n) for j in range(n) if i != j)
    off_y = sum(Kyy[i, j] for i in range(m) for j in range(m) if i != j)
    return float(off_x / (n * (n - 1)) + off_y / (m * (m - 1)) - 2.0 * Kxy.sum() / (n * m))


def naive_energy_distance(X, Y, x_weights=None, y_weights=None):
    """2 E||X-Y|| - E||X-X'|| - E||Y-Y'|| for (weighted) empirical distributions, by loops."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
    a = np.full(len(X), 1.0 / len(X)) if x_weights is None else x_weights
    b = np.full(len(Y), 1.0 / len(Y)) if y_weights is None else y_weights

    def mean_dist(P, wp, R, wr):
        return sum(wp[i] * wr[j] * math.dist(P[i], R[j]) for i in range(len(P))
                   for j in range(len(R)))

    return 2 * mean_dist(X, a, Y, b) - mean_dist(X, a, X, a) - mean_dist(Y, b, Y, b)


def naive_median_bandwidth(Z):
    """Gretton's heuristic: sigma^2 = median of ||z_i - z_j||^2 over pairs i < j, halved."""
    Z = np.asarray(Z, dtype=np.float64).reshape(len(Z), -1)
    sq = [float(((Z[i] - Z[j]) ** 2).sum()) for i in range(len(Z)) for j in range(i + 1, len(Z))]
    return math.sqrt(float(np.median(sq)) / 2.0)


def naive_permutation_null(X, Y, seed, n_permutations, estimator="unbiased", **kernel_args):
    """Permuted statistics, drawing the relabellings as divkit documents: for each b, the
    first n entries of ``default_rng(seed).permutation(n + m)`` index the new x-group."""
    Z = np.concatenate([np.asarray(X, float).reshape(len(X), -1),
                        np.asarray(Y, float).reshape(len(Y), -1)])
    n = len(X)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_permutations):
        perm = rng.permutation(len(Z))
        out.append(naive_mmd2(Z[perm[:n]], Z[perm[n:]], estimator, **kernel_args))
    return np.array(out)



# ---------------------------------------------------------------------------------------------
# torch adapter
# ---------------------------------------------------------------------------------------------
