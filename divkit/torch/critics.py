r"""Critic (dual) estimates of the Wasserstein-1 distance, as trained in WGANs.

Kantorovich–Rubinstein duality: ``W1(P, Q) = sup_{Lip(f) <= 1} E_P f(x) - E_Q f(y)``. A critic
network is trained to maximise the right-hand side under an approximate Lipschitz constraint:

* ``"clip"``: weight clipping to ``[-c, c]`` (Arjovsky, Chintala & Bottou 2017; c = 0.01,
  RMSprop lr 5e-5). The critic is K-Lipschitz for an unknown K, so the estimate is W1 up to an
  unknown scale: it tracks W1's ordering, not its value.
* ``"gp"``: two-sided gradient penalty ``lambda E (||grad f(x_hat)|| - 1)^2`` at interpolates
  ``x_hat = alpha x + (1 - alpha) y``, one ``alpha ~ U[0,1]`` per sample pair (Gulrajani et al.
  2017; lambda = 10, Adam lr 1e-4, betas (0, 0.9)).
* ``"gp_one_sided"``: the one-sided penalty ``lambda E max(0, ||grad f(x_hat)|| - 1)^2``
  (Gulrajani et al. 2017, appendix; Petzka et al. 2018).

``c_transform=True`` refines the trained critic on the samples (Mallasto et al. 2019): with
``phi_i = f(x_i)``, ``psi_j = min_i ||x_i - y_j|| - phi_i`` and then
``phi_i <- min_j ||x_i - y_j|| - psi_j``; the pair is dual-feasible for the empirical transport
problem, so ``mean(phi) + mean(psi)`` is a certified lower bound on the empirical W1, and it is
never below the critic's own value when the critic is 1-Lipschitz.

Trained critics are known to misjudge W1, especially in high dimension (Mallasto et al. 2019;
Stanczuk et al. 2021; Korotin et al. 2022): compare with the exact value from ``divkit.emd``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch import nn

from divkit._validation import check_bool, renamed_keywords

from ._checks import (
    as_float_tensor,
    as_point_tensor,
    check_positive_int,
    check_real,
    check_same_device,
    check_same_dim,
)
from ._training import (
    DEFAULT_HIDDEN,
    critic_output,
    critic_values,
    default_critic,
    init_seed,
    prepare_samples,
    sample_rows,
    torch_generator,
)

CONSTRAINTS = ("gp", "gp_one_sided", "clip")

#: Reference recipes: optimiser settings per constraint.
RECIPES = {
    "clip": {"lr": 5e-5, "optimizer": "rmsprop"},
    "gp": {"lr": 1e-4, "optimizer": "adam", "betas": (0.0, 0.9)},
    "gp_one_sided": {"lr": 1e-4, "optimizer": "adam", "betas": (0.0, 0.9)},
}

#: Working-memory bound (distance-matrix entries per block) of the c-transform.
C_TRANSFORM_BLOCK = 2**22


@dataclass(frozen=True)
class CriticResult:
    """A trained critic's estimate of W1.

    Attributes
    ----------
    estimate : Tensor
        0-d: ``mean f(x) - mean f(y)`` over all samples with the final critic (on the samples'
        device). For ``"clip"`` this is W1 times the critic's unknown Lipschitz constant.
    trace : Tensor
        ``(n_steps,)`` on the CPU: the mini-batch value of ``mean f(x) - mean f(y)`` at each step.
    penalty_trace : Tensor
        ``(n_steps,)`` on the CPU: the gradient penalty at each step (zeros for ``"clip"``).
    refined_estimate : Tensor or None
        0-d c-transform refinement (a dual-feasible lower bound on the empirical W1), when asked.
    gradient_norm : Tensor or None
        0-d: largest ``||grad f||`` seen on the samples and their interpolates, a lower bound on
        the critic's Lipschitz constant.
    critic : nn.Module
        The trained critic.
    constraint : str
    n_steps : int
    """

    estimate: torch.Tensor
    trace: torch.Tensor
    penalty_trace: torch.Tensor
    refined_estimate: torch.Tensor | None
    gradient_norm: torch.Tensor | None
    critic: nn.Module
    constraint: str
    n_steps: int


def _gradient_norms(critic, points, create_graph):
    """``||grad critic(points)_i||_2`` per row (all non-batch dimensions flattened)."""
    points = points.detach().requires_grad_(True)
    out = critic_output(critic, points)
    (grad,) = torch.autograd.grad(out.sum(), points, create_graph=create_graph)
    sq = (grad * grad).reshape(grad.shape[0], -1).sum(-1)
    # sqrt'(0) is infinite: keep the penalty's gradient finite where the critic is flat
    return torch.sqrt(sq + torch.finfo(sq.dtype).tiny)


def _penalty_from_norms(norms, one_sided):
    excess = norms - 1.0
    if one_sided:
        excess = torch.clamp(excess, min=0.0)
    return (excess * excess).mean()


def _interpolates(real, fake, rng):
    generator = None if rng is None else torch_generator(rng, real.device)
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return alpha * real + (1.0 - alpha) * fake


@renamed_keywords(generator="rng")
def gradient_penalty(critic, real, fake, *, weight=10.0, one_sided=False, rng=None, create_graph=True):
    r"""WGAN-GP gradient penalty ``weight * E (||grad f(x_hat)|| - 1)^2`` at random interpolates.

    ``x_hat = alpha real + (1 - alpha) fake`` with one ``alpha ~ U[0, 1]`` per row (Gulrajani et
    al. 2017, "Improved training of Wasserstein GANs"; lambda = 10). ``one_sided=True`` penalises
    only ``max(0, ||grad f|| - 1)^2`` (Gulrajani et al. 2017, appendix; Petzka et al. 2018,
    "On the regularization of Wasserstein GANs"). The gradient norm is over every non-batch
    dimension (images ``(B, C, H, W)`` work as they are); ``sqrt(||g||^2 + tiny)`` keeps the
    penalty's own gradient finite where the critic is flat.

    Parameters
    ----------
    critic : callable
        Maps a batch to ``(B,)`` or ``(B, 1)`` outputs (an ``nn.Module`` usually).
    real, fake : Tensor of the same shape ``(B, ...)``
        ``fake`` may carry the generator's graph; the interpolates are detached from it.
    weight : float
        lambda (>= 0).
    one_sided : bool
    rng : None, int, SeedSequence, BitGenerator, numpy Generator or torch.Generator, optional
        Source of the interpolation weights: a ``torch.Generator`` on the tensors' device is
        used as it is; anything ``numpy.random.default_rng`` accepts seeds a private one
        (SPEC 7). ``None`` (the default) uses torch's global generator, as torch's own
        functions do, so that ``torch.manual_seed`` governs a training loop. ``generator=`` is
        its deprecated name.
    create_graph : bool
        Keep the graph of the gradient so the penalty can be back-propagated (True for training).

    Returns
    -------
    Tensor
        0-d penalty (already multiplied by ``weight``), differentiable in the critic's parameters.

    Examples
    --------
    >>> import torch
    >>> critic = torch.nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = critic.weight.copy_(torch.tensor([[2.0, 0.0, 0.0]]))   # ||grad f|| = 2 everywhere
    >>> gradient_penalty(critic, torch.zeros(4, 3), torch.ones(4, 3)).item()  # 10 (2 - 1)^2
    10.0
    """
    if not callable(critic):
        raise TypeError(f"critic must be callable (an nn.Module), got {type(critic).__name__}")
    real = as_float_tensor(real, "real")
    fake = as_float_tensor(fake, "fake")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if real.ndim == 0 or real.shape[0] == 0:
        raise ValueError(f"real and fake need a non-empty batch dimension, got shape {tuple(real.shape)}")
    check_same_device(real=real, fake=fake)
    weight = check_real(weight, "weight", low=0.0)
    one_sided = check_bool(one_sided, "one_sided")
    create_graph = check_bool(create_graph, "create_graph")
    points = _interpolates(real.detach(), fake.detach().to(real.dtype), rng)
    return weight * _penalty_from_norms(_gradient_norms(critic, points, create_graph), one_sided)


@renamed_keywords(generator="rng")
def wgan_critic_loss(critic, real, fake, *, penalty="gp", weight=10.0, rng=None):
    r"""The WGAN critic loss to minimise: ``E f(fake) - E f(real) [+ gradient penalty]``.

    Minimising it maximises the Kantorovich–Rubinstein objective ``E_P f - E_Q f`` whose
    supremum over 1-Lipschitz f is ``W1(P, Q)`` (Arjovsky et al. 2017). ``penalty`` is ``"gp"``
    (two-sided, Gulrajani et al. 2017), ``"gp_one_sided"`` or ``None`` (for weight clipping,
    which the caller applies after the step). The generator's loss is ``-E f(fake)``.
    ``weight`` and ``rng`` are those of :func:`gradient_penalty` (``generator=`` is the
    deprecated name of ``rng``).

    Returns
    -------
    loss : Tensor
        0-d loss (to minimise).
    estimate : Tensor
        0-d detached ``E f(real) - E f(fake)`` on this batch (the critic's W1 estimate).

    Examples
    --------
    >>> import torch
    >>> critic = torch.nn.Linear(1, 1)
    >>> loss, est = wgan_critic_loss(critic, torch.zeros(8, 1), torch.ones(8, 1), penalty=None)
    >>> bool(torch.isclose(loss, -est))
    True
    """
    if penalty not in (None, "gp", "gp_one_sided"):
        raise ValueError(f"unknown penalty {penalty!r}; choose 'gp', 'gp_one_sided' or None")
    gap = critic_output(critic, real).mean() - critic_output(critic, fake.detach()).mean()
    loss = -gap
    if penalty is not None:
        loss = loss + gradient_penalty(
            critic, real, fake, weight=weight, one_sided=penalty == "gp_one_sided", rng=rng
        )
    return loss, gap.detach()


def c_transform_refinement(x, y, phi, block=C_TRANSFORM_BLOCK):
    """Dual value of the double c-transform of ``phi`` for the cost ``||x - y||_2``.

    ``psi_j = min_i ||x_i - y_j|| - phi_i`` and ``phi'_i = min_j ||x_i - y_j|| - psi_j`` are
    feasible for the dual of the empirical transport problem with uniform weights, so
    ``mean(phi') + mean(psi)`` is a lower bound on the empirical W1, whatever ``phi`` is
    (Mallasto et al. 2019). Computed in blocks of at most ``block`` distances.

    Parameters
    ----------
    x : Tensor of shape (n, d)
    y : Tensor of shape (m, d)
    phi : Tensor of shape (n,)
        Potential on ``x`` (e.g. a critic's values).

    Returns
    -------
    Tensor
        0-d dual value.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[2.0], [3.0]])
    >>> c_transform_refinement(x, y, torch.zeros(2)).item()    # W1 = 2: a shift by 2
    2.0
    """
    x = as_point_tensor(x, "x")
    y = as_point_tensor(y, "y")
    phi = as_float_tensor(phi, "phi")
    check_same_device(x=x, y=y, phi=phi)
    check_same_dim(x, y)
    if phi.shape != (x.shape[0],):
        raise ValueError(f"phi must have shape ({x.shape[0]},), one value per point of x, got {tuple(phi.shape)}")
    block = check_positive_int(block, "block")
    rows = max(1, block // max(1, x.shape[0]))
    psi = torch.cat(
        [(torch.cdist(x, y[j : j + rows]) - phi[:, None]).amin(0) for j in range(0, y.shape[0], rows)]
    )
    rows = max(1, block // max(1, y.shape[0]))
    phi2 = torch.cat(
        [(torch.cdist(x[i : i + rows], y) - psi[None, :]).amin(1) for i in range(0, x.shape[0], rows)]
    )
    return phi2.mean() + psi.mean()


#: The optimisers critic_wasserstein built for critics it was given, kept across calls (the
#: state of Adam survives from one call to the next); dropped with the critic.
_OWN_OPTIMIZERS: weakref.WeakKeyDictionary[nn.Module, tuple] = weakref.WeakKeyDictionary()


def _optimizer_for(critic, params, recipe, lr, optimizer):
    if optimizer is not None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        return optimizer
    key = (recipe["optimizer"], lr, tuple(id(p) for p in params))
    cached = _OWN_OPTIMIZERS.get(critic)
    if cached is not None and cached[0] == key:
        return cached[1]
    if recipe["optimizer"] == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=lr)
    else:
        opt = torch.optim.Adam(params, lr=lr, betas=recipe["betas"])
    _OWN_OPTIMIZERS[critic] = (key, opt)
    return opt


@renamed_keywords(seed="rng")
def critic_wasserstein(
    x,
    y,
    *,
    critic=None,
    constraint="gp",
    n_steps=1000,
    batch_size=256,
    lr=None,
    optimizer=None,
    penalty=10.0,
    clip_value=0.01,
    c_transform=False,
    evaluate=True,
    hidden=DEFAULT_HIDDEN,
    rng=None,
    check_inputs=True,
):
    r"""Estimate ``W1(P, Q)`` from samples by training a critic (WGAN dual).

    Maximises ``E_P f - E_Q f`` (mini-batches drawn with replacement) under the chosen
    Lipschitz constraint; see the module docstring for the recipes and references. Each step is
    :func:`wgan_critic_loss` (with :func:`gradient_penalty`) and one optimiser step.

    Inside a GAN training loop, call it with your ``critic``, your ``optimizer`` (or none: the
    optimiser it builds for a given critic is kept and reused by later calls with that critic,
    so Adam's moments persist), a few ``n_steps`` and ``evaluate=False``.

    Parameters
    ----------
    x : Tensor of shape (n, d) or (n,)
        Samples from P.
    y : Tensor of shape (m, d) or (m,)
        Samples from Q (same device and dimension as ``x``).
    critic : nn.Module, optional
        Maps ``(B, d)`` to ``(B, 1)`` or ``(B,)``; trained in place. Default: a ReLU MLP with
        widths ``hidden`` initialised from ``rng``, on the samples' device and dtype.
    constraint : {"gp", "gp_one_sided", "clip"}
    n_steps : int
        Critic updates.
    batch_size : int
        Samples per side per step (the whole sample when larger).
    lr : float, optional
        Learning rate of the optimiser built here; default from the recipe (5e-5 for clip, 1e-4
        for the penalties). Not allowed together with ``optimizer``.
    optimizer : torch.optim.Optimizer, optional
        Used as it is (its state and settings are the caller's). It must hold the critic's
        parameters.
    penalty : float
        lambda of the gradient penalties.
    clip_value : float
        c of weight clipping.
    c_transform : bool
        Also return the c-transform refinement (cost: an n x m distance matrix in blocks).
    evaluate : bool
        Evaluate the final critic on all samples (``estimate``) and probe its gradient norm. With
        False only the training steps run: ``estimate`` is then the last mini-batch value and
        ``gradient_norm`` is None.
    rng : None, int, SeedSequence, BitGenerator, numpy Generator or torch.Generator, optional
        Source of the default critic's initialisation, the batches and the interpolation
        weights: anything ``numpy.random.default_rng`` accepts (SPEC 7; ``None``, the default,
        draws fresh entropy; an int gives reproducible results) seeds a private generator, so
        the global RNG state is untouched. A ``torch.Generator`` (on the samples' device) is
        used as it is, so successive calls continue one stream. ``seed=`` is its deprecated
        name (its default was 0).

    Returns
    -------
    CriticResult

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(256, 1, generator=g, dtype=torch.float64)
    >>> res = critic_wasserstein(x, x + 1.0, n_steps=200, lr=1e-2, hidden=(16,), rng=0)
    >>> 0.8 < res.estimate.item() < 1.05
    True
    """
    if constraint not in CONSTRAINTS:
        raise ValueError(f"unknown constraint {constraint!r}; choose one of {list(CONSTRAINTS)}")
    x, y = prepare_samples(x, y, critic, check_inputs)
    n_steps = check_positive_int(n_steps, "n_steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    recipe = RECIPES[constraint]
    if optimizer is not None and lr is not None:
        raise ValueError("give either lr or optimizer, not both (the optimizer carries its own lr)")
    lr = recipe["lr"] if lr is None else check_real(lr, "lr", low=0.0, low_open=True)
    penalty = check_real(penalty, "penalty", low=0.0)
    clip_value = check_real(clip_value, "clip_value", low=0.0, low_open=True)
    c_transform = check_bool(c_transform, "c_transform")
    evaluate = check_bool(evaluate, "evaluate")
    gen = torch_generator(rng, x.device)
    if critic is None:
        critic = default_critic(x.shape[1], hidden=hidden, dtype=x.dtype, device=x.device, rng=init_seed(rng, gen))
    params = [p for p in critic.parameters() if p.requires_grad]
    opt = _optimizer_for(critic, params, recipe, lr, optimizer)

    trace = torch.zeros(n_steps, dtype=x.dtype, device=x.device)
    penalty_trace = torch.zeros(n_steps, dtype=x.dtype, device=x.device)
    batch = min(batch_size, x.shape[0], y.shape[0])
    loss_penalty = None if constraint == "clip" else constraint
    for step in range(n_steps):
        xb = sample_rows(x, batch, gen)
        yb = sample_rows(y, batch, gen)
        loss, gap = wgan_critic_loss(critic, xb, yb, penalty=loss_penalty, weight=penalty, rng=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if constraint == "clip":
            with torch.no_grad():
                for p in params:
                    p.clamp_(-clip_value, clip_value)
        else:
            # loss = -gap + lambda * pen: recover pen without a second evaluation
            penalty_trace[step] = (loss.detach() + gap) / penalty if penalty > 0 else 0.0
        trace[step] = gap

    refined = None
    grad_norm = None
    if evaluate or c_transform:
        with torch.no_grad():
            phi = critic_values(critic, x)
            estimate = phi.mean() - critic_values(critic, y).mean()
            refined = c_transform_refinement(x, y, phi) if c_transform else None
    else:
        estimate = trace[-1]
    if evaluate:
        k = min(x.shape[0], y.shape[0])
        alpha = torch.rand(k, 1, generator=gen, device=x.device, dtype=x.dtype)
        probe = torch.cat([x, y, alpha * x[:k] + (1 - alpha) * y[:k]])
        grad_norm = _gradient_norms(critic, probe, create_graph=False).max().detach()
    return CriticResult(
        estimate=estimate,
        trace=trace.cpu(),
        penalty_trace=penalty_trace.cpu(),
        refined_estimate=refined,
        gradient_norm=grad_norm,
        critic=critic,
        constraint=constraint,
        n_steps=n_steps,
    )
