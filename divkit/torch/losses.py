r"""Differentiable losses: MMD^2 and the exact Wasserstein distance.

Both accept and return tensors, keep the input's dtype and device, and let autograd reach the
sample positions (and, for :func:`wasserstein`, the weights).
"""

from __future__ import annotations

import math
import numbers
from typing import cast

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from divkit._validation import MASS_RTOL, check_bool, renamed_keywords

from ._checks import (
    as_float_tensor,
    as_point_tensor,
    check_finite,
    check_positive_int,
    check_real,
    check_same_device,
    check_same_dim,
    common_dtype,
)

#: kernel names understood by :func:`mmd2` (the same as ``divkit.mmd2``)
KERNELS = ("gaussian", "laplacian", "laplacian_l2", "imq", "polynomial", "linear", "energy")
#: kernels with a bandwidth; the others ignore a scalar ``bandwidth`` and refuse a list (as divkit.mmd2)
BANDWIDTH_KERNELS = ("gaussian", "laplacian", "laplacian_l2", "imq")
MMD_ESTIMATORS = ("biased", "unbiased", "linear")

#: Polynomial kernel (gamma <x, y> + coef0)^degree defaults (gamma = 1/d), as in divkit.mmd2.
POLYNOMIAL_COEF0 = 1.0
POLYNOMIAL_DEGREE = 3

#: Smallest dimension for which the smooth kernels take the GEMM expansion path (divkit.mmd's
#: GEMM_MIN_DIM): below it explicit differences are as fast.
EXPANSION_MIN_DIM = 4
#: kernels computed from the expansion (their derivative at 0 distance is finite, so the
#: clipped expansion error does not blow up gradients; laplacian_l2 and energy are not)
EXPANSION_KERNELS = ("gaussian", "imq")
#: squared distances below EXPANSION_ZERO_TOL * d * eps * (||x||^2 + ||y||^2) are set to 0 on the
#: expansion path (they are within its rounding error of 0)
EXPANSION_ZERO_TOL = 4.0

#: Default number of kernel entries evaluated per block (times d for the difference tensor):
#: bounds the working memory of :func:`mmd2` independently of the sample sizes.
DEFAULT_BLOCK_ELEMENTS = 2**22


def _safe_norm(sq: torch.Tensor) -> torch.Tensor:
    """sqrt(sq) with gradient 0 (a subgradient of ||r||) where sq == 0 instead of NaN."""
    positive = sq > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def _kernel_from_diff(kind: str, diff: torch.Tensor, bandwidths) -> torch.Tensor:
    """k for translation-invariant kernels from differences ``diff[..., d]``."""
    if kind in ("laplacian",):
        dist = diff.abs().sum(-1)
        return cast(torch.Tensor, sum(torch.exp(-dist / s) for s in bandwidths))
    sq = (diff * diff).sum(-1)
    if kind == "gaussian":
        return cast(torch.Tensor, sum(torch.exp(-sq / (2.0 * s * s)) for s in bandwidths))
    if kind == "imq":
        return cast(torch.Tensor, sum(torch.rsqrt(1.0 + sq / (s * s)) for s in bandwidths))
    dist = _safe_norm(sq)
    if kind == "laplacian_l2":
        return cast(torch.Tensor, sum(torch.exp(-dist / s) for s in bandwidths))
    return -dist  # energy


def _kernel_from_sq(kind: str, sq: torch.Tensor, bandwidths) -> torch.Tensor:
    if kind == "gaussian":
        return cast(torch.Tensor, sum(torch.exp(-sq / (2.0 * s * s)) for s in bandwidths))
    return cast(torch.Tensor, sum(torch.rsqrt(1.0 + sq / (s * s)) for s in bandwidths))  # imq


def _kernel_block(kind, xb, yb, bandwidths, poly, expansion=False, diagonal=False) -> torch.Tensor:
    """Kernel matrix between two blocks of points.

    ``expansion``: squared distances as ``||x||^2 + ||y||^2 - 2 x.y`` (one GEMM) clipped at 0,
    for the smooth kernels (gaussian, imq) on centred points, as the numpy side does;
    ``diagonal`` marks a block of a sample against itself, whose diagonal is set to an exact 0
    distance (the identical-point safeguard). Otherwise explicit differences, exact at
    coinciding points, so that the gradients of ``||r||`` stay finite there."""
    if kind == "linear":
        return xb @ yb.T
    if kind == "polynomial":
        gamma, coef0, degree = poly
        return (gamma * (xb @ yb.T) + coef0) ** degree
    if expansion:
        norms = (xb * xb).sum(-1)[:, None] + (yb * yb).sum(-1)[None, :]
        sq = norms - 2.0 * (xb @ yb.T)
        # below the expansion's rounding error (~d eps (||x||^2 + ||y||^2)) a squared distance
        # is indistinguishable from 0: make it 0, so identical points in x and y coincide exactly
        resolution = EXPANSION_ZERO_TOL * xb.shape[1] * torch.finfo(sq.dtype).eps
        sq = torch.where(sq <= resolution * norms, torch.zeros_like(sq), sq)
        if diagonal:
            sq = sq * (1.0 - torch.eye(sq.shape[0], sq.shape[1], dtype=sq.dtype, device=sq.device))
        return _kernel_from_sq(kind, sq, bandwidths)
    return _kernel_from_diff(kind, xb[:, None, :] - yb[None, :, :], bandwidths)


def _kernel_paired(kind: str, xa: torch.Tensor, xb: torch.Tensor, bandwidths, poly) -> torch.Tensor:
    """k(xa[i], xb[i]) for each row i."""
    if kind == "linear":
        return (xa * xb).sum(-1)
    if kind == "polynomial":
        gamma, coef0, degree = poly
        return (gamma * (xa * xb).sum(-1) + coef0) ** degree
    return _kernel_from_diff(kind, xa - xb, bandwidths)


def _kernel_sum(kind, x, y, bandwidths, block_elements, poly, expansion, same) -> torch.Tensor:
    """sum_ij k(x_i, y_j), one block of rows x columns at a time.

    Under autograd each block is checkpointed, so the graph keeps only the inputs and the
    backward pass recomputes the block: memory stays O(block) in both passes.
    """
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    per_entry = 1 if kind in ("linear", "polynomial") or expansion else d
    cols = min(m, max(1, block_elements // per_entry))
    rows = min(n, max(1, block_elements // (cols * per_entry)))
    if same:
        rows = cols = min(rows, cols)  # square blocks: the diagonal blocks hold the diagonal
    need_graph = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)

    total = x.new_zeros(())
    for i in range(0, n, rows):
        xb = x[i : i + rows]
        for j in range(0, m, cols):
            yb = y[j : j + cols]
            diagonal = same and i == j

            def block_sum(xb, yb, diagonal=diagonal):
                return _kernel_block(kind, xb, yb, bandwidths, poly, expansion, diagonal).sum()

            if need_graph and (n > rows or m > cols):
                total = total + checkpoint(block_sum, xb, yb, use_reentrant=False)
            else:
                total = total + block_sum(xb, yb)
    return total


def _as_bandwidths(kind, bandwidth):
    values = list(bandwidth) if isinstance(bandwidth, (list, tuple)) else [bandwidth]
    if not values:
        raise ValueError("bandwidth is an empty list: give at least one bandwidth")
    out = []
    for b in values:
        if isinstance(b, torch.Tensor):
            if b.numel() != 1:
                raise ValueError(f"bandwidth must be a scalar or a list of scalars, got a tensor of shape {tuple(b.shape)}")
            # a tensor bandwidth may itself be learned; checking it costs one host sync
            if not bool(torch.isfinite(b).all()) or not bool((b > 0).all()):
                raise ValueError(f"bandwidth must be > 0 and finite, got {b.detach().cpu().item()!r}")
            out.append(b)
            continue
        if isinstance(b, bool) or not isinstance(b, numbers.Real):
            raise TypeError(f"bandwidth must be a positive real number or a list of them, got {b!r}")
        out.append(check_real(b, "bandwidth", low=0.0, low_open=True))
    return out


@renamed_keywords(median_seed="rng")
def mmd2(
    x,
    y,
    kernel="gaussian",
    bandwidth=1.0,
    *,
    estimator="unbiased",
    gamma=None,
    coef0=POLYNOMIAL_COEF0,
    degree=POLYNOMIAL_DEGREE,
    expansion=None,
    median_max_points=2000,
    rng=None,
    block_elements=None,
    check_inputs=True,
):
    r"""Squared maximum mean discrepancy between two samples, differentiable in the samples.

    .. math::

        \mathrm{MMD}^2 = \mathbb E\,k(x, x') + \mathbb E\,k(y, y') - 2\,\mathbb E\,k(x, y)

    estimated by the V-statistic (``"biased"``, all pairs, >= 0 for characteristic kernels), the
    U-statistic (``"unbiased"``, diagonal terms dropped; may be negative, which is correct) or the
    linear-time statistic of Gretton et al. (2012, JMLR 13, §6) on consecutive pairs
    ``(x_{2i-1}, x_{2i}), (y_{2i-1}, y_{2i})`` (needs equal sample sizes). Same contract as
    ``divkit.mmd2``.

    Parameters
    ----------
    x : Tensor of shape (n, d) or (n,)
    y : Tensor of shape (m, d) or (m,)
        Samples; 1-D tensors are points in 1-D. Same device; dtypes are promoted together.
    kernel : str
        ``"gaussian"`` exp(-||r||^2 / (2 sigma^2)), ``"laplacian"`` exp(-||r||_1 / sigma),
        ``"laplacian_l2"`` exp(-||r||_2 / sigma), ``"imq"`` (1 + ||r||^2 / sigma^2)^(-1/2),
        ``"polynomial"`` (<x, y>/d + 1)^3, ``"linear"`` <x, y>, ``"energy"`` -||r||_2 (then MMD^2
        is the energy distance). ``r = x - y``.
    bandwidth : float, 0-d Tensor, list of them, or "median"
        sigma; a list means the SUM of the kernels. ``"median"``: Gretton's heuristic
        ``sigma^2 = median ||z - z'||^2 / 2`` over the pooled sample, computed by
        ``divkit.median_bandwidth`` on a detached host copy (one synchronisation; at most
        ``median_max_points`` pooled points, subsampled with ``rng``), so it equals the
        numpy side given the same ``rng``. Ignored by ``polynomial``, ``linear`` and ``energy``.
    estimator : {"unbiased", "biased", "linear"}
    gamma, coef0, degree : polynomial kernel ``(gamma <x, y> + coef0)^degree``
        Defaults ``1/d``, 1, 3 (as ``divkit.mmd2``).
    expansion : bool, optional
        Squared distances by ``||x||^2 + ||y||^2 - 2 x.y`` (one GEMM per block) for the smooth
        kernels (gaussian, imq), on points centred at the pooled mean, set to 0 below its
        rounding error ``4 d eps (||x||^2 + ||y||^2)`` and exactly 0 on the diagonal of each sample
        against itself (identical points are at distance exactly 0). Default:
        on for those kernels when ``d >= 4`` (as the numpy side), off otherwise; the square-root
        kernels (laplacian_l2, energy) always use explicit differences.
    block_elements : int, optional
        Working-memory bound: kernel entries (times d) per block. Blocks are checkpointed under
        autograd. Default ``2**22``.
    rng : None, int, SeedSequence, BitGenerator or Generator, optional
        Source of the median heuristic's subsample (above ``median_max_points`` pooled points),
        as in ``divkit.mmd2`` (SPEC 7; ``None`` draws fresh entropy). ``median_seed=`` is its
        deprecated name (its default was 0).
    check_inputs : bool
        Check for NaN/inf (one host synchronisation). Pass False inside training loops.

    Returns
    -------
    Tensor
        0-d, in the promoted dtype of ``x`` and ``y``, on their device.

    Notes
    -----
    At coinciding points ``||r||`` is not differentiable; ``energy`` and ``laplacian_l2`` use the
    subgradient 0 there, so gradients are never NaN.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> y = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    >>> round(mmd2(x, y, "energy", estimator="biased").item(), 6)
    0.5
    """
    x = as_point_tensor(x, "x")
    y = as_point_tensor(y, "y")
    check_same_device(x=x, y=y)
    check_same_dim(x, y)
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {list(KERNELS)}")
    if estimator not in MMD_ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {list(MMD_ESTIMATORS)}")
    if kernel not in BANDWIDTH_KERNELS and isinstance(bandwidth, (list, tuple, str)):
        raise ValueError(f"kernel {kernel!r} takes no bandwidth; got bandwidth={bandwidth!r}")
    block = DEFAULT_BLOCK_ELEMENTS if block_elements is None else check_positive_int(block_elements, "block_elements")
    dtype = common_dtype(x, y)
    x, y = x.to(dtype), y.to(dtype)
    if check_bool(check_inputs, "check_inputs"):
        check_finite(x, "x")
        check_finite(y, "y")
    if isinstance(bandwidth, str) and kernel in BANDWIDTH_KERNELS:
        if bandwidth != "median":
            raise TypeError(f"bandwidth must be a positive real number, a list of them or 'median', got {bandwidth!r}")
        from divkit import median_bandwidth

        bandwidth = median_bandwidth(
            x.detach().cpu().double().numpy(), y.detach().cpu().double().numpy(),
            max_points=median_max_points, rng=rng,
        )
    bandwidths = _as_bandwidths(kernel, bandwidth)
    for b in bandwidths:
        if isinstance(b, torch.Tensor):
            check_same_device(x=x, bandwidth=b)
    poly = (
        1.0 / x.shape[1] if gamma is None else check_real(gamma, "gamma", low=0.0, low_open=True),
        check_real(coef0, "coef0"),
        check_positive_int(degree, "degree"),
    )
    if expansion is None:
        expansion = kernel in EXPANSION_KERNELS and x.shape[1] >= EXPANSION_MIN_DIM
    elif not isinstance(expansion, bool):
        raise TypeError(f"expansion must be True, False or None, got {expansion!r}")
    elif expansion and kernel not in EXPANSION_KERNELS:
        raise ValueError(f"expansion=True is available for {list(EXPANSION_KERNELS)}, not {kernel!r}")
    if expansion:
        # translation invariance: centring (by a constant) keeps the norms, and so the
        # cancellation error of the expansion, small
        centre = torch.cat([x, y]).detach().mean(0)
        x, y = x - centre, y - centre
    n, m = x.shape[0], y.shape[0]

    if estimator == "linear":
        # pairs (2i, 2i+1) for i < floor(min(n, m) / 2), as divkit.mmd2
        if min(n, m) < 2:
            raise ValueError(f"the linear estimator needs at least 2 points per sample, got {n} and {m}")
        half = min(n, m) // 2
        x1, x2 = x[0 : 2 * half : 2], x[1 : 2 * half : 2]
        y1, y2 = y[0 : 2 * half : 2], y[1 : 2 * half : 2]
        h = (
            _kernel_paired(kernel, x1, x2, bandwidths, poly)
            + _kernel_paired(kernel, y1, y2, bandwidths, poly)
            - _kernel_paired(kernel, x1, y2, bandwidths, poly)
            - _kernel_paired(kernel, x2, y1, bandwidths, poly)
        )
        return h.mean()

    if estimator == "unbiased" and (n < 2 or m < 2):
        raise ValueError(f"the unbiased estimator needs at least 2 points per sample, got {n} and {m}")
    sxx = _kernel_sum(kernel, x, x, bandwidths, block, poly, expansion, True)
    syy = _kernel_sum(kernel, y, y, bandwidths, block, poly, expansion, True)
    sxy = _kernel_sum(kernel, x, y, bandwidths, block, poly, expansion, False)
    if estimator == "biased":
        return sxx / (n * n) + syy / (m * m) - 2.0 * sxy / (n * m)
    dxx = _kernel_paired(kernel, x, x, bandwidths, poly).sum()
    dyy = _kernel_paired(kernel, y, y, bandwidths, poly).sum()
    return (sxx - dxx) / (n * (n - 1)) + (syy - dyy) / (m * (m - 1)) - 2.0 * sxy / (n * m)


# ---------------------------------------------------------------------------------------------
# exact optimal transport
# ---------------------------------------------------------------------------------------------


def _exact_solver():
    """divkit's exact solver, imported when first needed (no fallback: a missing solver is an error)."""
    from divkit import emd

    return emd


class _ExactTransportCost(torch.autograd.Function):
    """min_G <G, C> over couplings of (a, b), by divkit's exact solver on CPU float64.

    Backward (envelope theorem / LP sensitivity): d cost / dC = G*, d cost / da = f,
    d cost / db = g with (f, g) the centred optimal potentials.
    """

    @staticmethod
    def forward(ctx, a, b, C):
        a_np = a.detach().to("cpu", torch.float64).numpy()
        b_np = b.detach().to("cpu", torch.float64).numpy()
        C_np = C.detach().to("cpu", torch.float64).numpy()
        # Masses agree to MASS_RTOL (checked by the caller); make them agree exactly in float64
        # so float32 marginals are never judged infeasible.
        b_np = b_np * (a_np.sum() / b_np.sum())
        result = _exact_solver()(a_np, b_np, C_np)
        plan = result.plan
        if hasattr(plan, "toarray"):
            plan = plan.toarray()
        as_tensor = lambda v: torch.as_tensor(np.asarray(v, dtype=np.float64)).to(C.device, C.dtype)
        ctx.save_for_backward(as_tensor(plan), as_tensor(result.f), as_tensor(result.g))
        return C.new_tensor(float(result.cost))

    @staticmethod
    def backward(ctx, grad_output):
        plan, f, g = ctx.saved_tensors
        return grad_output * f, grad_output * g, grad_output * plan


def exact_ot_cost(C, a=None, b=None, *, check_inputs=True):
    r"""Optimal transport cost ``min_G <G, C>`` with gradients w.r.t. ``C``, ``a`` and ``b``.

    The forward pass copies to the host and runs ``divkit.emd`` (exact, certified); the
    backward pass returns the optimal plan ``G*`` for ``C`` and the centred Kantorovich
    potentials ``f``, ``g`` for ``a``, ``b``.

    Parameters
    ----------
    C : Tensor of shape (n, m)
        Cost matrix (any real values).
    a, b : Tensor of shape (n,) and (m,), optional
        Marginals with equal total mass; uniform when omitted.

    Returns
    -------
    Tensor
        0-d, dtype and device of ``C``.

    Notes
    -----
    The gradient w.r.t. the weights is a gradient on the transport polytope: the cost is only
    defined for ``sum a == sum b``, and the potentials are unique only up to ``(f + c, g - c)``,
    so ``d cost / d a`` is meaningful only along directions with ``sum da = 0`` (and at
    non-degenerate problems). divkit returns the centred potentials (``<a, f> = <b, g>``).
    Weights that change must therefore stay on the simplex, e.g. ``a = softmax(logits)``.

    Examples
    --------
    >>> import torch
    >>> C = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    >>> cost = exact_ot_cost(C)
    >>> cost.backward()
    >>> bool(torch.equal(C.grad, torch.eye(2, dtype=torch.float64) / 2))   # the plan
    True
    """
    C = as_float_tensor(C, "C")
    if C.ndim != 2:
        raise ValueError(f"C must be 2-D (n x m), got shape {tuple(C.shape)}")
    n, m = C.shape
    a = _as_marginal(a, n, "a", C)
    b = _as_marginal(b, m, "b", C)
    check_same_device(C=C, a=a, b=b)
    if check_bool(check_inputs, "check_inputs"):
        check_finite(C, "C")
        check_finite(a, "a")
        check_finite(b, "b")
        if bool((a < 0).any()):
            raise ValueError("a contains negative weights: masses must be >= 0")
        if bool((b < 0).any()):
            raise ValueError("b contains negative weights: masses must be >= 0")
        _check_same_mass(a, b)
    return _ExactTransportCost.apply(a.to(C.dtype), b.to(C.dtype), C)


def mass_rtol(dtype, n_weights: int) -> float:
    """Relative tolerance on ``|sum a - sum b|``: divkit's MASS_RTOL (1e-7), widened to the
    rounding of a sum of ``n_weights`` weights in ``dtype`` (float32 weights renormalised in
    float32 sum to 1 only within ~``sqrt(n) eps``: POT issues 342 and 429)."""
    return max(MASS_RTOL, 4.0 * math.sqrt(n_weights) * torch.finfo(dtype).eps)


def _check_same_mass(a, b):
    """Refuse marginals whose totals differ beyond :func:`mass_rtol` (totals summed in float64)."""
    mass_a, mass_b = float(a.detach().double().sum()), float(b.detach().double().sum())
    if not (mass_a > 0 and mass_b > 0):
        raise ValueError(f"a and b must have positive total mass, got {mass_a!r} and {mass_b!r}")
    rtol = mass_rtol(torch.promote_types(a.dtype, b.dtype), a.numel() + b.numel())
    if abs(mass_a - mass_b) > rtol * max(mass_a, mass_b):
        raise ValueError(
            f"a and b have different total mass ({mass_a!r} vs {mass_b!r}, relative difference "
            f"{abs(mass_a - mass_b) / max(mass_a, mass_b):.3g} > rtol={rtol:.3g})"
        )


def _as_marginal(w, size, name, like):
    if w is None:
        return torch.full((size,), 1.0 / size, dtype=like.dtype, device=like.device)
    w = as_float_tensor(w, name)
    if w.ndim != 1 or w.shape[0] != size:
        raise ValueError(f"{name} must be 1-D with {size} weights (one per point), got shape {tuple(w.shape)}")
    return w


def _pairwise_distance_power(x, y, p):
    """||x_i - y_j||_2^p with gradient 0 (not NaN) at coinciding points."""
    sq = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    if p == 2:
        return sq
    return _safe_norm(sq) ** p


def wasserstein(x, y, a=None, b=None, *, p=1, check_inputs=True):
    r"""Exact Wasserstein distance ``W_p`` between weighted point clouds, differentiable.

    .. math::

        W_p(\mu, \nu) = \Big(\min_{G \in \Pi(a, b)} \sum_{ij} G_{ij} \|x_i - y_j\|_2^p\Big)^{1/p}

    (W_p itself, not W_p^p). The cost matrix is built in torch, so autograd reaches the points
    through it: by the envelope theorem ``d W_p^p / d x_i = sum_j G*_ij grad_x c(x_i, y_j)``. The
    LP is solved exactly by ``divkit.emd`` on the host.

    Parameters
    ----------
    x : Tensor of shape (n, d) or (n,)
    y : Tensor of shape (m, d) or (m,)
    a, b : Tensor, optional
        Weights (equal total mass); uniform when omitted. As in :func:`divkit.wasserstein`, the
        distance is that between the probability measures ``a / sum(a)`` and ``b / sum(b)``.
        Gradients w.r.t. them are defined on the simplex only (see :func:`exact_ot_cost`).
    p : float >= 1
        Order; the ground cost is ``||x - y||_2^p``.

    Returns
    -------
    Tensor
        0-d ``W_p``, in the dtype and on the device of ``x``. At ``W_p = 0`` with ``p > 1``, where
        ``cost^(1/p)`` has no derivative, the gradient returned is 0 (a subgradient).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0]], requires_grad=True)
    >>> y = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    >>> w = wasserstein(x, y)
    >>> round(w.item(), 6)
    1.0
    >>> w.backward()
    >>> x.grad.tolist()
    [[0.0, -0.5], [0.0, -0.5]]
    """
    x = as_point_tensor(x, "x")
    y = as_point_tensor(y, "y")
    check_same_device(x=x, y=y, a=a, b=b)
    check_same_dim(x, y)
    p = check_real(p, "p", low=1.0)
    dtype = common_dtype(x, y)
    x, y = x.to(dtype), y.to(dtype)
    if check_bool(check_inputs, "check_inputs"):
        check_finite(x, "x")
        check_finite(y, "y")
    C = _pairwise_distance_power(x, y, p)
    a = _as_marginal(a, x.shape[0], "a", C)
    b = _as_marginal(b, y.shape[0], "b", C)
    if check_inputs:
        # equal totals (up to the weights' rounding), as divkit.wasserstein requires
        check_finite(a, "a")
        check_finite(b, "b")
        _check_same_mass(a, b)
    # then W_p between the probability measures a / sum(a) and b / sum(b)
    a = a / a.sum()
    b = b / b.sum()
    cost = exact_ot_cost(C, a, b, check_inputs=check_inputs)
    if p == 1:
        return cost
    # d/dc c^(1/p) is infinite at c = 0: use the subgradient 0 there instead of NaN
    positive = cost > 0
    root = torch.where(positive, cost, torch.ones_like(cost)) ** (1.0 / p)
    return torch.where(positive, root, torch.zeros_like(cost))
