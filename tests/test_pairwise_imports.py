"""Core divkit, divkit.pairwise and the MMD functions never import dask or distributed."""

import subprocess
import sys


def _modules_after(code: str) -> set:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    return set(out.stdout.split())


def test_pairwise_and_mmd_do_not_import_dask():
    loaded = _modules_after(
        "import numpy as np, divkit\n"
        "c = [np.arange(6.0).reshape(3, 2), np.arange(8.0).reshape(4, 2)]\n"
        "divkit.pairwise(c)\n"
        "divkit.pairwise(c, metric='mmd2')\n"
        "divkit.pairwise(np.eye(3) + 0.1, metric='js', normalize=True)\n"
        "divkit.mmd2(c[0], c[1]); divkit.energy_distance(c[0], c[1])\n"
        "divkit.mmd_test(c[0], c[1], n_permutations=9, rng=0)\n"
    )
    for name in ("dask", "distributed", "tqdm"):
        assert name not in loaded, f"{name} was imported"


def test_import_divkit_does_not_import_pairwise_machinery():
    loaded = _modules_after("import divkit")
    assert "divkit.pairwise" not in loaded and "divkit.distributed" not in loaded


def test_pairwise_name_is_callable_after_importing_the_subpackage():
    out = subprocess.run(
        [sys.executable, "-c",
         ("import divkit.pairwise.api, divkit\n"
          "from divkit.pairwise import PairwiseResult\n"
          "r = divkit.pairwise([[[0.0]], [[2.0]]])\n"
          "print(isinstance(r, PairwiseResult), r.matrix[0, 1])")],
        capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "2.0"]
