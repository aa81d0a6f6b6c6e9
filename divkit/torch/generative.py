r"""FID and KID on tensors, computed where the tensors are (CPU or GPU).

Same definitions, conventions and algorithms as :mod:`divkit.generative` (the numpy side):
:func:`frechet_distance` is ``W_2^2`` between the Gaussians fitted to two feature sets (sample
covariances with ``ddof = 1``), valid for covariances of any rank and computed without
subtracting the traces; :func:`kid` is the subset-averaged unbiased polynomial MMD^2
(torchmetrics' definition). Both compute in float64 by default (``dtype=``), on the device of
the inputs, and return 0-d tensors there. They are evaluation metrics, not losses: the rank
decisions and input checks synchronise with the host a few times per call.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from divkit._validation import renamed_keywords
from divkit.gaussian import NULL_RTOL_PER_DIM, PSD_RTOL, W2_PD_RTOL

from ._checks import (
    as_float_tensor,
    check_finite,
    check_positive_int,
    check_real,
    check_same_device,
)
from ._training import torch_generator

#: Defaults of :func:`kid` (as ``divkit.kid`` and torchmetrics).
KID_N_SUBSETS = 100
KID_SUBSET_SIZE = 1000


def _features(x, name: str, dtype) -> torch.Tensor:
    x = as_float_tensor(x, name)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n samples x d features), got shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError(f"{name} has features of dimension 0 (shape {tuple(x.shape)})")
    if x.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples, got {x.shape[0]}")
    check_finite(x, name)
    return x.to(dtype)


def _feature_pair(x, y, dtype):
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    x = _features(x, "x", dtype)
    y = _features(y, "y", dtype)
    check_same_device(x=x, y=y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same feature dimension, got x of shape {tuple(x.shape)} "
            f"and y of shape {tuple(y.shape)}"
        )
    return x, y


def _moments(x: torch.Tensor):
    mean = x.mean(0)
    centred = x - mean
    return mean, centred.T @ centred / (x.shape[0] - 1)


def _psd_eigh(c: torch.Tensor, name: str):
    """Eigen-decomposition of a symmetric PSD matrix, rounding noise of exact zeros set to 0."""
    w, v = torch.linalg.eigh(c)
    top = w.abs().max()
    if bool(w[0] < -PSD_RTOL * top):
        raise ValueError(f"{name} is not positive semi-definite: smallest eigenvalue {float(w[0])!r}")
    w = torch.where(w <= NULL_RTOL_PER_DIM * w.shape[0] * top, torch.zeros_like(w), w)
    return w, v


def _bures_term(s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """``tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2`` without subtracting traces.

    The two routes of ``divkit.gaussian.w2``: a sum of squares from the Sylvester equation of
    ``T - S1`` when one covariance is well conditioned, else the Procrustes form
    ``||S1^1/2 - S2^1/2 U||_F^2`` at the polar factor ``U`` (Bhatia, Jain & Lim 2019).
    """
    if torch.equal(s1, s2):
        return s1.new_zeros(())
    lam1, v1 = _psd_eigh(s1, "cov1")
    lam2, v2 = _psd_eigh(s2, "cov2")
    cond1 = float(lam1[0] / lam1[-1]) if bool(lam1[-1] > 0) else 0.0
    cond2 = float(lam2[0] / lam2[-1]) if bool(lam2[-1] > 0) else 0.0
    if cond2 > cond1:  # symmetric in its arguments: the better-conditioned covariance first
        s1, s2, lam1, v1, lam2, v2, cond1 = s2, s1, lam2, v2, lam1, v1, cond2
    root1 = (v1 * lam1.sqrt()) @ v1.T
    root2 = (v2 * lam2.sqrt()) @ v2.T
    p, mu, qt = torch.linalg.svd(root2 @ root1)
    if cond1 >= W2_PD_RTOL:
        delta = s2 - s1
        g = ((v1.T @ delta @ v1) * lam1.sqrt()) @ (v1.T @ qt.T)
        w = g / (lam1[:, None] + mu[None, :])
        return (w * w).sum()
    diff = root1 - root2 @ (p @ qt)
    return (diff * diff).sum()


def _power_of_two(*tensors: torch.Tensor) -> float:
    """An exact power of two bringing the largest magnitude into [1, 2) when it is extreme."""
    amax = max(float(t.abs().max()) for t in tensors)
    if amax == 0.0 or 1e-100 <= amax <= 1e100:
        return 1.0
    _, exponent = torch.frexp(torch.tensor(amax, dtype=torch.float64))
    return float(2.0 ** (int(exponent) - 1))


def frechet_distance(x, y, *, dtype=torch.float64) -> torch.Tensor:
    r"""Fréchet distance (FID) ``W_2^2`` between Gaussians fitted to two feature tensors.

    .. math::

        \mathrm{FID} = \|\mu_x-\mu_y\|^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_y
        - 2\operatorname{tr}\big(\Sigma_x^{1/2}\Sigma_y\Sigma_x^{1/2}\big)^{1/2}

    Sample covariances with ``ddof = 1`` (pytorch-fid, torchmetrics); the **squared** distance.
    Covariances of any rank (fewer samples than features, constant features) are handled
    without ``eps * I`` and without subtracting traces, by the same two routes as
    :func:`divkit.gaussian.w2`, with ``torch.linalg.eigh``/``svd`` on the tensors' device.

    Parameters
    ----------
    x : Tensor of shape (n, d)
    y : Tensor of shape (m, d)
        Features, ``n, m >= 2``, on one device.
    dtype : torch.float64 or torch.float32
        Precision of the computation (float64 by default, whatever the input dtype).

    Returns
    -------
    Tensor
        0-d, in ``dtype``, on the inputs' device.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> y = torch.tensor([[0.0, 3.0], [0.0, 5.0]])
    >>> round(frechet_distance(x, y).item(), 12)
    21.0
    """
    x, y = _feature_pair(x, y, dtype)
    scale = _power_of_two(x, y)
    if scale != 1.0:  # exact: FID is homogeneous of degree 2 in the features
        x, y = x / scale, y / scale
    mean_x, cov_x = _moments(x)
    mean_y, cov_y = _moments(y)
    diff = mean_x - mean_y
    return (diff @ diff + _bures_term(cov_x, cov_y)) * (scale * scale)


@dataclass(frozen=True)
class KIDResult:
    """Kernel Inception Distance over random subsets (tensors on the features' device).

    Attributes
    ----------
    mean, std : Tensor
        0-d: mean and population standard deviation (``ddof = 0``) of the subset values.
    values : Tensor of shape (n_subsets,)
        Unbiased MMD^2 per subset.
    indices_x, indices_y : Tensor of shape (n_subsets, subset_size)
        Rows of ``x`` and ``y`` in each subset.
    """

    mean: torch.Tensor
    std: torch.Tensor
    values: torch.Tensor
    indices_x: torch.Tensor
    indices_y: torch.Tensor


def _polynomial_mmd2(x, y, degree, gamma, coef0):
    n, m = x.shape[0], y.shape[0]
    kxx = (gamma * (x @ x.T) + coef0) ** degree
    kyy = (gamma * (y @ y.T) + coef0) ** degree
    kxy = (gamma * (x @ y.T) + coef0) ** degree
    sxx = kxx.sum() - kxx.diagonal().sum()
    syy = kyy.sum() - kyy.diagonal().sum()
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * kxy.sum() / (n * m)


@renamed_keywords(seed="rng")
def kid(
    x,
    y,
    *,
    n_subsets=KID_N_SUBSETS,
    subset_size=KID_SUBSET_SIZE,
    degree=3,
    gamma=None,
    coef0=1.0,
    rng=None,
    dtype=torch.float64,
) -> KIDResult:
    r"""Kernel Inception Distance on tensors: mean over subsets of the unbiased MMD^2 with
    ``k(a, b) = (gamma a.b + coef0)^degree`` (``gamma = 1/d`` by default).

    Same definition as :func:`divkit.kid` and torchmetrics' ``KernelInceptionDistance``
    (Bińkowski et al. 2018): each subset draws ``subset_size`` rows of each sample without
    replacement; ``std`` has ``ddof = 0``. Subsets are drawn with a private CPU generator from
    ``rng``: anything ``numpy.random.default_rng`` accepts (SPEC 7; ``None``, the default, draws
    fresh entropy) or a CPU ``torch.Generator`` (the global RNG is untouched); the kernels run on
    the features' device. ``seed=`` is the deprecated name of ``rng``.

    Returns
    -------
    KIDResult

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(200, 4, generator=g)
    >>> res = kid(x, x + 0.5, n_subsets=5, subset_size=100, rng=0)
    >>> bool(res.mean > 0), tuple(res.values.shape)
    (True, (5,))
    """
    x, y = _feature_pair(x, y, dtype)
    n_subsets = check_positive_int(n_subsets, "n_subsets")
    subset_size = check_positive_int(subset_size, "subset_size", low=2)
    if subset_size > min(x.shape[0], y.shape[0]):
        raise ValueError(
            f"subset_size={subset_size} exceeds the number of samples (x has {x.shape[0]}, y has {y.shape[0]})"
        )
    degree = check_positive_int(degree, "degree")
    gamma = 1.0 / x.shape[1] if gamma is None else check_real(gamma, "gamma", low=0.0, low_open=True)
    coef0 = check_real(coef0, "coef0", low=0.0)
    gen = torch_generator(rng, "cpu")
    idx_x = torch.stack([torch.randperm(x.shape[0], generator=gen)[:subset_size] for _ in range(n_subsets)])
    idx_y = torch.stack([torch.randperm(y.shape[0], generator=gen)[:subset_size] for _ in range(n_subsets)])
    idx_x, idx_y = idx_x.to(x.device), idx_y.to(x.device)
    values = torch.stack(
        [_polynomial_mmd2(x[ix], y[iy], degree, gamma, coef0) for ix, iy in zip(idx_x, idx_y)]
    )
    return KIDResult(values.mean(), values.std(correction=0), values, idx_x, idx_y)


__all__ = ["KIDResult", "frechet_distance", "kid"]
