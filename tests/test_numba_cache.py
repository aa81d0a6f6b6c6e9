"""Cached kernels never go stale: divkit keys numba's disk cache on its whole source.

numba stamps a cached kernel with the file that defines it only, so editing an ``@njit`` helper
in another file leaves the caller's cached machine code in place (numba issue 1833).
``divkit._numba`` replaces the stamp by a hash of every divkit source file. These tests copy the
package to a temporary directory, add a kernel in one file calling a helper in another, run it in
fresh subprocesses, edit the helper, and check that the edit takes effect.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import divkit

HELPER = textwrap.dedent(
    """
    from numba import njit


    @njit(inline="always")
    def probe_helper(x):
        return x + 1.0
    """
)

KERNEL = textwrap.dedent(
    """
    import divkit._numba  # noqa: F401  (installs the source-keyed cache locator)
    from numba import njit

    from divkit._probe_helper import probe_helper


    @njit(cache=True)
    def probe_kernel(x):
        return probe_helper(x) * 10.0
    """
)

RUN = (
    "from divkit._probe_kernel import probe_kernel\n"
    "value = probe_kernel(1.0)\n"
    "print(value, sum(probe_kernel.stats.cache_hits.values()))\n"
)


def _copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(
        Path(divkit.__file__).parent, root / "divkit", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    )
    (root / "divkit" / "_probe_helper.py").write_text(HELPER)
    (root / "divkit" / "_probe_kernel.py").write_text(KERNEL)
    return root


def _run(root: Path, cache_dir: Path, locators: str | None = None) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = str(root)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    if locators is not None:
        env["NUMBA_CACHE_LOCATOR_CLASSES"] = locators
    out = subprocess.run(
        [sys.executable, "-c", RUN], capture_output=True, text=True, env=env, cwd=root, check=True, timeout=300
    )
    value, hits = out.stdout.split()
    return float(value), int(hits)


def _edit_helper(root: Path) -> None:
    helper = root / "divkit" / "_probe_helper.py"
    helper.write_text(HELPER.replace("x + 1.0", "x + 2.0"))


def test_editing_an_inlined_helper_in_another_file_invalidates_the_cached_kernel(tmp_path):
    root = _copy_package(tmp_path)
    cache = tmp_path / "cache"
    assert _run(root, cache) == (20.0, 0)  # compiled and written to the cache
    assert _run(root, cache) == (20.0, 1)  # a fresh process loads it from the cache
    _edit_helper(root)
    value, hits = _run(root, cache)
    assert value == 30.0 and hits == 0  # recompiled with the edited helper, not the stale kernel
    assert _run(root, cache) == (30.0, 1)  # and cached again
    assert any(cache.rglob("*.nbi")), "NUMBA_CACHE_DIR was not used"


def test_numba_default_locators_would_have_served_the_stale_kernel(tmp_path):
    # The control: with numba's own locators (what divkit did before) the same edit is missed.
    # If numba ever fixes issue 1833 this stops being stale, which is fine: skip, don't fail.
    root = _copy_package(tmp_path)
    cache = tmp_path / "cache"
    default = "UserProvidedCacheLocator,InTreeCacheLocator,UserWideCacheLocator"
    assert _run(root, cache, default)[0] == 20.0
    _edit_helper(root)
    value, hits = _run(root, cache, default)
    if value == 30.0:
        pytest.skip("this numba version invalidates cached callers of edited helpers by itself")
    assert (value, hits) == (20.0, 1)


def test_source_hash_changes_with_any_file(tmp_path):
    from divkit._numba import package_source_hash

    root = _copy_package(tmp_path)
    before = package_source_hash(root / "divkit")
    assert package_source_hash(root / "divkit") == before
    (root / "divkit" / "ot" / "one_d.py").write_text((root / "divkit" / "ot" / "one_d.py").read_text() + "\n# edit\n")
    assert package_source_hash(root / "divkit") != before
