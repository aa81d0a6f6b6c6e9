"""Slow, readable reference implementations used as oracles in the tests.

Each function here is written for clarity, as a direct transcription of the textbook formula
with plain loops or dense numpy, and shares no code with divkit itself.
"""

import math

import numpy as np
from scipy.optimize import linprog


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


def naive_cost_matrix(x, y, metric="euclidean", p=2.0):
    """C[i][j] = d(x_i, y_j), one pair at a time."""
    x = np.atleast_2d(np.asarray(x, dtype=float).T).T if np.ndim(x) == 1 else np.asarray(x, dtype=float)
    y = np.atleast_2d(np.asarray(y, dtype=float).T).T if np.ndim(y) == 1 else np.asarray(y, dtype=float)
    C = np.zeros((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            diffs = [abs(float(s) - float(t)) for s, t in zip(x[i], y[j])]
            if metric == "euclidean":
                C[i, j] = math.sqrt(sum(t * t for t in diffs))
            elif metric == "sqeuclidean":
                C[i, j] = sum(t * t for t in diffs)
            elif metric == "cityblock":
                C[i, j] = sum(diffs)
            elif metric == "chebyshev":
                C[i, j] = max(diffs)
            else:
                C[i, j] = sum(t**p for t in diffs) ** (1.0 / p)
    return C


def naive_transport_lp(a, b, C, allowed=None):
    """Optimal transport cost from a dense LP: variable G[i][j] is column i*m + j; one equality
    row per source (sum_j G_ij = a_i) and per target (sum_i G_ij = b_j), built by loops.
    Arcs with ``allowed[i][j]`` false are fixed to zero flow (and their cost ignored)."""
    a = [float(t) for t in a]
    b = [float(t) for t in b]
    C = np.asarray(C, dtype=float)
    n, m = len(a), len(b)
    A = np.zeros((n + m, n * m))
    for i in range(n):
        for j in range(m):
            A[i, i * m + j] = 1.0
            A[n + j, i * m + j] = 1.0
    # shift and scale the costs into [0, 1] so HiGHS's absolute tolerances are meaningful
    allowed = np.ones((n, m), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    live = C[allowed]
    lo, hi = float(live.min()), float(live.max())
    span = hi - lo if hi > lo else 1.0
    c = [(C[i, j] - lo) / span if allowed[i, j] else 0.0 for i in range(n) for j in range(m)]
    bounds = [(0, None) if allowed[i, j] else (0, 0) for i in range(n) for j in range(m)]
    res = linprog(c, A_eq=A, b_eq=a + b, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    plan = res.x.reshape(n, m)
    return sum(plan[i, j] * C[i, j] for i in range(n) for j in range(m) if allowed[i, j])


def naive_quantile_wasserstein(u, v, u_weights=None, v_weights=None, p=1.0):
    """W_p on the line as int_0^1 |F^-1(t) - G^-1(t)|^p dt, evaluating both quantile functions
    at the midpoint of every interval between consecutive cumulative-weight breakpoints."""
    u = [float(t) for t in u]
    v = [float(t) for t in v]
    uw = [1.0] * len(u) if u_weights is None else [float(t) for t in u_weights]
    vw = [1.0] * len(v) if v_weights is None else [float(t) for t in v_weights]
    su, sv = sum(uw), sum(vw)
    pu = sorted(zip(u, [w / su for w in uw]))
    pv = sorted(zip(v, [w / sv for w in vw]))

    def cumulative(pairs):
        out, acc = [], 0.0
        for _, w in pairs:
            acc += w
            out.append(acc)
        return out

    cu, cv = cumulative(pu), cumulative(pv)

    def quantile(pairs, cum, t):
        for (x, _), c in zip(pairs, cum):
            if t <= c:
                return x
        return pairs[-1][0]

    breaks = sorted(set([0.0] + [min(c, 1.0) for c in cu + cv] + [1.0]))
    total = 0.0
    for lo, hi in zip(breaks[:-1], breaks[1:]):
        if hi > lo:
            t = 0.5 * (lo + hi)
            total += (hi - lo) * abs(quantile(pu, cu, t) - quantile(pv, cv, t)) ** p
    return total ** (1.0 / p)


def naive_sliced_wasserstein(x, y, directions, p=2.0):
    """(mean over unit directions of W_p^p of the projections)^(1/p), one direction at a time."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    terms = []
    for theta in np.asarray(directions, dtype=float):
        theta = theta / math.sqrt(sum(t * t for t in theta))
        terms.append(naive_quantile_wasserstein(x @ theta, y @ theta, p=p) ** p)
    return (sum(terms) / len(terms)) ** (1.0 / p)




# ---------------------------------------------------------------------------------------------
# maximum mean discrepancy
# ---------------------------------------------------------------------------------------------



# ---------------------------------------------------------------------------------------------
# torch adapter
# ---------------------------------------------------------------------------------------------
