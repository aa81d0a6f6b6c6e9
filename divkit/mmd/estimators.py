"""MMD^2 estimators and the energy distance.

For samples ``x_1..x_n ~ P`` and ``y_1..y_m ~ Q`` and a kernel ``k`` (Gretton et al. 2012):

* biased (V-statistic): ``1/n^2 sum_ij k(x_i,x_j) + 1/m^2 sum_ij k(y_i,y_j)
  - 2/(nm) sum_ij k(x_i,y_j)``, >= 0 for the positive definite kernels offered here;
* unbiased (U-statistic): the same with the diagonal ``i = j`` left out of the two self terms
  (normalised by ``n(n-1)`` and ``m(m-1)``); it may be negative, which is correct;
* linear: with ``p = floor(min(n, m) / 2)``, the mean over ``i < p`` of
  ``h_i = k(x_2i, x_2i+1) + k(y_2i, y_2i+1) - k(x_2i, y_2i+1) - k(x_2i+1, y_2i)``
  (0-based rows; points beyond ``2p`` are not used).
"""

from __future__ import annotations

import numpy as np

from divkit._validation import as_rng, check_bool, power_of_two_scale, probability_weights, renamed_keywords
from divkit.distributed import dask_dispatch, is_dask_array
from divkit.mmd.kernels import (
    MEDIAN_MAX_POINTS,
    KernelSpec,
    as_sample_pair,
    kernel_sum,
    paired_kernel,
    resolve_kernel_rescaled,
)

ESTIMATORS = ("unbiased", "biased", "linear")


def check_estimator(estimator) -> str:
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    return estimator


def check_sizes(estimator: str, n: int, m: int) -> None:
    if estimator == "unbiased":
        for name, size in (("x", n), ("y", m)):
            if size < 2:
                raise ValueError(f"the unbiased estimator needs at least 2 points in {name}, "
                                 f"got {size}")
    elif estimator == "linear" and min(n, m) < 2:
        raise ValueError(f"the linear estimator needs at least 2 points in x and in y, got "
                         f"{n} and {m}")


def check_representable(value: float) -> float:
    """Refuse a NaN statistic: kernel sums of order 1e308 overflowed (polynomial and linear
    kernels are not rescaled, as their value depends on the scale of the points)."""
    if np.isnan(value):
        raise FloatingPointError(
            "MMD^2 is not representable in float64 here (kernel sums overflowed to inf - inf); "
            "rescale x and y"
        )
    return value


def _biased(spec: KernelSpec, X, Y, a=None, b=None) -> float:
    n, m = X.shape[0], Y.shape[0]
    if a is None and b is None:
        value = (kernel_sum(spec, X) / (n * n) + kernel_sum(spec, Y) / (m * m)
                 - 2.0 * kernel_sum(spec, X, Y) / (n * m))
    else:
        a = np.full(n, 1.0 / n) if a is None else a
        b = np.full(m, 1.0 / m) if b is None else b
        value = kernel_sum(spec, X, None, a) + kernel_sum(spec, Y, None, b) \
            - 2.0 * kernel_sum(spec, X, Y, a, b)
    # the V-statistic is a squared RKHS norm (or an energy distance): negatives are rounding
    return max(value, 0.0)


def _unbiased(spec: KernelSpec, X, Y) -> float:
    n, m = X.shape[0], Y.shape[0]
    sxx = kernel_sum(spec, X) - float(spec.diagonal(X).sum())
    syy = kernel_sum(spec, Y) - float(spec.diagonal(Y).sum())
    sxy = kernel_sum(spec, X, Y)
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (n * m)


def linear_terms(spec: KernelSpec, X, Y) -> np.ndarray:
    p = min(X.shape[0], Y.shape[0]) // 2
    x0, x1 = X[0:2 * p:2], X[1:2 * p:2]
    y0, y1 = Y[0:2 * p:2], Y[1:2 * p:2]
    return (paired_kernel(spec, x0, x1) + paired_kernel(spec, y0, y1)
            - paired_kernel(spec, x0, y1) - paired_kernel(spec, x1, y0))


@renamed_keywords(x_weights="a", y_weights="b", median_seed="rng")
def mmd2(
    x,
    y,
    kernel: str = "gaussian",
    bandwidth=1.0,
    *,
    estimator: str = "unbiased",
    kernel_weights=None,
    a=None,
    b=None,
    gamma=None,
    coef0: float = 1.0,
    degree: int = 3,
    median_max_points: int = MEDIAN_MAX_POINTS,
    rng=None,
    normalize: bool = False,
) -> float:
    r"""Squared maximum mean discrepancy MMD^2 between two samples.

    ``MMD^2(P, Q) = E k(X, X') + E k(Y, Y') - 2 E k(X, Y)``, estimated by

    * ``"biased"``: the V-statistic
      :math:`\frac{1}{n^2}\sum_{i,j} k(x_i,x_j) + \frac{1}{m^2}\sum_{i,j} k(y_i,y_j)
      - \frac{2}{nm}\sum_{i,j} k(x_i,y_j)` (>= 0; with weights ``a``, ``b`` the
      uniform masses are replaced by the given probability weights);
    * ``"unbiased"``: the U-statistic, the self terms without ``i = j`` over ``n(n-1)`` and
      ``m(m-1)`` pairs; its expectation is exactly MMD^2, so it is negative for some samples
      (kept: clipping would bias it);
    * ``"linear"``: Gretton et al.'s linear-time statistic, the mean of
      ``h_i = k(x_2i, x_2i+1) + k(y_2i, y_2i+1) - k(x_2i, y_2i+1) - k(x_2i+1, y_2i)`` over
      ``i < floor(min(n, m)/2)`` (0-based; unbiased, O(n) kernel evaluations).

    The quadratic estimators never store a kernel matrix: numba kernels sum blocks of 512 x 512
    kernel values in parallel (memory O((n + m) d) plus one 2 MiB block buffer per thread).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Samples (rows are points); 1-D input means d = 1. float32 and integers are accepted;
        computation is in float64.
    kernel : str, default "gaussian"
        One of ``"gaussian"`` exp(-||r||^2/(2 sigma^2)), ``"laplacian"`` exp(-||r||_1/sigma),
        ``"laplacian_l2"`` exp(-||r||_2/sigma), ``"imq"`` (1 + ||r||^2/sigma^2)^(-1/2),
        ``"polynomial"`` (gamma <x,y> + coef0)^degree, ``"linear"`` <x,y>, ``"energy"``
        -||r||_2 (with ``r = x - y``; see :mod:`divkit.mmd.kernels`).
    bandwidth : float, sequence of float or "median", default 1.0
        sigma (> 0). A sequence gives the mixture ``sum_l w_l k_{sigma_l}``; ``"median"`` uses
        :func:`~divkit.mmd.median_bandwidth` on the pooled sample. Ignored by the kernels
        without a bandwidth (polynomial, linear, energy), which refuse a list or "median".
    estimator : {"unbiased", "biased", "linear"}, default "unbiased"
    kernel_weights : array_like, optional
        Non-negative weights of a bandwidth mixture (default all 1).
    a, b : array_like, optional
        Probability weights of the points of ``x`` and ``y`` (non-negative, summing to 1 within
        ``SUM_ATOL``); biased estimator only. ``x_weights=``, ``y_weights=`` are their
        deprecated names. Weights that do not sum to 1 raise ``ValueError`` unless
        ``normalize=True`` (the rule of the divergences; docs/conventions.md).
    gamma, coef0, degree : polynomial kernel parameters
        Defaults ``gamma = 1/d``, ``coef0 = 1``, ``degree = 3`` (the KID kernel); ``gamma > 0``
        and ``coef0 >= 0`` keep the kernel positive definite.
    median_max_points : int, default 2000
        Pooled points used by ``bandwidth="median"`` (a seeded subsample beyond that).
    rng : None, int, SeedSequence, BitGenerator or Generator, optional
        Source of the median heuristic's subsample (``bandwidth="median"`` with more than
        ``median_max_points`` pooled points; otherwise unused), anything
        ``numpy.random.default_rng`` accepts (SPEC 7; ``None``, the default, draws fresh
        entropy: pass an int for a reproducible bandwidth). ``median_seed=`` is its deprecated
        name (its default was 0).
    normalize : bool, default False
        Divide each weight vector by its total first (as scipy's ``energy_distance`` and
        ``wasserstein_distance`` always do).

    Returns
    -------
    float
        The estimate of MMD^2 (not MMD).

    Raises
    ------
    ValueError
        Dimension mismatch, NaN or inf, fewer than 2 points for the unbiased or linear
        estimator, bandwidth <= 0, unknown kernel or estimator, weights not summing to 1.

    References
    ----------
    A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf, A. Smola, "A kernel two-sample
    test", JMLR 13:723-773 (2012), eqs. (2), (3) and Lemma 14 (linear statistic).

    Examples
    --------
    >>> import numpy as np
    >>> from divkit import mmd2
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> y = rng.normal(size=(300, 2)) + 1.0
    >>> round(mmd2(x, y, bandwidth=1.0), 3)  # closed form for these Gaussians: 0.189
    0.198
    >>> mmd2(x, y, estimator="biased") > mmd2(x, y, estimator="unbiased")
    True
    """
    if is_dask_array(x) or is_dask_array(y):  # chunked samples: kernel sums block by block
        return dask_dispatch("mmd2", locals())
    X, Y = as_sample_pair(x, y)
    estimator = check_estimator(estimator)
    check_sizes(estimator, X.shape[0], Y.shape[0])
    normalize = check_bool(normalize, "normalize")
    a = probability_weights(a, X.shape[0], "a", normalize=normalize)
    b = probability_weights(b, Y.shape[0], "b", normalize=normalize)
    if (a is not None or b is not None) and estimator != "biased":
        raise ValueError(f"weights a / b are supported by estimator='biased' only, got estimator={estimator!r}")
    spec, X, Y, _, value_scale = resolve_kernel_rescaled(
        kernel, bandwidth, X, Y, kernel_weights=kernel_weights, gamma=gamma, coef0=coef0,
        degree=degree, median_max_points=median_max_points, rng=as_rng(rng))
    if estimator == "biased":
        value = _biased(spec, X, Y, a, b)
    elif estimator == "unbiased":
        value = float(_unbiased(spec, X, Y))
    else:
        value = float(np.mean(linear_terms(spec, X, Y)))
    return check_representable(value_scale * value)


@renamed_keywords(x_weights="a", y_weights="b")
def energy_distance(x, y, *, a=None, b=None, normalize=False) -> float:
    r"""Energy distance ``2 E||X - Y|| - E||X - X'|| - E||Y - Y'||`` between two samples.

    This is the squared form (Székely and Rizzo), equal to the biased MMD^2 with the distance
    kernel ``k(x, y) = -||x - y||_2``, computed on the empirical (optionally weighted)
    distributions, Euclidean norm in any dimension. It is >= 0 and 0 only for equal
    empirical distributions.

    ``scipy.stats.energy_distance`` (1-D only) returns the square root of this quantity:
    ``energy_distance(u, v) == scipy.stats.energy_distance(u, v) ** 2``.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Samples; 1-D input means d = 1.
    a, b : array_like, optional
        Probability weights of the points of ``x`` and ``y`` (non-negative, summing to 1 within
        ``SUM_ATOL``; scipy's ``u_weights``, ``v_weights``). ``x_weights=``, ``y_weights=`` are
        their deprecated names.
    normalize : bool, default False
        Divide each weight vector by its total first; without it, weights that do not sum
        to 1 raise ``ValueError`` (docs/conventions.md, "Weights and normalisation"; scipy
        normalises silently).

    Returns
    -------
    float

    References
    ----------
    G. J. Székely, M. L. Rizzo, "Energy statistics: a class of statistics based on distances",
    J. Stat. Plan. Inference 143 (2013). D. Sejdinovic et al., "Equivalence of distance-based
    and RKHS-based statistics in hypothesis testing", Ann. Statist. 41 (2013).

    Examples
    --------
    >>> from divkit import energy_distance
    >>> energy_distance([0.0], [1.0])  # 2*1 - 0 - 0
    2.0
    >>> energy_distance([0.0, 1.0], [0.0, 2.0])  # 2*1 - 0.5 - 1
    0.5
    """
    if is_dask_array(x) or is_dask_array(y):  # chunked samples: kernel sums block by block
        return dask_dispatch("energy_distance", locals())
    X, Y = as_sample_pair(x, y)
    normalize = check_bool(normalize, "normalize")
    a = probability_weights(a, X.shape[0], "a", normalize=normalize)
    b = probability_weights(b, Y.shape[0], "b", normalize=normalize)
    scale = power_of_two_scale(X, Y)  # homogeneous of degree 1: exact power-of-two rescaling
    return check_representable(scale * _biased(KernelSpec("energy"), X / scale, Y / scale, a, b))


__all__ = ["ESTIMATORS", "energy_distance", "mmd2"]
