"""Shared numba settings, and a disk cache keyed on divkit's own source.

Every kernel in divkit is private, compiled lazily on first use and cached on disk
(``cache=True``), so ``import divkit`` stays cheap.

``FASTMATH`` lists the LLVM fast-math flags divkit allows. It deliberately leaves out
``nnan`` and ``ninf``: +inf is a legitimate answer (KL with q = 0 < p) and NaN must
propagate to the validation layer rather than be optimised away. ``afn`` (approximate
functions) is left out too so that ``log``/``exp`` keep their libm accuracy.

Kernels built per variant
-------------------------
Loops that serve several variants (divergence codes, MMD kernels) are closures built once per
variant by :func:`build_once`, with the variant in closure cells that numba types as literals;
overloads read those literals with :func:`literal_value` and pick the variant's helper build
while the loop is typed, so a call compiles its own variant only. ``filled_float``,
``filled_int`` and ``array_max`` stand in for numpy routines whose numba implementations would
each compile anew in every process.

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

Parallel builds on demand
-------------------------
A ``parallel=True`` build takes seconds to compile (numba's parfor passes and the gufunc
wrapper) and only pays off on large inputs. :func:`parallel_kernel` makes two builds of one
source, a serial one and a parallel one (``prange`` is ``range`` in the serial build, so both
compute the same thing in the same order), each compiled or loaded from the cache on first use;
a call runs the parallel build only when its input is large enough (``PARALLEL_MIN_WORK``) and
more than one thread is available. Small inputs never compile the parallel build.
"""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from numba import types as nbtypes
from numba.core import caching as _caching
from numba.core import cgutils
from numba.extending import intrinsic

# numba 0.58-0.6x call it _CacheImpl, later releases CacheImpl
_CACHE_IMPL = getattr(_caching, "CacheImpl", None) or getattr(_caching, "_CacheImpl")  # noqa: B009

# a set (numba rejects frozenset); treat it as read-only
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

PACKAGE_DIR = Path(__file__).resolve().parent

_source_hash_memo: dict[tuple, bytes] = {}
_source_files_memo: dict[Path, list[Path]] = {}


def _source_files(package_dir: Path) -> list[Path]:
    # the directory walk is the expensive part (numba stamps every kernel at decoration, ~100 in
    # a process): walk once per process; files are re-stat'ed on every call
    files = _source_files_memo.get(package_dir)
    if files is None:
        files = _source_files_memo[package_dir] = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    return files


def package_source_hash(package_dir: Path = PACKAGE_DIR) -> bytes:
    """SHA-256 over the relative paths and contents of every ``.py`` file under ``package_dir``.

    Memoised on the files' (path, mtime, size) so repeated kernel decorations in one process
    read the sources once (about 1 ms for divkit's ~40 files). The list of files is taken once
    per process (a file added while a process runs is seen by the next process).
    """
    files = _source_files(package_dir)
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


#: inner-loop steps (e.g. cost-matrix entries) below which a ``parallel_kernel`` runs its serial
#: build: waking the thread pool costs more than it saves there
PARALLEL_MIN_WORK = 1 << 18


class ParallelKernel:
    """A serial and a parallel build of one kernel source, picked per call by input size.

    ``work(*args)`` estimates a call's inner-loop steps. Both builds are made lazily; the serial
    build is a copy of the function under its own qualified name (``<name>__serial``), so the
    two builds have separate disk-cache entries.
    """

    def __init__(self, py_func: Callable, work: Callable[..., int], options: dict):
        self.py_func = py_func
        self.work = work
        self._options = options
        self._serial = None
        self._parallel = None
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__doc__ = py_func.__doc__
        self.__module__ = py_func.__module__

    @property
    def serial(self):
        if self._serial is None:
            f = self.py_func
            copy = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
            copy.__qualname__ = f"{f.__qualname__}__serial"
            copy.__module__ = f.__module__
            copy.__doc__ = f.__doc__
            self._serial = numba.njit(parallel=False, **self._options)(copy)
        return self._serial

    @property
    def parallel(self):
        if self._parallel is None:
            self._parallel = numba.njit(parallel=True, **self._options)(self.py_func)
        return self._parallel

    def __call__(self, *args):
        if self.work(*args) >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1:
            return self.parallel(*args)
        return self.serial(*args)


@intrinsic
def next_task(typingctx, counter, step):
    """``counter[0] += step`` as one atomic read-modify-write; returns the old value.

    The batch kernels hand out problems with it (dynamic scheduling): each of the
    ``prange(n_workers)`` iterations takes the next problem until none is left. numba's
    ``prange`` splits its range statically, so a thread whose core is briefly taken by
    another process (or that drew the harder problems) made the others wait for it: with
    two threads a pairwise batch of 4950 50-point problems kept 1.76 cores busy (the anchor,
    OpenMP with dynamic scheduling, 1.93). Which thread solves a problem never changes its
    bits: every problem writes only its own slots."""
    if not (isinstance(counter, nbtypes.Array) and counter.dtype == nbtypes.int64
            and counter.ndim == 1 and isinstance(step, nbtypes.Integer)):
        return None
    sig = nbtypes.int64(counter, step)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        first = cgutils.get_item_pointer(context, builder, array_type, array,
                                         [context.get_constant(nbtypes.intp, 0)])
        amount = context.cast(builder, args[1], signature.args[1], nbtypes.int64)
        return builder.atomic_rmw("add", first, amount, "seq_cst")

    return sig, codegen


def parallel_kernel(work: Callable[..., int], **options) -> Callable[[Callable], ParallelKernel]:
    """Decorator: ``@parallel_kernel(work, cache=True, ...)`` in place of
    ``@njit(cache=True, parallel=True, ...)`` for a kernel called from Python."""

    def decorate(py_func: Callable) -> ParallelKernel:
        return ParallelKernel(py_func, work, options)

    return decorate


# NUMBA_CACHE_LOCATOR_CLASSES, when a user sets it, replaces numba's list wholesale: respect it.
if not os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
    _install_locator()


_BUILDS: dict = {}


def build_once(builder: Callable, *key):
    """``builder(*key)``, made on the first call with this builder and key and kept for the
    process. Kernels built per variant (a closure per divergence code, MMD kernel, ...) are
    decorated once each, so numba compiles or loads each build at most once per process."""
    kernel = _BUILDS.get((builder, key))
    if kernel is None:
        kernel = _BUILDS[(builder, key)] = builder(*key)
    return kernel


def built_keys(builder: Callable) -> list:
    """The keys :func:`build_once` has built with ``builder`` in this process, sorted."""
    return sorted(key for made_by, key in _BUILDS if made_by is builder)


def literal_value(value, what: str):
    """The value of a literal numba type (an integer or boolean compile-time constant), for an
    ``@overload`` that picks a per-variant build while its caller is typed; a ``TypingError``
    naming ``what`` for anything else."""
    if not isinstance(value, (nbtypes.IntegerLiteral, nbtypes.BooleanLiteral)):
        raise numba.errors.TypingError(f"the {what} must be a compile-time constant")
    return value.literal_value


# Allocation and reduction helpers for kernels on first-call paths. numba compiles the
# implementation of np.zeros, np.ones, np.full, np.empty_like and ndarray.max anew in every
# process, once per argument-type spelling (0.1-0.7 s each on a cold cache); np.empty with a
# float64 or int64 dtype is compiled once and shared, and these loops are inlined where used.
@numba.njit(cache=True, inline="always")
def filled_float(n, value):
    """``np.full(n, value)`` in float64."""
    out = np.empty(n)
    for i in range(n):
        out[i] = value
    return out


@numba.njit(cache=True, inline="always")
def filled_int(n, value):
    """``np.full(n, value)`` in int64."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = value
    return out


@numba.njit(cache=True, inline="always")
def array_max(x):
    """``x.max()`` of a 1-D array: NaN propagates, as in numpy, and an empty array raises."""
    if x.shape[0] == 0:
        raise ValueError("zero-size array to reduction operation maximum which has no identity")
    best = x[0]
    for i in range(1, x.shape[0]):
        v = x[i]
        if v > best or v != v:
            best = v
    return best


__all__ = ["FASTMATH", "PARALLEL_MIN_WORK", "ParallelKernel", "SourceKeyedCacheLocator",
           "array_max", "build_once", "built_keys", "filled_float", "filled_int", "literal_value",
           "next_task", "package_source_hash", "parallel_kernel"]
