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
