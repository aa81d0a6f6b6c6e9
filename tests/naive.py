"""Slow, readable reference implementations used as oracles in the tests.

Each function here is written for clarity, as a direct transcription of the textbook formula
with plain loops or dense numpy, and shares no code with divkit itself.
"""

import math

import numpy as np


# ---------------------------------------------------------------------------------------------
# f-divergences and closed forms on histograms
# ---------------------------------------------------------------------------------------------


def naive_kl(p, q):
    """sum p log(p/q) with 0 log 0 = 0 and p > 0 = q giving inf."""
    total = 0.0
    for pi, qi in zip(p, q):
        if pi == 0:
            continue
        if qi == 0:
            return math.inf
        total += pi * math.log(pi / qi)
    return total


def naive_js(p, q):
    m = [(pi + qi) / 2 for pi, qi in zip(p, q)]
    return 0.5 * naive_kl(p, m) + 0.5 * naive_kl(q, m)


def naive_tv(p, q):
    return 0.5 * sum(abs(pi - qi) for pi, qi in zip(p, q))


def naive_squared_hellinger(p, q):
    bc = sum(math.sqrt(pi * qi) for pi, qi in zip(p, q))
    return 2.0 * (1.0 - bc)


def naive_hellinger(p, q):
    return math.sqrt(sum((math.sqrt(pi) - math.sqrt(qi)) ** 2 for pi, qi in zip(p, q)))


def naive_pearson_chi2(p, q):
    total = 0.0
    for pi, qi in zip(p, q):
        if qi == 0:
            if pi > 0:
                return math.inf
            continue
        total += (pi - qi) ** 2 / qi
    return total


def naive_neyman_chi2(p, q):
    return naive_pearson_chi2(q, p)


def naive_jeffreys(p, q):
    return naive_kl(p, q) + naive_kl(q, p)


def naive_entropy(p):
    return -sum(pi * math.log(pi) for pi in p if pi > 0)


def naive_cross_entropy(p, q):
    total = 0.0
    for pi, qi in zip(p, q):
        if pi == 0:
            continue
        if qi == 0:
            return math.inf
        total -= pi * math.log(qi)
    return total


def naive_f_divergence(p, q, f, f_at_zero, slope_at_infinity):
    """sum q f(p/q) bin by bin, with the zero-mass limits written out."""
    total = 0.0
    for pi, qi in zip(p, q):
        if pi > 0 and qi > 0:
            total += qi * f(pi / qi)
        elif pi > 0:
            total += pi * slope_at_infinity
        elif qi > 0:
            total += qi * f_at_zero
    return total


def naive_max(h, low, high, points=4001):
    """max of a vectorised function over [low, high]: a dense grid, then two rounds of finer
    grids around the best point. Knows nothing about conjugates or convexity."""
    for _ in range(3):
        grid = np.linspace(low, high, points)
        with np.errstate(all="ignore"):
            values = np.asarray(h(grid), dtype=float)
        values = np.where(np.isnan(values), -np.inf, values)
        k = int(np.argmax(values))
        best = float(values[k])
        low, high = grid[max(k - 1, 0)], grid[min(k + 1, points - 1)]
    return best


# ---------------------------------------------------------------------------------------------
# Gaussian closed forms
# ---------------------------------------------------------------------------------------------


def gaussian_kl(m1, S1, m2, S2):
    """KL(N1 || N2) from the textbook formula with an explicit inverse and determinants."""
    m1, m2 = np.atleast_1d(np.asarray(m1, float)), np.atleast_1d(np.asarray(m2, float))
    S1, S2 = np.atleast_2d(np.asarray(S1, float)), np.atleast_2d(np.asarray(S2, float))
    d = len(m1)
    S2inv = np.linalg.inv(S2)
    diff = m2 - m1
    return 0.5 * (
        np.trace(S2inv @ S1) + diff @ S2inv @ diff - d + math.log(np.linalg.det(S2) / np.linalg.det(S1))
    )


def gaussian_w2(m1, S1, m2, S2):
    """W2 from tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2) with scipy's general sqrtm."""
    import scipy.linalg

    m1, m2 = np.atleast_1d(np.asarray(m1, float)), np.atleast_1d(np.asarray(m2, float))
    S1, S2 = np.atleast_2d(np.asarray(S1, float)), np.atleast_2d(np.asarray(S2, float))
    r1 = scipy.linalg.sqrtm(S1).real
    cross = scipy.linalg.sqrtm(r1 @ S2 @ r1).real
    w2sq = np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * np.trace(cross)
    return math.sqrt(max(w2sq, 0.0))


def gaussian_bhattacharyya(m1, S1, m2, S2):
    """Bhattacharyya distance with an explicit inverse and determinants."""
    m1, m2 = np.atleast_1d(np.asarray(m1, float)), np.atleast_1d(np.asarray(m2, float))
    S1, S2 = np.atleast_2d(np.asarray(S1, float)), np.atleast_2d(np.asarray(S2, float))
    S = (S1 + S2) / 2
    diff = m1 - m2
    return diff @ np.linalg.inv(S) @ diff / 8 + 0.5 * math.log(
        np.linalg.det(S) / math.sqrt(np.linalg.det(S1) * np.linalg.det(S2))
    )



# ---------------------------------------------------------------------------------------------
# optimal transport
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# maximum mean discrepancy
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# torch adapter
# ---------------------------------------------------------------------------------------------
