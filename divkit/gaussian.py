"""Closed forms between multivariate normal distributions.

Each function takes ``(mean1, cov1, mean2, cov2)``. A covariance is either a full ``(d, d)``
symmetric positive-definite matrix or a 1-D array of ``d`` positive variances (a diagonal
covariance); a scalar mean with a scalar variance is a 1-D normal. Diagonal inputs take
O(d) paths. Results are Python floats in nats (natural logarithms).

These are the oracles for divkit's sample-based estimators (critics, MMD, sliced W).

>>> from divkit import gaussian
>>> round(gaussian.kl(0.0, 1.0, 1.0, 1.0), 12)          # N(0,1) vs N(1,1)
0.5
>>> gaussian.w2([0.0, 0.0], [1.0, 4.0], [3.0, 4.0], [1.0, 4.0])  # equal covariances: ||m1 - m2||
5.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._validation import as_float_array, power_of_two_scale

#: Relative tolerance for the symmetry check ``|S - S^T| <= SYMMETRY_RTOL * max|S|``.
SYMMETRY_RTOL = 1e-10


@dataclass(frozen=True)
class _Normal:
    mean: np.ndarray  # (d,)
    cov: np.ndarray  # (d, d) full, or (d,) variances when diagonal
    diagonal: bool
    chol: np.ndarray | None  # lower Cholesky factor of a full covariance

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def full_cov(self) -> np.ndarray:
        return np.diag(self.cov) if self.diagonal else self.cov

    def logdet(self) -> float:
        if self.diagonal:
            return float(np.sum(np.log(self.cov)))
        return float(2.0 * np.sum(np.log(np.diag(self.chol))))


def _normal(mean, cov, mean_name: str, cov_name: str) -> _Normal:
    m = as_float_array(mean, mean_name, ndim=(0, 1))
    m = np.atleast_1d(m)
    d = m.shape[0]
    c = as_float_array(cov, cov_name, ndim=(0, 1, 2))
    if c.ndim == 0:
        c = c.reshape(1)
    if c.ndim == 1:
        if c.shape[0] != d:
            raise ValueError(f"{cov_name} has {c.shape[0]} variances but {mean_name} has dimension {d}")
        if np.any(c <= 0):
            raise ValueError(f"{cov_name} is not positive definite: variances must be > 0, got min {c.min()!r}")
        return _Normal(m, c, True, None)
    if c.shape != (d, d):
        raise ValueError(f"{cov_name} must have shape ({d}, {d}) to match {mean_name}, got {c.shape}")
    scale = float(np.max(np.abs(c)))
    if float(np.max(np.abs(c - c.T))) > SYMMETRY_RTOL * scale:
        raise ValueError(f"{cov_name} is not symmetric")
    c = 0.5 * (c + c.T)
    try:
        chol = scipy.linalg.cholesky(c, lower=True)
    except np.linalg.LinAlgError:
        raise ValueError(f"{cov_name} is not positive definite (Cholesky factorisation failed)") from None
    return _Normal(m, c, False, chol)


def _pair(mean1, cov1, mean2, cov2) -> tuple[_Normal, _Normal]:
    n1 = _normal(mean1, cov1, "mean1", "cov1")
    n2 = _normal(mean2, cov2, "mean2", "cov2")
    if n1.dim != n2.dim:
        raise ValueError(f"mean1 has dimension {n1.dim} but mean2 has dimension {n2.dim}")
    return n1, n2


def kl(mean1, cov1, mean2, cov2) -> float:
    r"""Kullback–Leibler divergence KL(N1 ‖ N2) between two normals, in nats.

    .. math::

        \mathrm{KL} = \tfrac12\Big[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1)
        + (\mu_2-\mu_1)^\top\Sigma_2^{-1}(\mu_2-\mu_1) - d
        + \log\frac{\det\Sigma_2}{\det\Sigma_1}\Big]

    Computed with Cholesky solves (no explicit inverse).

    Parameters
    ----------
    mean1, cov1, mean2, cov2 : array_like
        Means of shape ``(d,)`` and covariances of shape ``(d, d)`` or ``(d,)`` (diagonal).

    Returns
    -------
    float

    Examples
    --------
    >>> round(kl([0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 2.0]), 6)  # 2 * KL(N(0,1) | N(0,2))
    0.193147
    """
    n1, n2 = _pair(mean1, cov1, mean2, cov2)
    diff = n2.mean - n1.mean
    if n1.diagonal and n2.diagonal:
        trace = float(np.sum(n1.cov / n2.cov))
        maha = float(np.sum(diff * diff / n2.cov))
    else:
        chol2 = n2.chol if not n2.diagonal else np.diag(np.sqrt(n2.cov))
        # tr(S2^-1 S1) = ||L2^-1 L1||_F^2 when S1 = L1 L1^T
        l1 = n1.chol if not n1.diagonal else np.diag(np.sqrt(n1.cov))
        a = scipy.linalg.solve_triangular(chol2, l1, lower=True)
        trace = float(np.sum(a * a))
        z = scipy.linalg.solve_triangular(chol2, diff, lower=True)
        maha = float(z @ z)
    value = 0.5 * (trace + maha - n1.dim + n2.logdet() - n1.logdet())
    return max(value, 0.0)


def bhattacharyya(mean1, cov1, mean2, cov2) -> float:
    r"""Bhattacharyya distance D_B = -log BC between two normals, in nats.

    .. math::

        D_B = \tfrac18(\mu_1-\mu_2)^\top\Sigma^{-1}(\mu_1-\mu_2)
        + \tfrac12\log\frac{\det\Sigma}{\sqrt{\det\Sigma_1\det\Sigma_2}},
        \qquad \Sigma = \tfrac12(\Sigma_1+\Sigma_2)

    where BC = ∫ sqrt(p q) is the Bhattacharyya coefficient (Bhattacharyya 1943).

    Examples
    --------
    >>> round(bhattacharyya(0.0, 1.0, 1.0, 1.0), 12)  # (mu1 - mu2)^2 / 8 for unit variances
    0.125
    """
    n1, n2 = _pair(mean1, cov1, mean2, cov2)
    diff = n1.mean - n2.mean
    if n1.diagonal and n2.diagonal:
        s = 0.5 * (n1.cov + n2.cov)
        maha = float(np.sum(diff * diff / s))
        logdet_s = float(np.sum(np.log(s)))
    else:
        s = 0.5 * (n1.full_cov() + n2.full_cov())
        chol = scipy.linalg.cholesky(s, lower=True)  # mean of SPD matrices is SPD
        z = scipy.linalg.solve_triangular(chol, diff, lower=True)
        maha = float(z @ z)
        logdet_s = float(2.0 * np.sum(np.log(np.diag(chol))))
    value = 0.125 * maha + 0.5 * (logdet_s - 0.5 * (n1.logdet() + n2.logdet()))
    return max(value, 0.0)


def squared_hellinger(mean1, cov1, mean2, cov2) -> float:
    r"""Squared Hellinger distance between two normals, f-GAN convention (in [0, 2]).

    .. math:: H^2 = \int(\sqrt p - \sqrt q)^2 = 2\,(1 - \mathrm{BC}) = 2\,(1 - e^{-D_B})

    This is twice the "H^2" of some references (CONVENTIONS.md §1).

    Examples
    --------
    >>> round(squared_hellinger(0.0, 1.0, 1.0, 1.0), 6)  # 2 (1 - exp(-1/8))
    0.235006
    """
    return float(-2.0 * np.expm1(-bhattacharyya(mean1, cov1, mean2, cov2)))


def hellinger(mean1, cov1, mean2, cov2) -> float:
    """Hellinger distance ``sqrt(squared_hellinger)`` between two normals (in [0, sqrt 2])."""
    return float(np.sqrt(squared_hellinger(mean1, cov1, mean2, cov2)))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def w2(mean1, cov1, mean2, cov2) -> float:
    r"""2-Wasserstein distance W_2 (not squared) between two normals (Bures–Wasserstein).

    .. math::

        W_2^2 = \|\mu_1-\mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
        - 2\operatorname{tr}\big(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\big)^{1/2}

    (Dowson & Landau 1982; Givens & Shortt 1984). Diagonal covariances reduce to
    ``||mu1 - mu2||^2 + sum (sigma1 - sigma2)^2``. The cross term is computed from the
    eigenvalues of the symmetric ``Sigma1^{1/2} Sigma2 Sigma1^{1/2}``, clipped at 0.

    Examples
    --------
    >>> round(w2(0.0, 1.0, 1.0, 4.0), 12)  # sqrt(1^2 + (1 - 2)^2)
    1.414213562373
    """
    n1, n2 = _pair(mean1, cov1, mean2, cov2)
    diff = n1.mean - n2.mean
    # W2 is homogeneous: (mu, Sigma) -> (mu / s, Sigma / s^2) divides it by s. An exact
    # power-of-two s keeps Sigma1^1/2 Sigma2 Sigma1^1/2 and ||mu1 - mu2||^2 representable.
    s = power_of_two_scale(diff, np.sqrt(np.abs(n1.cov)), np.sqrt(np.abs(n2.cov)))
    if s != 1.0:
        diff = diff / s
        n1 = dataclasses.replace(n1, cov=n1.cov / (s * s))
        n2 = dataclasses.replace(n2, cov=n2.cov / (s * s))
    mean_term = float(diff @ diff)
    if n1.diagonal and n2.diagonal:
        cov_term = float(np.sum((np.sqrt(n1.cov) - np.sqrt(n2.cov)) ** 2))
    else:
        s1, s2 = n1.full_cov(), n2.full_cov()
        r1 = _psd_sqrt(s1)
        m = r1 @ s2 @ r1
        eig = np.linalg.eigvalsh(0.5 * (m + m.T))
        cross = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
        cov_term = float(np.trace(s1) + np.trace(s2) - 2.0 * cross)
    return s * float(np.sqrt(max(mean_term + max(cov_term, 0.0), 0.0)))


def entropy(mean, cov) -> float:
    r"""Differential entropy of N(mean, cov) in nats: ``1/2 log det(2 pi e Sigma)``.

    Examples
    --------
    >>> round(entropy(0.0, 1.0), 6)  # 1/2 log(2 pi e)
    1.418939
    """
    n = _normal(mean, cov, "mean", "cov")
    return float(0.5 * (n.dim * np.log(2.0 * np.pi * np.e) + n.logdet()))


__all__ = ["kl", "bhattacharyya", "squared_hellinger", "hellinger", "w2", "entropy"]
