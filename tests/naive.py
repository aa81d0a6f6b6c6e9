"""Slow, readable reference implementations used as oracles in the tests.

Each function here is written for clarity, as a direct transcription of the textbook formula
with plain loops or dense numpy, and shares no code with divkit itself.
"""

import itertools
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



# ---------------------------------------------------------------------------------------------
# torch adapter
# ---------------------------------------------------------------------------------------------
