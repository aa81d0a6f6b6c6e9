"""Validation of tensor arguments: every error names the argument it is about.

Checks that need the values (finiteness) synchronise with the host once; they run in the
public entry points, never inside a training step.
"""

from __future__ import annotations

import torch

from divkit._validation import check_int, check_scalar


def as_float_tensor(x, name: str) -> torch.Tensor:
    """``x`` as a floating tensor; integer and boolean tensors become the default dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_complex():
        raise TypeError(f"{name} must be real-valued, got complex dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    return x


def as_point_tensor(x, name: str) -> torch.Tensor:
    """A point cloud ``(n, d)``; 1-D input is ``n`` points in 1-D."""
    x = as_float_tensor(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (n points x d dimensions), got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    if x.shape[1] == 0:
        raise ValueError(f"{name} has points of dimension 0 (shape {tuple(x.shape)})")
    return x


def check_same_device(**tensors: torch.Tensor) -> torch.device:
    """All tensors on one device; the error names every argument and its device."""
    devices = {name: t.device for name, t in tensors.items() if t is not None}
    if len(set(devices.values())) > 1:
        listing = ", ".join(f"{name} on {dev}" for name, dev in devices.items())
        raise ValueError(f"tensors must be on the same device, got {listing}")
    return next(iter(devices.values()))


def check_same_dim(x: torch.Tensor, y: torch.Tensor, names=("x", "y")) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have points of the same dimension, got "
            f"{names[0]} of shape {tuple(x.shape)} and {names[1]} of shape {tuple(y.shape)}"
        )


def check_finite(x: torch.Tensor, name: str) -> None:
    """Raise for NaN or inf entries (one host synchronisation)."""
    if x.device.type == "meta":
        return
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int((~finite).sum()) - n_nan
        raise ValueError(f"{name} contains {n_nan} NaN and {n_inf} infinite value(s)")


def common_dtype(*tensors: torch.Tensor) -> torch.dtype:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def check_positive_int(value, name: str, *, low: int = 1) -> int:
    """An integer ``>= low`` (the shared validator of the numpy side)."""
    return check_int(value, name, low=low)


#: scalar parameters are validated exactly as on the numpy side
check_real = check_scalar
