"""divkit.torch: a thin, device-agnostic torch layer.

Tensors in, tensors out: dtype and device are preserved and nothing inside a training step
synchronises with the host. It holds

* the f-divergence table in torch (:func:`get_f_divergence`), with conjugates and output
  activations matching ``divkit.get_f_divergence`` (CONVENTIONS.md §2);
* critic estimates of W1 (:func:`critic_wasserstein`; WGAN weight clipping, two- and one-sided
  gradient penalty, c-transform refinement) and variational f-divergence lower bounds
  (:func:`variational_f_divergence`, f-GAN);
* differentiable losses: :func:`mmd2` (same kernels and estimators as ``divkit.mmd2``) and the
  exact :func:`wasserstein` (forward: divkit's exact solver; backward: optimal plan and centred
  potentials);
* training-loop pieces: :func:`gradient_penalty`, :func:`wgan_critic_loss` and
  :func:`fgan_losses` (finite values and gradients at saturated critics);
* evaluation metrics on the tensors' device: :func:`frechet_distance` (FID) and :func:`kid`.

Core divkit never imports torch; this subpackage requires it (``pip install divkit[torch]``).
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "divkit.torch requires PyTorch, which is not installed: pip install divkit[torch]"
    ) from exc

from ._conjugates import (
    F_DIVERGENCES,
    Interval,
    TorchFDivergence,
    get_f_divergence,
    wright_omega,
)
from ._training import default_critic
from .critics import (
    CriticResult,
    c_transform_refinement,
    critic_wasserstein,
    gradient_penalty,
    wgan_critic_loss,
)
from .generative import KIDResult, frechet_distance, kid
from .losses import KERNELS, MMD_ESTIMATORS, exact_ot_cost, mmd2, wasserstein
from .variational import VariationalResult, fgan_losses, variational_f_divergence

__all__ = [
    "F_DIVERGENCES",
    "KERNELS",
    "MMD_ESTIMATORS",
    "CriticResult",
    "Interval",
    "KIDResult",
    "TorchFDivergence",
    "VariationalResult",
    "c_transform_refinement",
    "critic_wasserstein",
    "default_critic",
    "exact_ot_cost",
    "fgan_losses",
    "frechet_distance",
    "get_f_divergence",
    "gradient_penalty",
    "kid",
    "mmd2",
    "variational_f_divergence",
    "wasserstein",
    "wgan_critic_loss",
    "wright_omega",
]
