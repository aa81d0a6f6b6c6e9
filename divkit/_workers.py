"""The one thread setting of divkit: :func:`set_workers` (docs/guide/threads.rst).

Every parallel divkit kernel runs on numba's thread pool. :func:`set_workers` sets numba's
thread count for the calls made inside a ``with`` block on the calling thread and restores the
previous count when the block ends, whatever happens inside it (the same contract as
``scipy.fft.set_workers``). numba's count is per calling thread, so two threads may use
different settings. Results never depend on it (CONVENTIONS.md §5).
"""

from __future__ import annotations

import contextlib
import numbers

import numba
import numpy as np


def max_workers() -> int:
    """The most threads a call can use: numba's pool size (``NUMBA_NUM_THREADS`` at start-up)."""
    return int(getattr(numba.config, "NUMBA_NUM_THREADS"))  # noqa: B009  (set at run time: mypy cannot see it)


def check_workers(workers) -> int:
    """``workers`` as a thread count in ``[1, max_workers()]``; ``-1`` means all of them
    (scipy's convention); anything else is an error naming ``workers``."""
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be an integer (a thread count, or -1 for all), got {workers!r}")
    top = max_workers()
    n = int(workers)
    if n == -1:
        return top
    if n < 1 or n > top:
        raise ValueError(f"workers must be between 1 and {top} (numba's pool size, NUMBA_NUM_THREADS) "
                         f"or -1 for all, got {n}")
    return n


@contextlib.contextmanager
def set_workers(workers):
    """Run divkit's parallel kernels on ``workers`` threads inside a ``with`` block.

    Parameters
    ----------
    workers : int
        Number of threads, ``1 <= workers <= NUMBA_NUM_THREADS``; ``-1`` uses them all.

    Raises
    ------
    TypeError, ValueError
        ``workers`` is not an integer, or out of range (the message names ``workers``).

    Examples
    --------
    >>> import numba
    >>> from divkit import set_workers, kl
    >>> before = numba.get_num_threads()
    >>> with set_workers(1):
    ...     value = kl([0.5, 0.5], [0.25, 0.75])
    ...     numba.get_num_threads()
    1
    >>> numba.get_num_threads() == before
    True
    """
    n = check_workers(workers)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)


__all__ = ["check_workers", "max_workers", "set_workers"]
