"""Pieces shared by the critic trainers: the default MLP, seeding, batching, argument checks."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from ._checks import (
    as_point_tensor,
    check_finite,
    check_same_device,
    check_same_dim,
    common_dtype,
)

#: Hidden widths of the default critic (ReLU MLP d -> 128 -> 128 -> 1).
DEFAULT_HIDDEN = (128, 128)


def default_critic(dim: int, *, hidden=DEFAULT_HIDDEN, dtype=None, device=None, seed: int = 0) -> nn.Module:
    """A ReLU MLP ``dim -> hidden... -> 1``, initialised from ``seed`` without touching the
    global RNG state; the output layer starts at zero (so the critic starts at f = 0).

    Examples
    --------
    >>> net = default_critic(2, hidden=(8,), seed=1)
    >>> tuple(net(__import__("torch").zeros(5, 2)).shape)
    (5, 1)
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = []
        width = dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        # Start from f = 0: the two-sided gradient penalty has a spurious local maximum at the
        # sign-flipped critic (slope -1 along the transport direction, value -W1), and a random
        # output layer can start in its basin. From f = 0 the first steps follow E_P f - E_Q f.
        nn.init.zeros_(cast(nn.Linear, layers[-1]).weight)
        nn.init.zeros_(cast(nn.Linear, layers[-1]).bias)
        net = nn.Sequential(*layers)
    return net.to(device=device, dtype=dtype)


def prepare_samples(x, y, critic, check_inputs: bool):
    """Validated ``(x, y)`` in a common floating dtype, plus the critic (default if None)."""
    x = as_point_tensor(x, "x")
    y = as_point_tensor(y, "y")
    check_same_device(x=x, y=y)
    check_same_dim(x, y)
    dtype = common_dtype(x, y)
    x, y = x.to(dtype), y.to(dtype)
    if check_inputs:
        check_finite(x, "x")
        check_finite(y, "y")
    if critic is not None:
        if not isinstance(critic, nn.Module):
            raise TypeError(f"critic must be a torch.nn.Module, got {type(critic).__name__}")
        params = list(critic.parameters())
        if not params:
            raise ValueError("critic has no trainable parameters")
        if params[0].device != x.device:
            raise ValueError(f"critic parameters are on {params[0].device} but x and y are on {x.device}")
        if params[0].is_floating_point() and params[0].dtype != dtype:
            raise TypeError(
                f"critic parameters are {params[0].dtype} but x and y are {dtype}: convert one of them"
            )
    return x.detach(), y.detach()


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def sample_rows(data: torch.Tensor, batch: int, gen: torch.Generator) -> torch.Tensor:
    """``batch`` rows drawn with replacement, on the data's device (no host round-trip);
    the whole sample when ``batch`` covers it."""
    n = data.shape[0]
    if batch >= n:
        return data
    idx = torch.randint(n, (batch,), generator=gen, device=data.device)
    return data[idx]


def critic_values(critic: nn.Module, data: torch.Tensor, chunk: int = 65536) -> torch.Tensor:
    """critic(data) as a 1-D tensor, evaluated in chunks."""
    return torch.cat([critic(data[i : i + chunk]).reshape(-1) for i in range(0, data.shape[0], chunk)])
