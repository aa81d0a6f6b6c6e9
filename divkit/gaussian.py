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
        assert self.chol is not None  # logdet is only used on _normal() results, whose full covariances carry chol
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
        raise ValueError(
            f"{cov_name} is not positive definite (Cholesky factorisation failed): KL and the "
            "Bhattacharyya/Hellinger forms need densities, which a singular (degenerate) normal "
            "does not have; gaussian.w2 accepts positive semi-definite covariances"
        ) from None
    return _Normal(m, c, False, chol)


def _pair(mean1, cov1, mean2, cov2) -> tuple[_Normal, _Normal]:
    n1 = _normal(mean1, cov1, "mean1", "cov1")
    n2 = _normal(mean2, cov2, "mean2", "cov2")
    if n1.dim != n2.dim:
        raise ValueError(f"mean1 has dimension {n1.dim} but mean2 has dimension {n2.dim}")
    return n1, n2


def _x_minus_log1p(x: np.ndarray) -> np.ndarray:
    """x - log1p(x) >= 0 for x > -1, without cancellation near 0: with y = x / (2 + x),
    log1p(x) = 2 atanh(y) and x - 2y = x^2 / (2 + x), so the value is
    x^2 / (2 + x) - 2 (y^3/3 + y^5/5 + ...) (|x| <= 1/8; beyond, the direct form is fine)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) <= 0.125
    xs = np.where(small, x, 0.0)
    y = xs / (2.0 + xs)
    y2 = y * y
    series = 1 / 3 + y2 * (1 / 5 + y2 * (1 / 7 + y2 * (1 / 9 + y2 * (1 / 11 + y2 * (1 / 13 + y2 / 15)))))
    near = xs * xs / (2.0 + xs) - 2.0 * y * y2 * series
    with np.errstate(divide="ignore", invalid="ignore"):
        far = x - np.log1p(x)
    return np.where(small, near, far)


def _relative_eigenvalues(n1: _Normal, n2: _Normal) -> np.ndarray:
    """x_i = nu_i - 1 for the eigenvalues nu_i of S2^-1 S1, from S1 - S2 (exact where the
    entries agree within a factor 2): the eigenvalues of L2^-1 (S1 - S2) L2^-T. Nearly equal
    covariances give small x with all their digits (no tr(S2^-1 S1) - d)."""
    if n1.diagonal and n2.diagonal:
        return (n1.cov - n2.cov) / n2.cov
    chol2 = n2.chol if not n2.diagonal else np.diag(np.sqrt(n2.cov))
    delta = n1.full_cov() - n2.full_cov()
    k = scipy.linalg.solve_triangular(chol2, delta, lower=True)
    k = scipy.linalg.solve_triangular(chol2, k.T, lower=True)
    return np.linalg.eigvalsh(0.5 * (k + k.T))


def kl(mean1, cov1, mean2, cov2) -> float:
    r"""Kullback–Leibler divergence KL(N1 ‖ N2) between two normals, in nats.

    .. math::

        \mathrm{KL} = \tfrac12\Big[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1)
        + (\mu_2-\mu_1)^\top\Sigma_2^{-1}(\mu_2-\mu_1) - d
        + \log\frac{\det\Sigma_2}{\det\Sigma_1}\Big]
        = \tfrac12\Big[(\mu_2-\mu_1)^\top\Sigma_2^{-1}(\mu_2-\mu_1)
        + \sum_i \big(x_i - \log(1 + x_i)\big)\Big]

    where :math:`1 + x_i` are the eigenvalues of :math:`\Sigma_2^{-1}\Sigma_1`. The x_i come from
    :math:`L_2^{-1}(\Sigma_1-\Sigma_2)L_2^{-\top}` (Cholesky, no explicit inverse) and each term
    ``x - log1p(x)`` is evaluated without cancellation, so nearly equal covariances keep their
    digits and identical inputs give exactly 0.

    Covariances must be positive definite: a degenerate normal has no density, and KL between
    normals whose covariances differ in rank, or are singular, is not a finite closed form here
    (``ValueError``; W2 via :func:`w2` is defined for any PSD covariances).

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
    >>> kl([1.0, 2.0], [[2.0, 0.5], [0.5, 1.0]], [1.0, 2.0], [[2.0, 0.5], [0.5, 1.0]])
    0.0
    """
    n1, n2 = _pair(mean1, cov1, mean2, cov2)
    diff = n2.mean - n1.mean
    if n1.diagonal and n2.diagonal:
        maha = float(np.sum(diff * diff / n2.cov))
    else:
        chol2 = n2.chol if not n2.diagonal else np.diag(np.sqrt(n2.cov))
        z = scipy.linalg.solve_triangular(chol2, diff, lower=True)
        maha = float(z @ z)
    x = _relative_eigenvalues(n1, n2)
    value = 0.5 * (maha + float(np.sum(_x_minus_log1p(x))))
    return max(value, 0.0)


def bhattacharyya(mean1, cov1, mean2, cov2) -> float:
    r"""Bhattacharyya distance D_B = -log BC between two normals, in nats.

    .. math::

        D_B = \tfrac18(\mu_1-\mu_2)^\top\Sigma^{-1}(\mu_1-\mu_2)
        + \tfrac12\log\frac{\det\Sigma}{\sqrt{\det\Sigma_1\det\Sigma_2}},
        \qquad \Sigma = \tfrac12(\Sigma_1+\Sigma_2)

    where BC = ∫ sqrt(p q) is the Bhattacharyya coefficient (Bhattacharyya 1943). The log-det
    term is :math:`\tfrac12\sum_i \log\frac{1+\nu_i}{2\sqrt{\nu_i}}
    = \tfrac12\sum_i \operatorname{log1p}\frac{(\sqrt{\nu_i}-1)^2}{2\sqrt{\nu_i}}` over the
    eigenvalues :math:`\nu_i = 1 + x_i` of :math:`\Sigma_2^{-1}\Sigma_1`, with
    :math:`\sqrt{\nu}-1 = x/(1+\sqrt{1+x})`: no cancellation for nearly equal covariances,
    exactly 0 for identical inputs. Positive-definite covariances only (as :func:`kl`).

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
    else:
        s = 0.5 * (n1.full_cov() + n2.full_cov())
        chol = scipy.linalg.cholesky(s, lower=True)  # mean of SPD matrices is SPD
        z = scipy.linalg.solve_triangular(chol, diff, lower=True)
        maha = float(z @ z)
    x = _relative_eigenvalues(n1, n2)
    root = np.sqrt(1.0 + x)
    root_minus_one = x / (1.0 + root)
    logdet_term = float(np.sum(np.log1p(root_minus_one * root_minus_one / (2.0 * root))))
    value = 0.125 * maha + 0.5 * logdet_term
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


#: A covariance passes as positive *semi*-definite (``w2``) when its smallest eigenvalue is at least
#: ``-PSD_RTOL * max|eigenvalue|``: a rank-deficient sample covariance computed in floating point
#: has eigenvalues of order ``-d * 2^-52 * ||S||`` where the exact one has zeros. Those are set to 0.
PSD_RTOL = 1e-10

#: ``w2`` takes its cancellation-free Sylvester route (exact for nearly equal inputs) when one of
#: the covariances has ``lambda_min >= W2_PD_RTOL * lambda_max``; otherwise (singular or worse
#: conditioned) it takes the Procrustes route.
W2_PD_RTOL = 1e-13

#: Eigenvalues in ``[-PSD_RTOL, NULL_RTOL_PER_DIM * d] * max|eigenvalue|`` are rounding noise of
#: an exact zero (a rank-r ``A A^T`` computed in floating point has them) and are set to 0: W2 is
#: only Hölder-1/2 in such eigenvalues (through the square root), so keeping them would shift W2 by
#: ~1e-8 relative from the exact rank-r value.
NULL_RTOL_PER_DIM = 4.0 * np.finfo(np.float64).eps


def _psd_eigh(c: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric PSD matrix, negative rounding noise set to 0."""
    w, v = np.linalg.eigh(c)
    top = float(np.max(np.abs(w)))
    if w[0] < -PSD_RTOL * top:
        raise ValueError(
            f"{name} is not positive semi-definite: smallest eigenvalue {w[0]!r} < -{PSD_RTOL} * {top!r}"
        )
    w = np.where(w <= NULL_RTOL_PER_DIM * len(w) * top, 0.0, w)
    return w, v


def _semidefinite(mean, cov, mean_name: str, cov_name: str) -> _Normal:
    """Like ``_normal`` but accepting positive semi-definite covariances (no Cholesky factor)."""
    m = np.atleast_1d(as_float_array(mean, mean_name, ndim=(0, 1)))
    d = m.shape[0]
    c = as_float_array(cov, cov_name, ndim=(0, 1, 2))
    if c.ndim == 0:
        c = c.reshape(1)
    if c.ndim == 1:
        if c.shape[0] != d:
            raise ValueError(f"{cov_name} has {c.shape[0]} variances but {mean_name} has dimension {d}")
        if np.any(c < 0):
            raise ValueError(f"{cov_name} is not positive semi-definite: variances must be >= 0, got min {c.min()!r}")
        return _Normal(m, c, True, None)
    if c.shape != (d, d):
        raise ValueError(f"{cov_name} must have shape ({d}, {d}) to match {mean_name}, got {c.shape}")
    scale = float(np.max(np.abs(c)))
    if float(np.max(np.abs(c - c.T))) > SYMMETRY_RTOL * scale:
        raise ValueError(f"{cov_name} is not symmetric")
    return _Normal(m, 0.5 * (c + c.T), False, None)


def _w2_cov_term(s1: np.ndarray, s2: np.ndarray) -> float:
    """Bures term ``tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2`` without subtracting traces."""
    if np.array_equal(s1, s2):
        return 0.0
    lam1, v1 = _psd_eigh(s1, "cov1")
    lam2, v2 = _psd_eigh(s2, "cov2")
    cond1 = lam1[0] / lam1[-1] if lam1[-1] > 0 else 0.0  # 0 for singular (noise eigenvalues zeroed)
    cond2 = lam2[0] / lam2[-1] if lam2[-1] > 0 else 0.0
    if cond2 > cond1:  # W2 is symmetric: put the better-conditioned covariance first
        s1, s2, lam1, v1, lam2, v2, cond1 = s2, s1, lam2, v2, lam1, v1, cond2
    root1 = (v1 * np.sqrt(lam1)) @ v1.T  # symmetric PSD square roots
    root2 = (v2 * np.sqrt(lam2)) @ v2.T
    # B = S2^1/2 S1^1/2 = P diag(mu) Q^T: mu are the eigenvalues of T = (S1^1/2 S2 S1^1/2)^1/2 =
    # Q diag(mu) Q^T, taken from an SVD of B (not an eigh of B^T B, which squares the condition number).
    p, mu, qt = np.linalg.svd(root2 @ root1)
    if cond1 >= W2_PD_RTOL:
        # Sylvester route (S1 positive definite). With Delta = S2 - S1 (exact when the entries agree
        # within a factor 2) and Y = T - S1, which solves S1 Y + Y T = S1^1/2 Delta S1^1/2, the
        # first-order part of tr Y is exactly tr(Delta)/2, and what remains is a sum of squares:
        #     W2^2 - |mu1 - mu2|^2 = sum_ij (G_ij / (lambda_i + mu_j))^2,
        #     G = V1^T Delta S1^1/2 Q,  S1 = V1 diag(lambda) V1^T.
        # No trace is subtracted, so nearly equal covariances keep every digit of Delta.
        delta = s2 - s1
        g = (v1.T @ delta @ v1) * np.sqrt(lam1) @ (v1.T @ qt.T)
        w = g / (lam1[:, None] + mu[None, :])
        return float(np.sum(w * w))
    # Procrustes route (both covariances singular or very ill-conditioned): for any factors with
    # S = R R^T, W2^2 - |mu1 - mu2|^2 = min over orthogonal U of ||R1 - R2 U||_F^2, attained at the
    # polar factor U = P Q^T of R2^T R1 (Bures 1969; Bhatia, Jain & Lim 2019). The difference
    # R1 - R2 U is formed directly, so no traces cancel; its accuracy is ~1e-16 * ||S||^1/2 absolute.
    diff = root1 - root2 @ (p @ qt)
    return float(np.sum(diff * diff))


def w2(mean1, cov1, mean2, cov2) -> float:
    r"""2-Wasserstein distance W_2 (not squared) between two normals (Bures–Wasserstein).

    .. math::

        W_2^2 = \|\mu_1-\mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
        - 2\operatorname{tr}\big(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\big)^{1/2}

    (Dowson & Landau 1982; Givens & Shortt 1984). Returns :math:`W_2` itself; ``w2(...)**2`` is
    the Fréchet distance (FID when the normals are fitted to features).

    Covariances may be positive **semi**-definite, of any rank (sample covariances with fewer
    samples than dimensions, constant features): eigenvalues in
    ``[-PSD_RTOL, 4 d 2^-52] * max|eig|`` are taken as rounding noise of an exact zero and set
    to 0 (so a rank-r ``A A^T`` formed in floating point gives the rank-r value); a more negative
    one raises ``ValueError``. Nothing is regularised (no ``eps * I``).

    The traces are never subtracted. When one covariance is well enough conditioned
    (``lambda_min >= W2_PD_RTOL * lambda_max``), with :math:`\Delta = \Sigma_2 - \Sigma_1`,
    :math:`\Sigma_1 = V\Lambda V^\top` and :math:`\Sigma_2^{1/2}\Sigma_1^{1/2} = P\,\mathrm{diag}(m)\,Q^\top`,

    .. math:: W_2^2 = \|\mu_1-\mu_2\|^2 + \sum_{ij} \Big(\frac{(V^\top\Delta\,\Sigma_1^{1/2}Q)_{ij}}{\lambda_i + m_j}\Big)^2,

    a sum of squares that keeps the digits of :math:`\Delta` for nearly equal covariances
    (relative error ~1e-15 times a modest function of the condition number, independent of how
    close the inputs are). Otherwise the Procrustes form
    :math:`\min_U \|\Sigma_1^{1/2} - \Sigma_2^{1/2} U\|_F^2` (U orthogonal, the polar factor) is
    evaluated directly: absolute accuracy ~1e-16 times :math:`\|\Sigma\|^{1/2}`. Identical
    inputs give exactly 0. Diagonal covariances use ``sum ((s1 - s2) / (sqrt s1 + sqrt s2))^2``.

    Examples
    --------
    >>> round(w2(0.0, 1.0, 1.0, 4.0), 12)  # sqrt(1^2 + (1 - 2)^2)
    1.414213562373
    >>> w2([1.0, 2.0], [[2.0, 1.0], [1.0, 0.5]], [1.0, 2.0], [[2.0, 1.0], [1.0, 0.5]])  # identical, singular
    0.0
    >>> round(w2([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]], [0.0, 0.0], [[0.0, 0.0], [0.0, 1.0]]), 12)  # rank 1
    1.414213562373
    """
    n1 = _semidefinite(mean1, cov1, "mean1", "cov1")
    n2 = _semidefinite(mean2, cov2, "mean2", "cov2")
    if n1.dim != n2.dim:
        raise ValueError(f"mean1 has dimension {n1.dim} but mean2 has dimension {n2.dim}")
    diff = n1.mean - n2.mean
    # W2 is homogeneous: (mu, Sigma) -> (mu / s, Sigma / s^2) divides it by s. An exact
    # power-of-two s keeps Sigma1^1/2 Sigma2 Sigma1^1/2 and ||mu1 - mu2||^2 representable.
    s = power_of_two_scale(diff, np.sqrt(np.abs(n1.cov)), np.sqrt(np.abs(n2.cov)))
    c1, c2 = n1.cov, n2.cov
    if s != 1.0:
        diff, c1, c2 = diff / s, c1 / (s * s), c2 / (s * s)
    mean_term = float(diff @ diff)
    if n1.diagonal and n2.diagonal:
        denom = np.sqrt(c1) + np.sqrt(c2)
        root_diff = np.divide(c1 - c2, denom, out=np.zeros_like(denom), where=denom > 0)
        cov_term = float(np.sum(root_diff * root_diff))
    else:
        c1 = np.diag(c1) if n1.diagonal else c1
        c2 = np.diag(c2) if n2.diagonal else c2
        cov_term = _w2_cov_term(c1, c2)
    return s * float(np.sqrt(mean_term + cov_term))


def entropy(mean, cov) -> float:
    r"""Differential entropy of N(mean, cov) in nats: ``1/2 log det(2 pi e Sigma)``.

    Examples
    --------
    >>> round(entropy(0.0, 1.0), 6)  # 1/2 log(2 pi e)
    1.418939
    """
    n = _normal(mean, cov, "mean", "cov")
    return float(0.5 * (n.dim * np.log(2.0 * np.pi * np.e) + n.logdet()))


__all__ = ["bhattacharyya", "entropy", "hellinger", "kl", "squared_hellinger", "w2"]
