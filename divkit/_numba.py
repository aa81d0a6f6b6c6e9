"""Shared numba settings, and a disk cache keyed on divkit's own source.

Every kernel in divkit is private, compiled lazily on first use and cached on disk
(``cache=True``), so ``import divkit`` stays cheap.

``FASTMATH`` lists the LLVM fast-math flags divkit allows. It deliberately leaves out
``nnan`` and ``ninf``: +inf is a legitimate answer (KL with q = 0 < p) and NaN must
propagate to the validation layer rather than be optimised away. ``afn`` (approximate
functions) is left out too so that ``log``/``exp`` keep their libm accuracy.

Why a cache locator of our own
------------------------------
numba stamps a cached kernel with the content of the one file that defines it. A kernel that
calls (and inlines) an ``@njit`` helper from another file keeps its cached machine code when
only the helper's file changes (numba issue 1833), so an edited editable install could run
stale kernels. Importing this module registers :class:`SourceKeyedCacheLocator` in front of
numba's locators: for functions defined inside the divkit package, the stamp is a hash of
*every* ``.py`` file of the package, so any edit anywhere in divkit invalidates all of divkit's
cached kernels, and the next call recompiles them. Where the cache lives is unchanged (numba's
own rules: ``NUMBA_CACHE_DIR`` when set, else ``__pycache__`` next to the source, else the
user-wide cache directory), and functions outside divkit are untouched.

The locator only applies to kernels decorated after this module was imported, so every module
that defines kernels imports ``divkit._numba`` before its first ``@njit``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba.core import caching as _caching

# numba 0.58-0.6x call it _CacheImpl, later releases CacheImpl
_CACHE_IMPL = getattr(_caching, "CacheImpl", None) or getattr(_caching, "_CacheImpl")  # noqa: B009

# a set (numba rejects frozenset); treat it as read-only
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

PACKAGE_DIR = Path(__file__).resolve().parent

_source_hash_memo: dict[tuple, bytes] = {}


def package_source_hash(package_dir: Path = PACKAGE_DIR) -> bytes:
    """SHA-256 over the relative paths and contents of every ``.py`` file under ``package_dir``.

    Memoised on the files' (path, mtime, size) so repeated kernel decorations in one process
    read the sources once (about 1 ms for divkit's ~40 files).
    """
    files = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    key = tuple((str(p), st.st_mtime_ns, st.st_size) for p in files for st in (p.stat(),))
    cached = _source_hash_memo.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(package_dir)).encode())
        digest.update(b"\0")
        digest.update(p.read_bytes())
        digest.update(b"\0")
    _source_hash_memo[key] = digest.digest()
    return _source_hash_memo[key]


def _is_inside(path: str, directory: Path) -> bool:
    try:
        Path(path).resolve().relative_to(directory)
    except (OSError, ValueError):
        return False
    return True


class SourceKeyedCacheLocator(_caching._CacheLocator):
    """Wraps the locator numba would pick and replaces its source stamp by the package hash."""

    def __init__(self, inner):
        self._inner = inner
        # numba reads it to name the file when it refuses to cache a kernel
        self._py_file = getattr(inner, "_py_file", "")

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_source_stamp(self):
        return ("divkit-source-sha256", package_source_hash().hex())

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _is_inside(py_file, PACKAGE_DIR):
            return None
        for locator_class in _CACHE_IMPL._locator_classes:
            if locator_class is cls:
                continue
            inner = locator_class.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


def _install_locator() -> None:
    classes = _CACHE_IMPL._locator_classes
    if not any(getattr(c, "__name__", "") == SourceKeyedCacheLocator.__name__ for c in classes):
        classes.insert(0, SourceKeyedCacheLocator)


# NUMBA_CACHE_LOCATOR_CLASSES, when a user sets it, replaces numba's list wholesale: respect it.
if not os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
    _install_locator()

__all__ = ["FASTMATH", "SourceKeyedCacheLocator", "package_source_hash"]
