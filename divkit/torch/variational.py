r"""Variational (f-GAN) lower bounds on f-divergences.

For every convex f with conjugate f* (Nguyen, Wainwright & Jordan 2010; Nowozin, Cseke &
Tomioka 2016)::

    D_f(P || Q) = sup_T  E_P[T(x)] - E_Q[f*(T(y))]  >=  E_P[T(x)] - E_Q[f*(T(y))]  for any T,

with equality at ``T = f'(dP/dQ)``. The critic outputs ``V``; ``T = g_f(V)`` with the registry's
activation ``g_f`` keeps ``T`` inside ``dom f*``. Any critic gives a lower bound in expectation
over fresh samples; on the training samples the value can exceed it by the fit to the sample,
which :attr:`VariationalResult.standard_error` helps to judge.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from divkit._validation import renamed_keywords

from ._checks import check_positive_int, check_real
from ._conjugates import TorchFDivergence, get_f_divergence
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


@dataclass(frozen=True)
class VariationalResult:
    """A variational lower bound on ``D_f(P || Q)``.

    Attributes
    ----------
    estimate : Tensor
        0-d: ``mean T(x) - mean f*(T(y))`` with the final critic, over the held-out samples when
        ``holdout > 0`` (then a lower bound on D_f in expectation), else over all samples.
    train_estimate : Tensor
        0-d: the same on the training samples (equal to ``estimate`` when ``holdout == 0``).
        It can exceed D_f when the critic overfits the sample.
    standard_error : Tensor
        0-d: ``sqrt(var T(x) / n + var f*(T(y)) / m)`` over the samples ``estimate`` uses, its
        sampling error for a fixed critic.
    trace : Tensor
        ``(n_steps,)`` on the CPU: the mini-batch bound at each step.
    critic : nn.Module
        The trained critic ``V`` (``T = divergence.activation(V)``).
    divergence : TorchFDivergence
        The registry entry used.
    n_steps : int
    """

    estimate: torch.Tensor
    train_estimate: torch.Tensor
    standard_error: torch.Tensor
    trace: torch.Tensor
    critic: nn.Module
    divergence: TorchFDivergence
    n_steps: int


@renamed_keywords(seed="rng")
def variational_f_divergence(
    x,
    y,
    f="kl",
    *,
    f_params=None,
    critic=None,
    n_steps=1000,
    batch_size=512,
    lr=1e-3,
    hidden=DEFAULT_HIDDEN,
    holdout=0.0,
    rng=None,
    check_inputs=True,
):
    r"""Lower bound on ``D_f(P || Q)`` from samples by training an f-GAN critic.

    Maximises ``E_P[g_f(V(x))] - E_Q[f*(g_f(V(y)))]`` with Adam (betas (0.5, 0.999), as in
    f-GAN), mini-batches drawn with replacement.

    Parameters
    ----------
    x : Tensor of shape (n, d) or (n,)
        Samples from P.
    y : Tensor of shape (m, d) or (m,)
        Samples from Q.
    f : str or TorchFDivergence
        Registry name (see :func:`divkit.torch.get_f_divergence`), e.g. ``"kl"``, ``"js"``,
        ``"squared_hellinger"``. Conventions as in CONVENTIONS.md §2 (``"gan"`` estimates
        ``2 JS - log 4``, which is negative near P = Q).
    f_params : dict, optional
        Parameters of the entry (``{"pi": 0.3}``, ``{"alpha": 2.0}``).
    critic : nn.Module, optional
        ``V``, mapping ``(B, d)`` to ``(B,)`` or ``(B, 1)``; default a ReLU MLP (widths
        ``hidden``) initialised from ``rng``.
    n_steps, batch_size, lr : int, int, float
    holdout : float in [0, 1)
        Fraction of each sample (chosen by a seeded permutation) kept out of training and used
        for ``estimate``. With 0 (default) the bound is evaluated on the training samples: fine
        for smooth, low-dimensional problems with thousands of samples, but a flexible critic can
        overfit and push the in-sample value above D_f (measured in
        ``benchmarks/lp_vs_dual.py``: 2.2 against KL = 0.86 in d = 2 with 1024 samples).
    rng : None, int, SeedSequence, BitGenerator, numpy Generator or torch.Generator, optional
        Source of the default critic's initialisation, the split and the batches: anything
        ``numpy.random.default_rng`` accepts (SPEC 7; ``None``, the default, draws fresh
        entropy) seeds a private generator; a ``torch.Generator`` on the samples' device is
        used as it is. ``seed=`` is its deprecated name (its default was 0).

    Returns
    -------
    VariationalResult

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(2000, 1, generator=g, dtype=torch.float64)
    >>> y = torch.randn(2000, 1, generator=g, dtype=torch.float64) + 1.0
    >>> res = variational_f_divergence(x, y, "kl", n_steps=300, lr=1e-2, hidden=(16,))
    >>> 0.4 < res.estimate.item() < 0.6      # KL(N(0,1) || N(1,1)) = 0.5
    True
    """
    divergence = get_f_divergence(f, **(f_params or {}))
    x, y = prepare_samples(x, y, critic, check_inputs)
    n_steps = check_positive_int(n_steps, "n_steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    holdout = check_real(holdout, "holdout", low=0.0, high=1.0, high_open=True)
    gen = torch_generator(rng, x.device)
    if critic is None:
        critic = default_critic(x.shape[1], hidden=hidden, dtype=x.dtype, device=x.device, rng=init_seed(rng, gen))
    params = [p for p in critic.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    x_train, x_test = _split(x, holdout, gen)
    y_train, y_test = _split(y, holdout, gen)

    def terms(xb, yb):
        t_x = divergence.activation(critic_output(critic, xb))
        conj_y = divergence.conjugate(divergence.activation(critic_output(critic, yb)))
        return t_x, conj_y

    trace = torch.zeros(n_steps, dtype=x.dtype, device=x.device)
    for step in range(n_steps):
        t_x, conj_y = terms(sample_rows(x_train, batch_size, gen), sample_rows(y_train, batch_size, gen))
        bound = t_x.mean() - conj_y.mean()
        opt.zero_grad(set_to_none=True)
        (-bound).backward()
        opt.step()
        trace[step] = bound.detach()

    with torch.no_grad():

        def full_bound(xs, ys):
            t_x = divergence.activation(critic_values(critic, xs))
            conj_y = divergence.conjugate(divergence.activation(critic_values(critic, ys)))
            value = t_x.mean() - conj_y.mean()
            var_x = t_x.var() if t_x.numel() > 1 else torch.zeros_like(value)
            var_y = conj_y.var() if conj_y.numel() > 1 else torch.zeros_like(value)
            se = torch.sqrt(var_x / t_x.numel() + var_y / conj_y.numel())
            # infinite terms (a critic whose conjugate overflows) have an infinite, not NaN, error
            return value, torch.nan_to_num(se, nan=float("inf"))

        train_estimate, standard_error = full_bound(x_train, y_train)
        estimate = train_estimate
        if x_test is not None:
            estimate, standard_error = full_bound(x_test, y_test)
    return VariationalResult(
        estimate=estimate,
        train_estimate=train_estimate,
        standard_error=standard_error,
        trace=trace.cpu(),
        critic=critic,
        divergence=divergence,
        n_steps=n_steps,
    )


def _split(data, holdout, gen):
    """(train, test) rows by a seeded permutation; test is None when ``holdout == 0``."""
    n_test = int(round(holdout * data.shape[0]))
    if holdout == 0.0:
        return data, None
    if n_test < 1 or n_test >= data.shape[0]:
        raise ValueError(
            f"holdout={holdout:g} leaves no held-out or no training samples out of {data.shape[0]}"
        )
    perm = torch.randperm(data.shape[0], generator=gen, device=data.device)
    return data[perm[n_test:]], data[perm[:n_test]]


FGAN_GENERATOR_LOSSES = ("saddle", "alternative")


def fgan_losses(f, v_real, v_fake, *, generator="saddle", f_params=None):
    r"""f-GAN critic and generator losses from raw critic outputs (Nowozin, Cseke & Tomioka 2016).

    With ``T = g_f(V)`` (the registry's activation) the variational objective is
    ``F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))] <= D_f(P || Q)``. The critic maximises it;
    the generator minimises it (``"saddle"``) or, with the heuristic of the f-GAN paper's §3.2
    (``"alternative"``), maximises ``E_Q[g_f(V(G(z)))]``.

    ``f*(g_f(v))`` is evaluated in a closed form in ``v`` (e.g. ``softplus(v)`` for ``"gan"``,
    ``v - 1`` for ``"reverse_kl"``, ``expm1(v)`` for ``"squared_hellinger"``), and critic outputs
    are clamped to the entry's :meth:`~TorchFDivergence.critic_range` for the dtype: losses and
    gradients are finite for every finite critic output, float32 and float64 (a saturated
    critic gets a zero gradient beyond that range, never NaN).

    Parameters
    ----------
    f : str, TorchFDivergence or divkit.FDivergence
        Registry entry.
    v_real, v_fake : Tensor
        Raw critic outputs on real and generated samples (any shape; averaged).
    generator : {"saddle", "alternative"}
    f_params : dict, optional
        Parameters of the entry when ``f`` is a name (``{"pi": 0.3}``, ``{"alpha": 2.0}``).

    Returns
    -------
    critic_loss : Tensor
        0-d ``-F`` (minimise it over the critic).
    generator_loss : Tensor
        0-d: ``-E_Q f*(g_f(v_fake))`` (saddle; equals ``F`` up to the real-data term, which does
        not depend on the generator) or ``-E_Q g_f(v_fake)`` (alternative).

    Examples
    --------
    >>> import torch
    >>> v_real, v_fake = torch.tensor([2.0]), torch.tensor([-1e4])
    >>> d_loss, g_loss = fgan_losses("gan", v_real, v_fake)
    >>> round(d_loss.item(), 6), g_loss.item()     # softplus(-2) + softplus(-1e4); -softplus(-1e4)
    (0.126928, -0.0)
    """
    if generator not in FGAN_GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {generator!r}; choose one of {list(FGAN_GENERATOR_LOSSES)}")
    entry = get_f_divergence(f, **(f_params or {}))
    if not isinstance(v_real, torch.Tensor) or not isinstance(v_fake, torch.Tensor):
        raise TypeError("v_real and v_fake must be torch.Tensor critic outputs")
    if v_real.numel() == 0 or v_fake.numel() == 0:
        raise ValueError("v_real and v_fake must be non-empty")
    real_term = entry.clamped_activation(v_real).mean()
    fake_conj = entry.conjugate_of_activation(v_fake).mean()
    critic_loss = fake_conj - real_term
    if generator == "saddle":
        generator_loss = -fake_conj
    else:
        generator_loss = -entry.clamped_activation(v_fake).mean()
    return critic_loss, generator_loss
