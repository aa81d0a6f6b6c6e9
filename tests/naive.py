"""Slow, readable reference implementations used as oracles in the tests.

Each function here is written for clarity, as a direct transcription of the textbook formula
with plain loops or dense numpy, and shares no code with divkit itself.
"""

import itertools
import math

import numpy as np
from scipy.optimize import linprog, minimize_scalar

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
    # presolve off: HiGHS's presolve calls problems with masses near 1e-11 next to a zero-mass
    # target infeasible (measured); the plain simplex solves them
    res = linprog(c, A_eq=A, b_eq=a + b, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10,
                           "presolve": False})
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



def transport_lp_primal(a, b, C):
    """Exact OT cost by the primal LP min <G, C> s.t. G 1 = a, G^T 1 = b, G >= 0, with the
    equality constraints written out entry by entry, solved by HiGHS at tight tolerances."""
    from scipy.optimize import linprog

    n, m = len(a), len(b)
    A_eq = np.zeros((n + m, n * m))
    for i in range(n):
        for j in range(m):
            A_eq[i, i * m + j] = 1.0
            A_eq[n + j, i * m + j] = 1.0
    cost = np.array([C[i][j] for i in range(n) for j in range(m)], dtype=float)
    rhs = np.concatenate([np.asarray(a, float), np.asarray(b, float)])
    res = linprog(cost, A_eq=A_eq, b_eq=rhs, bounds=(0, None), method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return float(res.fun)


def transport_lp_dual(a, b, C):
    """Exact OT cost by the Kantorovich dual max <a, f> + <b, g> s.t. f_i + g_j <= C_ij, one
    inequality row per pair (i, j), solved by HiGHS."""
    from scipy.optimize import linprog

    n, m = len(a), len(b)
    A_ub = np.zeros((n * m, n + m))
    rhs = np.zeros(n * m)
    for i in range(n):
        for j in range(m):
            A_ub[i * m + j, i] = 1.0
            A_ub[i * m + j, n + j] = 1.0
            rhs[i * m + j] = C[i][j]
    obj = -np.concatenate([np.asarray(a, float), np.asarray(b, float)])
    res = linprog(obj, A_ub=A_ub, b_ub=rhs, bounds=(None, None), method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return float(-res.fun)


def transport_cost_by_enumeration(C):
    """Uniform n-to-n OT is an assignment problem (Birkhoff): brute force over permutations."""
    n = len(C)
    best = math.inf
    for perm in itertools.permutations(range(n)):
        best = min(best, sum(C[i][perm[i]] for i in range(n)) / n)
    return best



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
# Everything below is numpy/scipy only (no divkit, no torch): oracles for divkit.torch.



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


def naive_mmd2_loops(x, y, kind="gaussian", sigma=1.0, estimator="unbiased"):
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
