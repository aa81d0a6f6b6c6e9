r"""Metrics for generative models computed from features: FID and KID.

Both take feature arrays (one row per sample, e.g. Inception pool features of real and
generated images); no network is involved here.

* :func:`frechet_distance` is the Fréchet (FID) distance: the squared 2-Wasserstein distance
  ``W_2^2`` between the Gaussians fitted to the two feature sets (Heusel et al. 2017). It is
  ``divkit.gaussian.w2(...) ** 2`` on the sample moments, so covariances of any rank are handled
  without regularisation and without subtracting nearly equal traces.
* :func:`kid` is the Kernel Inception Distance: the unbiased MMD^2 with the cubic polynomial
  kernel, averaged over random subsets (Bińkowski et al. 2018), as torchmetrics defines it.

The torch versions (on the tensors' device) are ``divkit.torch.frechet_distance`` and
``divkit.torch.kid``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(500, 3))
>>> round(frechet_distance(x, x), 12)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import gaussian
from ._validation import as_float_array, as_rng, check_int, check_scalar, renamed_keywords

#: Defaults of :func:`kid` (torchmetrics' KernelInceptionDistance: 100 subsets of 1000 samples,
#: kernel (x.y / d + 1)^3).
KID_N_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_DEGREE = 3
KID_COEF0 = 1.0


def _features(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name, ndim=2)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has features of dimension 0 (shape {arr.shape})")
    return arr


def _feature_pair(x, y, min_rows: int):
    x = _features(x, "x")
    y = _features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same feature dimension, got x of shape {x.shape} and y of shape {y.shape}"
        )
    for name, arr in (("x", x), ("y", y)):
        if arr.shape[0] < min_rows:
            raise ValueError(f"{name} needs at least {min_rows} samples, got {arr.shape[0]}")
    return x, y


def feature_moments(x, name: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and covariance (``ddof = 1``, as pytorch-fid and torchmetrics) of features.

    Parameters
    ----------
    x : array_like of shape (n, d)
        ``n >= 2`` samples of ``d`` features.

    Returns
    -------
    mean : ndarray of shape (d,)
    cov : ndarray of shape (d, d)
        ``Xc^T Xc / (n - 1)`` with ``Xc`` the centred features (positive semi-definite, of rank
        at most ``n - 1``).

    Examples
    --------
    >>> mean, cov = feature_moments([[0.0, 1.0], [2.0, 1.0]])
    >>> mean.tolist(), cov.tolist()
    ([1.0, 1.0], [[2.0, 0.0], [0.0, 0.0]])
    """
    arr = _features(x, name)
    if arr.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples for a covariance, got {arr.shape[0]}")
    return _moments(arr)


def _moments(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = arr.mean(axis=0)
    centred = arr - mean
    cov = centred.T @ centred / (arr.shape[0] - 1)
    return mean, cov


def frechet_distance(x, y) -> float:
    r"""Fréchet distance (FID) between two feature sets: ``W_2^2`` of the fitted Gaussians.

    .. math::

        \mathrm{FID} = \|\mu_x-\mu_y\|^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_y
        - 2\operatorname{tr}\big(\Sigma_x^{1/2}\Sigma_y\Sigma_x^{1/2}\big)^{1/2}

    with sample means and covariances (``ddof = 1``), the convention of pytorch-fid and
    torchmetrics (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to
    a local Nash equilibrium"). This is the **squared** distance ``W_2^2``, not ``W_2``.

    Sample covariances are often singular (fewer samples than features, constant "dead"
    features, low-rank features); they are handled exactly, without adding ``eps * I``, by
    :func:`divkit.gaussian.w2`, which never subtracts the traces (see its docstring for the
    accuracy). Computed in float64 whatever the input dtype.

    Parameters
    ----------
    x : array_like of shape (n, d)
    y : array_like of shape (m, d)
        Features of the two samples (``n, m >= 2``), finite.

    Returns
    -------
    float

    See Also
    --------
    frechet_distance_from_moments : the same from means and covariances.

    Examples
    --------
    >>> x = [[0.0, 0.0], [2.0, 0.0]]          # mean (1, 0), covariance diag(2, 0)
    >>> y = [[0.0, 3.0], [0.0, 5.0]]          # mean (0, 4), covariance diag(0, 2)
    >>> round(frechet_distance(x, y), 12)     # 1 + 16 + 2 + 2 (the covariances are orthogonal)
    21.0
    """
    x, y = _feature_pair(x, y, min_rows=2)
    mean_x, cov_x = _moments(x)
    mean_y, cov_y = _moments(y)
    return gaussian.w2(mean_x, cov_x, mean_y, cov_y) ** 2


def frechet_distance_from_moments(mean1, cov1, mean2, cov2) -> float:
    r"""Fréchet distance ``W_2^2`` between ``N(mean1, cov1)`` and ``N(mean2, cov2)``.

    The statistics pytorch-fid stores (``mu``, ``sigma``) can be passed directly. Covariances
    are symmetric positive semi-definite ``(d, d)`` matrices of any rank, or ``(d,)`` variances;
    see :func:`divkit.gaussian.w2`.

    Examples
    --------
    >>> frechet_distance_from_moments([0.0, 0.0], [[4.0, 0.0], [0.0, 0.0]], [0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]])
    1.0
    """
    return gaussian.w2(mean1, cov1, mean2, cov2) ** 2


@dataclass(frozen=True)
class KIDResult:
    """Kernel Inception Distance over random subsets.

    Attributes
    ----------
    mean : float
        Mean over subsets of the unbiased MMD^2 (what is reported as KID).
    std : float
        Population standard deviation (``ddof = 0``) over subsets, as torchmetrics reports it.
    values : ndarray of shape (n_subsets,)
        The unbiased MMD^2 of each subset.
    indices_x, indices_y : ndarray of shape (n_subsets, subset_size)
        Rows of ``x`` and ``y`` in each subset (drawn without replacement within a subset).
    """

    mean: float
    std: float
    values: np.ndarray
    indices_x: np.ndarray
    indices_y: np.ndarray


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray, degree: int, gamma: float, coef0: float) -> float:
    """Unbiased MMD^2 with k(a, b) = (gamma a.b + coef0)^degree (GEMM; exact for this kernel)."""
    n, m = x.shape[0], y.shape[0]
    kxx = (gamma * (x @ x.T) + coef0) ** degree
    kyy = (gamma * (y @ y.T) + coef0) ** degree
    kxy = (gamma * (x @ y.T) + coef0) ** degree
    sxx = kxx.sum() - np.trace(kxx)
    syy = kyy.sum() - np.trace(kyy)
    return float(sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * kxy.sum() / (n * m))


@renamed_keywords(seed="rng")
def kid(
    x,
    y,
    *,
    n_subsets: int = KID_N_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    degree: int = KID_DEGREE,
    gamma=None,
    coef0: float = KID_COEF0,
    rng=None,
) -> KIDResult:
    r"""Kernel Inception Distance: subset-averaged unbiased MMD^2 with a polynomial kernel.

    For each of ``n_subsets`` subsets, ``subset_size`` rows of ``x`` and of ``y`` are drawn
    without replacement and the unbiased (U-statistic) MMD^2 is computed with

    .. math:: k(a, b) = (\gamma\, a^\top b + c_0)^{\text{degree}}, \qquad \gamma = 1/d \text{ by default},

    (Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs"). The mean over
    subsets is the KID; single subsets may be negative (an unbiased estimate of 0 for equal
    distributions). This is torchmetrics' ``KernelInceptionDistance`` definition (its
    ``poly_mmd`` per subset, ``std`` with ``ddof = 0``). Computed in float64.

    Parameters
    ----------
    x : array_like of shape (n, d)
    y : array_like of shape (m, d)
    n_subsets : int, default 100
    subset_size : int, default 1000
        At most ``min(n, m)`` and at least 2.
    degree : int, default 3
    gamma : float, optional
        Default ``1 / d``.
    coef0 : float, default 1.0
    rng : None, int, SeedSequence, BitGenerator or Generator, optional
        Source of the subset draws, anything ``numpy.random.default_rng`` accepts (SPEC 7;
        ``None``, the default, draws fresh entropy). ``seed=`` is its deprecated name.

    Returns
    -------
    KIDResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(200, 4)), rng.normal(0.5, 1.0, size=(200, 4))
    >>> res = kid(x, y, n_subsets=10, subset_size=100, rng=0)
    >>> bool(res.mean > 0.05), res.values.shape
    (True, (10,))
    """
    x, y = _feature_pair(x, y, min_rows=2)
    n_subsets = check_int(n_subsets, "n_subsets", low=1)
    subset_size = check_int(subset_size, "subset_size", low=2)
    if subset_size > min(x.shape[0], y.shape[0]):
        raise ValueError(
            f"subset_size={subset_size} exceeds the number of samples (x has {x.shape[0]}, y has {y.shape[0]})"
        )
    degree = check_int(degree, "degree", low=1)
    gamma = 1.0 / x.shape[1] if gamma is None else check_scalar(gamma, "gamma", low=0.0, low_open=True)
    coef0 = check_scalar(coef0, "coef0", low=0.0)
    gen = as_rng(rng)
    idx_x = np.stack([gen.permutation(x.shape[0])[:subset_size] for _ in range(n_subsets)])
    idx_y = np.stack([gen.permutation(y.shape[0])[:subset_size] for _ in range(n_subsets)])
    values = np.array(
        [_polynomial_mmd2(x[ix], y[iy], degree, gamma, coef0) for ix, iy in zip(idx_x, idx_y)]
    )
    return KIDResult(float(values.mean()), float(values.std()), values, idx_x, idx_y)


__all__ = ["KIDResult", "feature_moments", "frechet_distance", "frechet_distance_from_moments", "kid"]
