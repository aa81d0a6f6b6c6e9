"""Pieces shared by the critic trainers: the default MLP, seeding, batching, argument checks."""

from __future__ import annotations

import numbers
from typing import cast

import numpy as np
import torch
from torch import nn

from divkit._validation import RNG_ACCEPTS, as_rng, check_bool, renamed_keywords

from ._checks import (
    as_point_tensor,
    check_finite,
    check_same_device,
    check_same_dim,
    common_dtype,
)

#: Hidden widths of the default critic (ReLU MLP d -> 128 -> 128 -> 1).
DEFAULT_HIDDEN = (128, 128)


#: Integer seeds below this bound seed a torch generator directly (``manual_seed(rng)``, so
#: ``rng=0`` reproduces the former ``seed=0``); any other ``rng`` seeds it with a draw of
#: ``numpy.random.default_rng(rng)``.
TORCH_SEED_BOUND = 2**63


def _direct_seed(rng) -> int | None:
    """``rng`` itself when it is an int usable as a torch seed, else None."""
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and 0 <= int(rng) < TORCH_SEED_BOUND:
        return int(rng)
    return None


def seed_int(rng, name: str = "rng") -> int:
    """An integer torch seed from a SPEC 7 ``rng`` (anything ``numpy.random.default_rng``
    accepts; ``None`` draws fresh entropy); errors name ``name``."""
    direct = _direct_seed(rng)
    if direct is not None:
        return direct
    return int(as_rng(rng, name).integers(TORCH_SEED_BOUND))


def torch_generator(rng, device, name: str = "rng") -> torch.Generator:
    """The private torch generator of an ``rng`` argument: a ``torch.Generator`` (on the
    tensors' device type) is used as it is, so successive calls continue its stream; anything
    ``numpy.random.default_rng`` accepts seeds a new generator on ``device`` (:func:`seed_int`)."""
    device = torch.device(device)
    if isinstance(rng, torch.Generator):
        if rng.device.type != device.type:
            raise ValueError(f"{name} is a torch.Generator on {rng.device} but the tensors are on {device}")
        return rng
    if rng is not None and not isinstance(rng, (numbers.Integral, np.random.SeedSequence, np.random.BitGenerator,
                                                 np.random.Generator, list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be {RNG_ACCEPTS} (what numpy.random.default_rng accepts) or a "
                        f"torch.Generator, got {rng!r}")
    gen = torch.Generator(device=device)
    gen.manual_seed(seed_int(rng, name))
    return gen


def init_seed(rng, gen: torch.Generator) -> int:
    """The seed of the default critic's initialisation for an ``rng`` whose training generator
    is ``gen``: ``rng`` itself for an int (as the former ``seed=``), else one draw of ``gen``
    (called only when the default critic is built, so a given critic leaves ``gen`` as it is)."""
    direct = _direct_seed(rng)
    if direct is not None:
        return direct
    return int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device).item())


def critic_output(critic, batch: torch.Tensor, name: str = "critic") -> torch.Tensor:
    """``critic(batch)`` as a 1-D tensor of one value per row; any other output shape (a
    critic with several outputs, or one that reduces the batch) is an error naming ``critic``
    rather than a silently flattened, wrong objective."""
    out = critic(batch)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{name} must return a torch.Tensor, got {type(out).__name__}")
    rows = batch.shape[0]
    if out.shape not in ((rows,), (rows, 1)):
        raise ValueError(f"{name} must map a batch of shape {tuple(batch.shape)} to shape ({rows},) or "
                         f"({rows}, 1) (one value per row), got shape {tuple(out.shape)}")
    return out.reshape(rows)


@renamed_keywords(seed="rng")
def default_critic(dim: int, *, hidden=DEFAULT_HIDDEN, dtype=None, device=None, rng=None) -> nn.Module:
    """A ReLU MLP ``dim -> hidden... -> 1``, initialised from ``rng`` without touching the
    global RNG state; the output layer starts at zero (so the critic starts at f = 0).

    ``rng`` is anything ``numpy.random.default_rng`` accepts (SPEC 7; ``None``, the default,
    draws fresh entropy; an int ``s`` initialises as ``torch.manual_seed(s)`` would). ``seed=``
    is its deprecated name.

    Examples
    --------
    >>> net = default_critic(2, hidden=(8,), rng=1)
    >>> tuple(net(__import__("torch").zeros(5, 2)).shape)
    (5, 1)
    """
    init_seed = seed_int(rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
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
    if check_bool(check_inputs, "check_inputs"):
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
    return torch.cat([critic_output(critic, data[i : i + chunk]) for i in range(0, data.shape[0], chunk)])
