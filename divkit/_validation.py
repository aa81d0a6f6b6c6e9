"""Input validation shared by every public function.

Public functions validate here, then dispatch to private kernels. Every error names the
offending argument, so a user never has to guess which input was wrong. Nothing here
normalises silently (CONVENTIONS.md §1).
"""

from __future__ import annotations

import functools
import numbers
import os
import reprlib
import sys
import types
import warnings

import numpy as np
from numba import njit

import divkit._numba  # noqa: F401  (source-keyed kernel cache: registered before any @njit)

#: Default absolute tolerance on ``|sum(p) - 1|`` for histograms. Loose enough for float32
#: inputs of ~10^7 bins, tight enough to catch unnormalised counts.
SUM_ATOL = 1e-6

#: Default relative tolerance on ``|sum(a) - sum(b)|`` for the two marginals of a transport
#: problem (relative to ``max(sum a, sum b)``).
MASS_RTOL = 1e-7


def as_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)``, with numpy's "inhomogeneous shape" error for ragged nested lists
    replaced by one that names the argument."""
    try:
        return np.asarray(x)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc) and "sequence" not in str(exc):
            raise
        raise ValueError(f"{name} is ragged: its nested sequences have different lengths, so it is not "
                         "an array; pass a rectangular array (one length per dimension)") from None


def kind_check(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")


def as_float_array(
    x,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    allow_inf: bool = False,
    check_finite: bool = True,
    dtype=np.float64,
) -> np.ndarray:
    """Convert ``x`` to a float array, refusing NaN, inf, empty and non-numeric input.

    Integer and boolean input is accepted and converted; float32 is converted to ``dtype``
    (float64 by default) so that arithmetic happens in double precision. ``check_finite=False``
    skips the NaN/inf scan for a caller that scans the values itself in a fused pass (the OT
    problem's min/max pass), so that no array is swept twice.
    """
    arr = as_array(x, name)
    kind_check(arr, name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if check_finite:
        _check_finite(arr, name, allow_inf=allow_inf)
    return arr


def _check_finite(arr: np.ndarray, name: str, *, allow_inf: bool = False) -> None:
    if arr.size == 0:
        return
    flat = arr.reshape(-1)
    # A sum is finite only if every term is (inf and NaN propagate through +): one vectorised
    # pass, no temporaries, and no kernel to compile on a first call. The one false alarm, a
    # sum of finite values overflowing, is settled by the exact count below.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(flat)):
            return
    n_nan = n_inf = 0
    for start in range(0, flat.shape[0], _COUNT_CHUNK):
        chunk = flat[start:start + _COUNT_CHUNK]
        n_nan += int(np.count_nonzero(np.isnan(chunk)))
        n_inf += int(np.count_nonzero(np.isinf(chunk)))
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s)")
    if n_inf and not allow_inf:
        raise ValueError(f"{name} contains {n_inf} infinite value(s)")


#: entries per mask while counting non-finite values (bounds the temporary at 1 MiB)
_COUNT_CHUNK = 1 << 20


@njit(cache=True)
def scan_rows(x):
    """Per-row sums plus global counts of NaN, inf and negative entries of a 2-D array."""
    n_rows, n_cols = x.shape
    sums = np.empty(n_rows)
    n_nan = 0
    n_inf = 0
    n_neg = 0
    for r in range(n_rows):
        s = 0.0
        for c in range(n_cols):
            v = x[r, c]
            if v != v:
                n_nan += 1
            elif v == np.inf or v == -np.inf:
                n_inf += 1
            elif v < 0:
                n_neg += 1
            s += v
        sums[r] = s
    return sums, n_nan, n_inf, n_neg


def raise_scan_errors(name: str, n_nan: int, n_inf: int, n_neg: int) -> None:
    """Raise the histogram error for the first kind of bad entry counted by a scan, if any."""
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s)")
    if n_inf:
        raise ValueError(f"{name} contains {n_inf} infinite value(s)")
    if n_neg:
        raise ValueError(f"{name} contains {n_neg} negative value(s): masses must be >= 0")


def as_histograms(
    p,
    name: str,
    *,
    axis: int = -1,
    normalize: bool = False,
    atol: float = SUM_ATOL,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate histograms along ``axis``.

    Returns ``(arr, sums)`` where ``arr`` is ``p`` as an array with ``axis`` moved last
    (numeric dtype preserved: kernels accumulate in float64) and ``sums`` holds the
    per-histogram totals in float64 with shape ``arr.shape[:-1]``. The data is never copied
    when ``p`` is already a contiguous numeric array and ``axis`` is the last one.

    Raises ``ValueError`` naming ``name`` for NaN, inf, negative mass, empty histograms, or
    totals differing from 1 by more than ``atol`` (unless ``normalize`` is true, in which
    case only a zero total is an error; the caller divides by ``sums``).
    """
    arr = as_array(p, name)
    kind_check(arr, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    try:
        arr = np.moveaxis(arr, axis, -1)
    except np.exceptions.AxisError as exc:
        raise ValueError(f"axis {axis} is out of bounds for {name} with shape {np.shape(p)}") from exc
    if arr.shape[-1] == 0 or arr.size == 0:
        raise ValueError(f"{name} is empty (shape {np.shape(p)})")
    flat = np.ascontiguousarray(arr).reshape(-1, arr.shape[-1])
    sums, n_nan, n_inf, n_neg = scan_rows(flat)
    raise_scan_errors(name, n_nan, n_inf, n_neg)
    sums = sums.reshape(arr.shape[:-1])
    if normalize:
        if np.any(sums <= 0):
            raise ValueError(f"{name} has a histogram of total mass 0: it cannot be normalised")
    else:
        worst = float(np.max(np.abs(sums - 1.0)))
        if worst > atol:
            raise ValueError(
                f"{name} does not sum to 1 along axis {axis} (off by {worst:.3g} > atol={atol:g}); "
                "pass normalize=True to normalise it"
            )
    return np.ascontiguousarray(arr), sums


def as_points(x, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """Point cloud as a float64 ``(n, d)`` array; 1-D input is ``n`` points in 1-D."""
    arr = as_float_array(x, name, ndim=(1, 2), allow_empty=allow_empty)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has points of dimension 0 (shape {arr.shape})")
    return arr


def as_weights(a, n: int, name: str) -> np.ndarray:
    """Non-negative finite float64 weights of length ``n``; ``None`` gives uniform 1/n."""
    if a is None:
        return np.full(n, 1.0 / n)
    arr = as_float_array(a, name, ndim=1)
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} weights but there are {n} points")
    if np.any(arr < 0):
        raise ValueError(f"{name} contains negative weights: masses must be >= 0")
    if not arr.sum() > 0:
        raise ValueError(f"{name} has total mass 0")
    return arr


def check_same_mass(a: np.ndarray, b: np.ndarray, names=("a", "b"), rtol: float = MASS_RTOL) -> None:
    """Raise unless ``sum(a)`` and ``sum(b)`` agree to ``rtol`` (relative to the larger)."""
    sa, sb = float(a.sum()), float(b.sum())
    if abs(sa - sb) > rtol * max(sa, sb):
        raise ValueError(
            f"{names[0]} and {names[1]} have different total mass ({sa!r} vs {sb!r}, "
            f"relative difference {abs(sa - sb) / max(sa, sb):.3g} > rtol={rtol:g})"
        )


def check_scalar(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real scalar inside ``[low, high]`` (ends open on request), as a Python float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return v


def check_bool(value, name: str) -> bool:
    """A real bool (or numpy bool); anything else is a TypeError naming the argument."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_int(value, name: str, *, low: int | None = None) -> int:
    """An integer (Python or numpy) ``>= low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return v


#: What an ``rng`` argument accepts: exactly what ``numpy.random.default_rng`` accepts (SPEC 7).
RNG_ACCEPTS = ("None, an int >= 0, a sequence of ints >= 0, or a numpy.random.SeedSequence, "
               "BitGenerator or Generator")


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """The Generator of a SPEC 7 ``rng`` argument: a Generator is used as is (its state
    advances), anything else goes through ``numpy.random.default_rng`` (``None``: fresh OS
    entropy). A value numpy refuses raises an error naming ``name`` instead of numpy's
    ``SeedSequence`` message; booleans are refused (``True`` is not a seed)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"{name} must be {RNG_ACCEPTS}, got {rng!r}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} must be {RNG_ACCEPTS} (what numpy.random.default_rng accepts), "
                        f"got {reprlib.repr(rng)}") from None


def _first_outside_divkit() -> int:
    """The ``stacklevel`` (as seen from the caller of this function) of the first frame whose
    code lies outside the divkit package: a deprecation warning then points at the user's line
    however many divkit frames sit between (e.g. the callable ``divkit.pairwise`` package)."""
    # sys._getframe(2) is the frame that stacklevel=2 names for our caller (level 1 is the caller
    # itself), so the count starts at 2.
    frame: types.FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None and _is_divkit_file(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def _is_divkit_file(path: str) -> bool:
    # PACKAGE_DIR is symlink-resolved, and so must the frame's file be: CI checks the package out
    # under a symlinked directory, where the unresolved path never matched.
    return os.path.realpath(path).startswith(divkit._numba.PACKAGE_DIR.as_posix() + os.sep)


def rename_keywords(where: str, kwargs: dict, renames: dict, *, stacklevel: int = 2) -> dict:
    """``kwargs`` with each deprecated ``old`` key of ``renames`` moved to its ``new`` name and a
    ``DeprecationWarning`` naming the new keyword (``where`` says which call); both given is a
    TypeError. Used by :func:`renamed_keywords` and by functions that forward ``**options``."""
    out = dict(kwargs)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise TypeError(f"{where} got {old}= (deprecated) and {new}=: pass only {new}=")
        warnings.warn(f"{where}: the keyword {old}= is deprecated, use {new}= instead "
                      f"({old}= will be removed in divkit {RENAMED_KEYWORDS_REMOVED_IN})",
                      DeprecationWarning, stacklevel=max(stacklevel, _first_outside_divkit()))
        out[new] = out.pop(old)
    return out


#: The release in which keywords renamed by :func:`renamed_keywords` stop being accepted.
RENAMED_KEYWORDS_REMOVED_IN = "0.3"


def renamed_keywords(**renames: str):
    """Decorator accepting old keyword names for one release: ``old=value`` is passed on as
    ``new=value`` with a ``DeprecationWarning`` naming the new keyword; giving both is a
    TypeError. The one shared implementation of every keyword rename in divkit (docs/api_style.rst).
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **rename_keywords(f"{func.__name__}()", kwargs, renames, stacklevel=3))

        wrapper.renamed_keywords = dict(renames)
        return wrapper

    return decorate


def to_scalar(x):
    """0-d results as Python floats (CONVENTIONS.md §5), arrays unchanged."""
    if np.ndim(x) == 0:
        return float(x)
    return x



def probability_weights(w, n: int, name: str, *, normalize: bool = False):
    """The one weight rule of divkit (docs/conventions.md, "Weights and normalisation").

    ``None`` stays ``None`` (uniform ``1/n``; callers that need the array ask
    :func:`uniform_if_none`). Otherwise the weights must be non-negative and finite
    (:func:`as_weights`) and sum to 1 within ``SUM_ATOL``, unless ``normalize=True``, which
    divides them by their (positive) total (so ``normalize=True`` on ``w`` gives exactly what
    ``w / w.sum()`` gives without it). Weights that pass the check unnormalised are returned as
    given.
    """
    normalize = check_bool(normalize, "normalize")
    if w is None:
        return None
    arr = as_weights(w, n, name)
    total = float(arr.sum())
    if normalize:
        if not total > 0.0:
            raise ValueError(f"{name} has total mass {total!r}: it cannot be normalised")
        return arr / total
    if abs(total - 1.0) > SUM_ATOL:
        raise ValueError(f"{name} must sum to 1, but {name} sums to {total!r}, not 1 (off by {abs(total - 1.0):.3g} > "
                         f"atol={SUM_ATOL:g}): weights are the masses of a probability measure; "
                         "pass normalize=True to normalise them")
    return arr


def uniform_if_none(w, n: int):
    """``w``, or the uniform weights ``1/n`` when ``w`` is None."""
    return np.full(n, 1.0 / n) if w is None else w

__all__ = [
    "probability_weights",
    "uniform_if_none",
    "MASS_RTOL",
    "SUM_ATOL",
    "as_float_array",
    "as_histograms",
    "as_points",
    "RNG_ACCEPTS",
    "as_array",
    "as_rng",
    "rename_keywords",
    "renamed_keywords",
    "as_weights",
    "check_bool",
    "check_int",
    "check_same_mass",
    "check_scalar",
    "power_of_two_scale",
    "to_scalar",
]


#: Magnitudes outside [SAFE_LOW, SAFE_HIGH] are rescaled by a power of two before squaring or
#: raising to a power, so that d^p neither overflows nor underflows (the rescaling is exact).
SAFE_HIGH = 1e100
SAFE_LOW = 1e-100


def power_of_two_scale(*arrays) -> float:
    """A power of two ``s`` with ``max |arrays| / s`` in [1, 2) when that maximum lies outside
    ``[SAFE_LOW, SAFE_HIGH]`` (else 1.0). Dividing by ``s`` is exact in floating point, and every
    homogeneous quantity (a distance, W_p) scales back by multiplication."""
    amax = max(max(float(a.max()), -float(a.min())) for a in arrays if a.size)
    if amax == 0.0 or SAFE_LOW <= amax <= SAFE_HIGH:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(amax)[1]) - 1))
