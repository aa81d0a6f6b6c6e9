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



# ---------------------------------------------------------------------------------------------
# torch adapter
# ---------------------------------------------------------------------------------------------
# Everything below is numpy/scipy only (no divkit, no torch): oracles for divkit.torch.

from scipy.optimize import linprog, minimize_scalar


def naive_f(name, u, **params):
    """The generators f(u) of CONVENTIONS.md §2 at one point u >= 0, transcribed literally."""
    u = float(u)

    def ulogu(v):
        return 0.0 if v == 0 else v * math.log(v)

    if name == "tv":
        return 0.5 * abs(u - 1)
    if name == "kl":
        return ulogu(u)
    if name == "reverse_kl":
        return math.inf if u == 0 else -math.log(u)
    if name == "pearson_chi2":
        return (u - 1) ** 2
    if name == "neyman_chi2":
        return math.inf if u == 0 else (1 - u) ** 2 / u
    if name == "squared_hellinger":
        return (math.sqrt(u) - 1) ** 2
    if name == "jeffreys":
        return math.inf if u == 0 else (u - 1) * math.log(u)
    if name == "js":
        return 0.5 * (ulogu(u) - (u + 1) * math.log((u + 1) / 2))
    if name == "weighted_js":
        pi = params.get("pi", 0.5)
        return pi * ulogu(u) - ulogu(1 - pi + pi * u)
    if name == "gan":
        return ulogu(u) - ulogu(u + 1)
    if name == "alpha":
        a = params.get("alpha", 0.5)
        if a == 1:
            return ulogu(u) - u + 1
        if a == 0:
            return math.inf if u == 0 else u - 1 - math.log(u)
        if u == 0 and a < 0:
            return math.inf
        return (u**a - 1 - a * (u - 1)) / (a * (a - 1))
    raise KeyError(name)


def brute_force_conjugate(name, t, u_max=1e6, **params):
    """sup_{0 <= u <= u_max} (t u - f(u)) by a dense log-spaced grid, then a bounded 1-D refine.

    Only meaningful inside dom f*, where the supremum is attained at a moderate u.
    """
    grid = np.concatenate([[0.0], np.logspace(-12, math.log10(u_max), 20001)])
    values = np.array([t * u - naive_f(name, u, **params) for u in grid])
    k = int(np.argmax(values))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best = values[k]
    if hi > lo:
        res = minimize_scalar(
            lambda u: -(t * u - naive_f(name, u, **params)),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-14 * max(1.0, hi)},
        )
        best = max(best, -res.fun)
    return best


def naive_kernel(kind, x, y, sigma):
    """k(x, y) for one pair of 1-D numpy vectors, straight from the formula."""
    r = x - y
    if kind == "gaussian":
        return math.exp(-np.sum(r * r) / (2 * sigma**2))
    if kind == "laplacian":
        return math.exp(-np.sum(np.abs(r)) / sigma)
    if kind == "laplacian_l2":
        return math.exp(-math.sqrt(np.sum(r * r)) / sigma)
    if kind == "imq":
        return (1 + np.sum(r * r) / sigma**2) ** -0.5
    if kind == "polynomial":
        return (np.dot(x, y) / x.shape[0] + 1.0) ** 3
    if kind == "linear":
        return float(np.dot(x, y))
    if kind == "energy":
        return -math.sqrt(np.sum(r * r))
    raise KeyError(kind)


def naive_mmd2(x, y, kind="gaussian", sigma=1.0, estimator="unbiased"):
    """MMD^2 with plain double loops (Gretton et al. 2012, eqs. 2, 3 and the linear statistic)."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    sigmas = sigma if isinstance(sigma, (list, tuple)) else [sigma]

    def k(a, b):
        return sum(naive_kernel(kind, a, b, s) for s in sigmas)

    n, m = len(x), len(y)
    if estimator == "linear":
        half = n // 2
        total = 0.0
        for i in range(half):
            x1, x2, y1, y2 = x[2 * i], x[2 * i + 1], y[2 * i], y[2 * i + 1]
            total += k(x1, x2) + k(y1, y2) - k(x1, y2) - k(x2, y1)
        return total / half
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if estimator == "biased" or i != j)
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if estimator == "biased" or i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    if estimator == "biased":
        return sxx / n**2 + syy / m**2 - 2 * sxy / (n * m)
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)


class LinprogOTResult:
    """The few fields of divkit's OTResult that divkit.torch reads."""

    def __init__(self, cost, plan, f, g):
        self.cost, self.plan, self.f, self.g = cost, plan, f, g


def linprog_emd(a, b, C):
    """Exact OT by scipy's HiGHS on the dense transport LP, with centred duals (<a,f> = <b,g>)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    C = np.asarray(C, dtype=float)
    n, m = C.shape
    rows = np.zeros((n, n * m))
    cols = np.zeros((m, n * m))
    for i in range(n):
        for j in range(m):
            rows[i, i * m + j] = 1.0
            cols[j, i * m + j] = 1.0
    res = linprog(
        C.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.concatenate([a, b]),
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    assert res.status == 0, res.message
    duals = res.eqlin.marginals
    f, g = duals[:n].copy(), duals[n:].copy()
    shift = (b @ g - a @ f) / (a.sum() + b.sum())
    return LinprogOTResult(float(res.fun), res.x.reshape(n, m), f + shift, g - shift)
