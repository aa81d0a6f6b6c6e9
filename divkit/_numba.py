"""Shared numba settings.

Every kernel in divkit is private, compiled lazily on first use and cached on disk
(``cache=True``), so ``import divkit`` stays cheap.

``FASTMATH`` lists the LLVM fast-math flags divkit allows. It deliberately leaves out
``nnan`` and ``ninf``: +inf is a legitimate answer (KL with q = 0 < p) and NaN must
propagate to the validation layer rather than be optimised away. ``afn`` (approximate
functions) is left out too so that ``log``/``exp`` keep their libm accuracy.
"""

# a set (numba rejects frozenset); treat it as read-only
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

__all__ = ["FASTMATH"]
