"""Packaging hygiene: import divkit is light, optional dependencies stay optional."""

import subprocess
import sys

import divkit


def _modules_after(code: str) -> set:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_divkit_loads_no_heavy_or_optional_module():
    loaded = _modules_after("import divkit")
    for heavy in ("torch", "ot", "numba", "scipy", "matplotlib"):
        assert heavy not in loaded, f"import divkit imported {heavy}"


def test_core_functions_do_not_import_torch_or_pot():
    loaded = _modules_after(
        "import numpy as np, divkit\n"
        "divkit.kl([0.5, 0.5], [0.25, 0.75])\n"
        "divkit.wasserstein(np.arange(3.0), np.arange(3.0) + 1)\n"
        "divkit.mmd2(np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(3, 2) + 1)"
    )
    assert "torch" not in loaded
    assert "ot" not in loaded


def test_every_export_resolves():
    for name in divkit.__all__:
        assert getattr(divkit, name) is not None, name
    for sub in ("fdivergences", "divergences", "gaussian", "ot", "mmd"):
        assert getattr(divkit, sub).__name__ == f"divkit.{sub}"
    assert set(divkit.__all__) <= set(dir(divkit))


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        divkit.nope  # noqa: B018
