"""divkit: distances and divergences between probability distributions, with proofs attached.

Every public name is imported lazily, so ``import divkit`` loads neither numba kernels nor any
optional dependency (torch, POT); the first use of a function compiles or loads its cached
kernels.

>>> from divkit import kl, tv
>>> round(kl([0.5, 0.5], [0.25, 0.75]), 6)
0.143841
>>> tv([1.0, 0.0], [0.0, 1.0])
1.0
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # f-divergence family and D_f on histograms
    "FDivergence": "divkit.fdivergences",
    "Interval": "divkit.fdivergences",
    "F_DIVERGENCES": "divkit.fdivergences",
    "get_f_divergence": "divkit.fdivergences",
    "f_divergence": "divkit.fdivergences",
    # closed forms on histograms
    "kl": "divkit.divergences",
    "js": "divkit.divergences",
    "js_distance": "divkit.divergences",
    "tv": "divkit.divergences",
    "hellinger": "divkit.divergences",
    "squared_hellinger": "divkit.divergences",
    "pearson_chi2": "divkit.divergences",
    "neyman_chi2": "divkit.divergences",
    "jeffreys": "divkit.divergences",
    "entropy": "divkit.divergences",
    "cross_entropy": "divkit.divergences",
    # exact optimal transport
    "emd": "divkit.ot",
    "emd_batch": "divkit.ot",
    "BatchOTResult": "divkit.ot",
    "wasserstein": "divkit.ot",
    "wasserstein_1d": "divkit.ot",
    "sliced_wasserstein": "divkit.ot",
    "cost_matrix": "divkit.ot",
    "OTResult": "divkit.ot",
    "Certificate": "divkit.ot",
    "OptimalityError": "divkit.ot",
    "KRPotential": "divkit.ot",
    "kantorovich_rubinstein_potential": "divkit.ot",
    # maximum mean discrepancy
    "mmd2": "divkit.mmd",
    "mmd_test": "divkit.mmd",
    "energy_distance": "divkit.mmd",
    "MMDTestResult": "divkit.mmd",
    "median_bandwidth": "divkit.mmd",
    # matrices over many distributions (local cores or a dask cluster)
    "pairwise": "divkit.pairwise",
    "PairwiseResult": "divkit.pairwise",
    "PairwiseError": "divkit.pairwise",
    # generative-model metrics on features
    "frechet_distance": "divkit.generative",
    "frechet_distance_from_moments": "divkit.generative",
    "feature_moments": "divkit.generative",
    "kid": "divkit.generative",
    "KIDResult": "divkit.generative",
    # the one thread setting
    "set_workers": "divkit._workers",
}

# subpackages reachable as attributes (divkit.torch is imported explicitly by its users)
_SUBMODULES = {"fdivergences", "divergences", "gaussian", "ot", "mmd", "generative"}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"divkit.{name}")
    raise AttributeError(f"module 'divkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)


__all__ = sorted(_EXPORTS)
