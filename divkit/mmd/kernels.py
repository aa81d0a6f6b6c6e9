"""Kernel specifications for MMD: names, exact formulas, bandwidths and their validation.

With ``r = x - y`` and ``sigma`` the bandwidth:

==================  ============================================  =========================
name                k(x, y)                                       parameters
==================  ============================================  =========================
``"gaussian"``      exp(-||r||_2^2 / (2 sigma^2))                 bandwidth sigma
``"laplacian"``     exp(-||r||_1 / sigma)  (L1, as scikit-learn)  bandwidth sigma
``"laplacian_l2"``  exp(-||r||_2 / sigma)                         bandwidth sigma
``"imq"``           (1 + ||r||_2^2 / sigma^2)^(-1/2)              bandwidth sigma
``"polynomial"``    (gamma <x, y> + coef0)^degree                 gamma=1/d, coef0=1, deg 3
``"linear"``        <x, y>                                        none
``"energy"``        -||r||_2  (the distance kernel)               none
==================  ============================================  =========================

A bandwidth given as a list (or 1-D array) of sigmas means the non-negative mixture
``sum_l w_l k_sigma_l`` with unit weights unless ``kernel_weights`` is given. ``"median"``
means Gretton et al.'s heuristic ``sigma^2 = median(||z - z'||^2) / 2`` over the distinct pairs
of the pooled sample (see :func:`median_bandwidth`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field

import numba
import numpy as np

from divkit._validation import (
    as_float_array,
    as_points,
    as_rng,
    check_int,
    check_scalar,
    power_of_two_scale,
    renamed_keywords,
)
from divkit.mmd import _kernels as _k

#: kernel name -> integer code understood by the numba kernels
KERNEL_CODES = {
    "gaussian": _k.GAUSSIAN,
    "laplacian": _k.LAPLACIAN,
    "laplacian_l2": _k.LAPLACIAN_L2,
    "imq": _k.IMQ,
    "polynomial": _k.POLYNOMIAL,
    "linear": _k.LINEAR,
    "energy": _k.ENERGY,
}
KERNELS = tuple(KERNEL_CODES)
#: kernels that take a bandwidth
BANDWIDTH_KERNELS = ("gaussian", "laplacian", "laplacian_l2", "imq")
#: kernels for which k(x, y) depends on x - y only (the points may be re-centred)
_TRANSLATION_INVARIANT = ("gaussian", "laplacian", "laplacian_l2", "imq", "energy")

#: default number of pooled points the median heuristic looks at (all pairs among them)
MEDIAN_MAX_POINTS = 2000


@dataclass(frozen=True, eq=False)
class KernelSpec:
    """A validated kernel: name, resolved bandwidths and mixture weights, polynomial params.

    ``bandwidths`` is empty for kernels without a bandwidth.
    """

    name: str
    bandwidths: np.ndarray = field(default_factory=lambda: np.empty(0))
    weights: np.ndarray = field(default_factory=lambda: np.empty(0))
    gamma: float = 1.0
    coef0: float = 1.0
    degree: int = 3

    @property
    def code(self) -> int:
        return KERNEL_CODES[self.name]

    @property
    def base_kind(self) -> int:
        if self.name == "laplacian":
            return _k.BASE_L1
        if self.name in ("polynomial", "linear"):
            return _k.BASE_DOT
        return _k.BASE_SQDIST

    @property
    def inv_scales(self) -> np.ndarray:
        """The factor applied to the base quantity for each bandwidth (see _kernels)."""
        s = self.bandwidths
        with np.errstate(over="ignore", divide="ignore"):
            if self.name == "gaussian":
                return 1.0 / (2.0 * s * s)
            if self.name == "imq":
                return 1.0 / (s * s)
            if self.name in ("laplacian", "laplacian_l2"):
                return 1.0 / s
        return np.ones(1)

    @property
    def mixture_weights(self) -> np.ndarray:
        return self.weights if self.weights.size else np.ones(1)

    @property
    def bandwidth_used(self):
        """float for one bandwidth, tuple for a mixture, None for kernels without one."""
        if self.bandwidths.size == 0:
            return None
        if self.bandwidths.size == 1:
            return float(self.bandwidths[0])
        return tuple(float(s) for s in self.bandwidths)

    def diagonal(self, X: np.ndarray) -> np.ndarray:
        """k(x_i, x_i) for every row of X."""
        n = X.shape[0]
        if self.name == "energy":
            return np.zeros(n)
        if self.name in BANDWIDTH_KERNELS:
            return np.full(n, float(self.mixture_weights.sum()))
        sq = np.einsum("ij,ij->i", X, X)
        if self.name == "linear":
            return sq
        return (self.gamma * sq + self.coef0) ** self.degree


def _is_bandwidth_list(bandwidth) -> bool:
    return isinstance(bandwidth, (list, tuple, np.ndarray)) and np.ndim(bandwidth) >= 1


@renamed_keywords(seed="rng")
def median_bandwidth(x, y=None, *, max_points: int = MEDIAN_MAX_POINTS, rng=None) -> float:
    """Gretton et al.'s median heuristic bandwidth for the pooled sample.

    ``sigma = sqrt(median(||z_i - z_j||_2^2) / 2)`` over the distinct pairs ``i < j`` of the
    pooled points ``z`` (rows of ``x`` then ``y``), so that the Gaussian kernel becomes
    ``exp(-||r||^2 / median(||z - z'||^2))``. When there are more than ``max_points`` pooled
    points, the median is taken over all pairs of a uniform subsample of ``max_points`` of
    them, drawn without replacement from ``rng``; below that size the result is exact and does
    not depend on ``rng``.

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        The two samples (``y`` optional); 1-D input means d = 1.
    max_points : int, default 2000
        Subsample size for large samples (at least 2).
    rng : None, int, SeedSequence, BitGenerator or Generator, optional
        Source of the subsample, anything ``numpy.random.default_rng`` accepts (SPEC 7; the
        default ``None`` draws fresh entropy, so above ``max_points`` pass an int for a
        reproducible bandwidth). ``seed=`` is its deprecated name (its default was 0).

    Returns
    -------
    float
        The bandwidth ``sigma`` (> 0).

    References
    ----------
    A. Gretton, K. Borgwardt, M. Rasch, B. Schölkopf, A. Smola, "A kernel two-sample test",
    JMLR 13 (2012). Garreau, Jitkrittum, Kanagawa, "Large sample analysis of the median
    heuristic", arXiv:1707.07269.

    Examples
    --------
    >>> from divkit.mmd import median_bandwidth
    >>> round(median_bandwidth([0.0, 1.0, 3.0]), 6)  # median of {1, 9, 4} is 4: sqrt(4/2)
    1.414214
    """
    if y is None:
        X = as_points(x, "x")
        Z = X
    else:
        X, Y = as_sample_pair(x, y)
        Z = np.concatenate([X, Y])
    max_points = check_int(max_points, "max_points", low=2)
    gen = as_rng(rng)  # validated even when the sample is small enough not to need it
    if Z.shape[0] < 2:
        raise ValueError("the median heuristic needs at least 2 pooled points")
    if Z.shape[0] > max_points:
        Z = Z[np.sort(gen.choice(Z.shape[0], size=max_points, replace=False))]
    scale = power_of_two_scale(Z)  # squared distances of 1e200 overflow, of 1e-200 underflow
    med = float(np.median(_k.pairwise_sqdist_upper(np.ascontiguousarray(Z / scale))))
    if not med > 0.0:
        raise ValueError(
            "bandwidth='median' gives 0: at least half of the pooled pairs are identical points; "
            "pass a positive bandwidth instead"
        )
    return scale * float(np.sqrt(med / 2.0))


def as_sample_pair(x, y):
    """Both samples as float64 (n, d) arrays of the same dimension d."""
    X = as_points(x, "x")
    Y = as_points(y, "y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"x and y must have the same dimension: x has d={X.shape[1]}, y has d={Y.shape[1]}"
        )
    return X, Y


#: kernels whose value depends on ||x - y|| / sigma only (energy: homogeneous of degree 1)
SCALE_FREE_KERNELS = ("gaussian", "laplacian", "laplacian_l2", "imq", "energy")


def resolve_kernel_rescaled(kernel, bandwidth, X, Y, **options):
    """:func:`resolve_kernel` on samples rescaled by an exact power of two when their
    magnitudes are extreme, for the kernels in :data:`SCALE_FREE_KERNELS` (squared distances of
    1e200 would overflow and of 1e-200 underflow; bandwidths are rescaled with the points, so the
    kernel values do not change).

    Returns ``(spec, X, Y, scale, value_scale)``: the spec for the rescaled samples, the
    rescaled samples, the factor ``scale`` (1.0 when nothing was done) and the factor by which
    MMD^2 values must be multiplied (``scale`` for the energy kernel, else 1).
    """
    scale = power_of_two_scale(X, Y) if isinstance(kernel, str) and kernel in SCALE_FREE_KERNELS else 1.0
    if scale != 1.0:
        X, Y = X / scale, Y / scale
    spec = resolve_kernel(kernel, bandwidth, X, Y, **options)
    if scale != 1.0 and spec.bandwidths.size and not isinstance(bandwidth, str):
        spec = dataclasses.replace(spec, bandwidths=spec.bandwidths / scale)
    return spec, X, Y, scale, (scale if spec.name == "energy" else 1.0)


def resolve_kernel(
    kernel,
    bandwidth,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    kernel_weights=None,
    gamma=None,
    coef0=1.0,
    degree=3,
    median_max_points: int = MEDIAN_MAX_POINTS,
    rng=None,
) -> KernelSpec:
    """Validate the kernel arguments of the public functions into a :class:`KernelSpec`."""
    if not isinstance(kernel, str):
        raise TypeError(f"kernel must be a string, one of {KERNELS}, got {kernel!r}")
    if kernel not in KERNEL_CODES:
        raise ValueError(f"unknown kernel {kernel!r}: kernel must be one of {KERNELS}")
    d = X.shape[1]
    if kernel not in BANDWIDTH_KERNELS:
        if isinstance(bandwidth, str) or _is_bandwidth_list(bandwidth):
            raise ValueError(f"kernel {kernel!r} takes no bandwidth; got bandwidth={bandwidth!r}")
        if kernel_weights is not None:
            raise ValueError(f"kernel {kernel!r} takes no bandwidth, so no kernel_weights either")
        if kernel != "polynomial":
            return KernelSpec(kernel)
        g = 1.0 / d if gamma is None else check_scalar(gamma, "gamma", low=0.0, low_open=True)
        c = check_scalar(coef0, "coef0", low=0.0)
        deg = check_int(degree, "degree", low=1)
        return KernelSpec(kernel, gamma=g, coef0=c, degree=deg)

    if isinstance(bandwidth, np.ndarray) and bandwidth.ndim == 0:
        bandwidth = bandwidth.item()
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ValueError(f"bandwidth must be a positive number, a list of them or 'median', "
                             f"got {bandwidth!r}")
        sigmas = np.array([median_bandwidth(X, Y, max_points=median_max_points, rng=rng)])
    elif _is_bandwidth_list(bandwidth):
        sigmas = as_float_array(bandwidth, "bandwidth", ndim=1)
        if np.any(sigmas <= 0):
            raise ValueError(f"bandwidth must be > 0, got {sigmas.tolist()}")
    elif isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, (bool, np.bool_)):
        sigmas = np.array([check_scalar(bandwidth, "bandwidth", low=0.0, low_open=True)])
    else:
        raise TypeError(f"bandwidth must be a positive number, a list of them or 'median', "
                        f"got {bandwidth!r}")

    if kernel_weights is None:
        weights = np.ones(sigmas.size)
    else:
        weights = as_float_array(kernel_weights, "kernel_weights", ndim=1)
        if weights.shape[0] != sigmas.size:
            raise ValueError(f"kernel_weights has {weights.shape[0]} entries but there are "
                             f"{sigmas.size} bandwidths")
        if np.any(weights < 0):
            raise ValueError("kernel_weights must be >= 0 (a non-negative mixture)")
        if not weights.sum() > 0:
            raise ValueError("kernel_weights are all zero")
    return KernelSpec(kernel, bandwidths=sigmas, weights=weights)


# ---------------------------------------------------------------------------------------------
# evaluation: thin wrappers that prepare the arrays the numba kernels expect
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Prepared:
    X: np.ndarray
    Y: np.ndarray
    Yt: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    use_gemm: bool


def _prepare(spec: KernelSpec, X: np.ndarray, Y: np.ndarray) -> _Prepared:
    base = spec.base_kind
    use_gemm = base == _k.BASE_DOT or (
        spec.name in ("gaussian", "imq") and X.shape[1] >= _k.GEMM_MIN_DIM
    )
    if use_gemm and spec.name in _TRANSLATION_INVARIANT:
        # Centring keeps ||x||^2 + ||y||^2 - 2 x.y from cancelling catastrophically.
        same = Y is X
        shift = X.mean(axis=0)
        X = np.ascontiguousarray(X - shift)
        Y = X if same else np.ascontiguousarray(Y - shift)
    nx = np.einsum("ij,ij->i", X, X) if use_gemm else np.empty(0)
    ny = nx if Y is X else (np.einsum("ij,ij->i", Y, Y) if use_gemm else np.empty(0))
    if use_gemm and base == _k.BASE_SQDIST and not (
        np.all(np.isfinite(nx)) and np.all(np.isfinite(ny)) and max(nx.max(), ny.max()) < 1e250
    ):
        return _prepare_direct(X, Y)  # norms overflow: the difference form stays meaningful
    Yt = np.empty((X.shape[1], 0)) if use_gemm else np.ascontiguousarray(Y.T)
    return _Prepared(X, Y, Yt, nx, ny, use_gemm)


def _prepare_direct(X, Y):
    return _Prepared(X, Y, np.ascontiguousarray(Y.T), np.empty(0), np.empty(0), False)


#: below this many kernel evaluations one thread is faster than waking the thread pool
PARALLEL_MIN_PAIRS = 4 * _k.BLOCK * _k.BLOCK


def _threads_for(n_pairs: int) -> int:
    return 1 if n_pairs < PARALLEL_MIN_PAIRS else numba.get_num_threads()


def kernel_sum(spec: KernelSpec, X, Y=None, a=None, b=None) -> float:
    """sum_ij a_i b_j k(x_i, y_j) (a, b default to ones); ``Y=None`` means Y is X."""
    symmetric = Y is None
    prep = _prepare(spec, X, X if symmetric else Y)
    weighted = a is not None
    if weighted and b is None:
        b = a
    ones = np.empty(0)
    n_threads = _threads_for(prep.X.shape[0] * prep.Y.shape[0])
    kernel = _k.kernel_sum_kernel(spec.code, spec.base_kind, prep.use_gemm, n_threads > 1)
    return float(kernel(prep.X, prep.Y, prep.Yt, prep.nx, prep.ny, symmetric, spec.inv_scales,
                        spec.mixture_weights, spec.gamma, spec.coef0, spec.degree,
                        a if weighted else ones, b if weighted else ones, weighted, n_threads))


def kernel_matrix(spec: KernelSpec, X, Y=None) -> np.ndarray:
    """Dense k(x_i, y_j); ``Y=None`` means Y is X (evaluated once per symmetric pair)."""
    symmetric = Y is None
    prep = _prepare(spec, X, X if symmetric else Y)
    out = np.empty((prep.X.shape[0], prep.Y.shape[0]))
    n_threads = _threads_for(out.size)
    kernel = _k.kernel_matrix_kernel(spec.code, spec.base_kind, prep.use_gemm, n_threads > 1)
    kernel(prep.X, prep.Y, prep.Yt, prep.nx, prep.ny, symmetric, spec.inv_scales,
           spec.mixture_weights, spec.gamma, spec.coef0, spec.degree, out, n_threads)
    return out


def paired_kernel(spec: KernelSpec, X, Y) -> np.ndarray:
    """k(x_i, y_i) row by row (X and Y of the same shape)."""
    kernel = _k.paired_values_kernel(spec.code, spec.base_kind)
    return kernel(X, Y, spec.inv_scales, spec.mixture_weights, spec.gamma, spec.coef0,
                  spec.degree)


__all__ = ["KERNELS", "KernelSpec", "median_bandwidth", "MEDIAN_MAX_POINTS"]
