"""Closed-form divergences between discrete distributions (histograms).

Every function takes histograms ``p`` and ``q`` along ``axis`` (default the last), broadcasts
the remaining axes numpy-style, and returns a Python float for a single pair or an array of the
broadcast batch shape (``keepdims=True`` keeps the reduced axis with length 1).

Inputs must be non-negative, finite and sum to 1 along ``axis`` within ``atol``; nothing is
normalised silently. ``normalize=True`` divides each histogram by its total first.
Computation is in float64 whatever the input dtype (float32, integers and booleans are
accepted), in one fused pass that validates and sums at once.

Conventions (CONVENTIONS.md §1): ``0 log 0 = 0``; a bin with ``p > 0 = q`` makes KL infinite;
``js`` is the Jensen-Shannon *divergence* (``js_distance`` is its square root, scipy's
``jensenshannon``); ``squared_hellinger`` is ``sum (sqrt p - sqrt q)^2`` in ``[0, 2]``.
Logarithms are natural (nats) unless ``base`` is given (``base=2``: bits).
"""

from __future__ import annotations

import math

import numpy as np

from . import _discrete as _d
from ._validation import SUM_ATOL

_INF = math.inf


def _pair(p, q, code, param, f_at_zero, slope, axis, keepdims, normalize, atol, base=None,
          clamp_zero=False, names=("p", "q")):
    scale = _d.log_base(base)
    keepdims = _d.check_bool(keepdims, "keepdims")
    normalize = _d.check_bool(normalize, "normalize")
    prep = _d.prepare_pair(p, q, axis, names)
    values = _d.pair_sum(prep, code, param, f_at_zero, slope, normalize=normalize, atol=atol)
    if clamp_zero:
        # the exact value is >= 0 term by term; rounding must not make it negative
        values = np.maximum(values, 0.0)
    if scale != 1.0:
        values = values / scale
    return values, prep


_PARAMETERS = """
    Parameters
    ----------
    {inputs}
    axis : int, default -1
        Axis holding the bins: by default the last, one histogram per row. scipy's
        ``entropy`` and ``jensenshannon`` use ``axis=0`` (one histogram per column): pass
        ``axis=0`` for that layout.
    keepdims : bool
        Keep the reduced axis with length 1.{base}
    normalize : bool
        Divide each histogram by its total first instead of requiring totals of 1.
    atol : float
        Tolerance on ``|sum - 1|`` when ``normalize`` is false (default ``SUM_ATOL`` = 1e-6).

    Returns
    -------
    float or ndarray
        A Python float for a single pair, otherwise a float64 array of the batch shape.

    Raises
    ------
    ValueError
        Naming the argument, for NaN, inf, negative mass, empty input, shapes that do not
        broadcast or differ in their number of bins, totals off 1 by more than ``atol``.
    TypeError
        For complex or non-numeric input and ill-typed keywords.
"""
_PAIR = """p, q : array_like
        Histograms along ``axis`` (non-negative, finite, summing to 1 within ``atol``); the
        other axes broadcast numpy-style. float32, integer and boolean input is accepted;
        arithmetic is float64."""
_SINGLE = """p : array_like
        Histograms along ``axis`` (non-negative, finite, summing to 1 within ``atol``).
        float32, integer and boolean input is accepted; arithmetic is float64."""
_BASE = """
    base : float, optional
        Logarithm base (``None``: natural logarithm, nats; ``2``: bits)."""


def _document(inputs=_PAIR, base=False):
    """Fill the shared Parameters/Returns/Raises sections into a docstring's ``{parameters}``."""
    def decorate(fn):
        block = _PARAMETERS.format(inputs=inputs, base=_BASE if base else "").strip("\n")
        if fn.__doc__:  # None under python -OO
            fn.__doc__ = fn.__doc__.replace("    {parameters}\n", block + "\n\n")
        return fn
    return decorate


@_document(base=True)
def kl(p, q, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Kullback-Leibler divergence :math:`KL(p \| q) = \sum_i p_i \log(p_i / q_i)`.

    Kullback & Leibler (1951). ``0 log(0/q) = 0``; a bin with ``p_i > 0 = q_i`` makes the
    divergence ``+inf``. Equals ``scipy.special.rel_entr(p, q).sum()`` and ``f_divergence(p, q, "kl")``.

    {parameters}
    Examples
    --------
    >>> from divkit import kl
    >>> round(kl([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    >>> kl([0.5, 0.5], [1.0, 0.0])
    inf
    >>> round(kl([1, 1], [1, 3], normalize=True, base=2), 6)
    0.207519
    """
    values, prep = _pair(p, q, _d.CODE_KL, 0.0, 0.0, _INF, axis, keepdims, normalize, atol, base)
    return _d.finish(values, prep, keepdims)


@_document(base=True)
def js(p, q, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Jensen-Shannon divergence :math:`JS(p, q) = \tfrac12 KL(p \| m) + \tfrac12 KL(q \| m)`,
    :math:`m = (p + q)/2`.

    The true JS (Lin 1991), in ``[0, log 2]`` nats or ``[0, 1]`` bits with ``base=2``; it is
    the square of scipy's ``jensenshannon`` and equals ``f_divergence(p, q, "js")``. Always
    finite, also where one histogram has zero mass; JS <= TV log 2 (Lin 1991).

    {parameters}
    Examples
    --------
    >>> from divkit import js
    >>> round(js([1.0, 0.0], [0.0, 1.0]), 6)  # log 2: disjoint supports
    0.693147
    >>> js([1.0, 0.0], [0.0, 1.0], base=2)
    1.0
    """
    values, prep = _pair(p, q, _d.CODE_WEIGHTED_JS, 0.5, 0.5 * math.log(2), 0.5 * math.log(2),
                         axis, keepdims, normalize, atol, base, clamp_zero=True)
    return _d.finish(values, prep, keepdims)


@_document(base=True)
def js_distance(p, q, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Jensen-Shannon distance :math:`\sqrt{JS(p, q)}`, a metric (Endres & Schindelin 2003).

    What ``scipy.spatial.distance.jensenshannon`` returns (scipy normalises its inputs
    silently; divkit only with ``normalize=True``). In ``[0, sqrt(log 2)]``, or ``[0, 1]`` with
    ``base=2``.

    {parameters}
    Examples
    --------
    >>> from divkit import js_distance
    >>> js_distance([1.0, 0.0], [0.0, 1.0], base=2)
    1.0
    """
    values, prep = _pair(p, q, _d.CODE_WEIGHTED_JS, 0.5, 0.5 * math.log(2), 0.5 * math.log(2),
                         axis, keepdims, normalize, atol, base, clamp_zero=True)
    return _d.finish(np.sqrt(values), prep, keepdims)


@_document()
def tv(p, q, *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL):
    r"""Total variation distance :math:`TV(p, q) = \tfrac12 \sum_i |p_i - q_i|`, in ``[0, 1]``.

    Equals ``f_divergence(p, q, "tv")``.

    {parameters}
    Examples
    --------
    >>> from divkit import tv
    >>> tv([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    0.5
    """
    values, prep = _pair(p, q, _d.CODE_TV, 0.0, 0.5, 0.5, axis, keepdims, normalize, atol)
    return _d.finish(values, prep, keepdims)


@_document()
def squared_hellinger(p, q, *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL):
    r"""Squared Hellinger distance :math:`H^2(p, q) = \sum_i (\sqrt{p_i} - \sqrt{q_i})^2 = 2(1 - BC)`.

    Hellinger (1909), in the f-GAN convention (f(u) = (sqrt u - 1)^2), in ``[0, 2]``; Wikipedia's H^2 is half of it.
    ``BC = sum sqrt(p q)`` is the Bhattacharyya coefficient. Equals
    ``f_divergence(p, q, "squared_hellinger")``.

    {parameters}
    Examples
    --------
    >>> from divkit import squared_hellinger
    >>> squared_hellinger([1.0, 0.0], [0.0, 1.0])
    2.0
    """
    values, prep = _pair(p, q, _d.CODE_SQ_HELLINGER, 0.0, 1.0, 1.0, axis, keepdims, normalize,
                         atol)
    return _d.finish(values, prep, keepdims)


@_document()
def hellinger(p, q, *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL):
    r"""Hellinger distance :math:`H(p, q) = \sqrt{\sum_i (\sqrt{p_i} - \sqrt{q_i})^2}`, in
    ``[0, sqrt 2]``; a metric. The square root of :func:`squared_hellinger`.

    {parameters}
    Examples
    --------
    >>> from divkit import hellinger
    >>> round(hellinger([1.0, 0.0], [0.0, 1.0]), 6)  # sqrt(2)
    1.414214
    """
    values, prep = _pair(p, q, _d.CODE_SQ_HELLINGER, 0.0, 1.0, 1.0, axis, keepdims, normalize,
                         atol)
    return _d.finish(np.sqrt(values), prep, keepdims)


@_document()
def pearson_chi2(p, q, *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL):
    r"""Pearson chi-squared divergence :math:`\chi^2_P(p \| q) = \sum_i (p_i - q_i)^2 / q_i`.

    Pearson (1900); f(u) = (u - 1)^2. A bin with ``p_i > 0 = q_i`` gives ``+inf``; ``p_i = q_i = 0`` gives 0.
    Equals ``f_divergence(p, q, "pearson_chi2")``.

    {parameters}
    Examples
    --------
    >>> from divkit import pearson_chi2
    >>> round(pearson_chi2([0.5, 0.5], [0.25, 0.75]), 6)
    0.333333
    """
    values, prep = _pair(p, q, _d.CODE_PEARSON, 0.0, 1.0, _INF, axis, keepdims, normalize, atol)
    return _d.finish(values, prep, keepdims)


@_document()
def neyman_chi2(p, q, *, axis=-1, keepdims=False, normalize=False, atol=SUM_ATOL):
    r"""Neyman chi-squared divergence :math:`\chi^2_N(p \| q) = \sum_i (p_i - q_i)^2 / p_i`.

    Neyman (1949); f(u) = (1 - u)^2 / u; equals ``pearson_chi2(q, p)``. A bin with ``q_i > 0 = p_i`` gives
    ``+inf``. Equals ``f_divergence(p, q, "neyman_chi2")``.

    {parameters}
    Examples
    --------
    >>> from divkit import neyman_chi2
    >>> round(neyman_chi2([0.5, 0.5], [0.25, 0.75]), 6)
    0.25
    """
    values, prep = _pair(p, q, _d.CODE_NEYMAN, 0.0, _INF, 1.0, axis, keepdims, normalize, atol)
    return _d.finish(values, prep, keepdims)


@_document(base=True)
def jeffreys(p, q, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Jeffreys divergence :math:`J(p, q) = KL(p \| q) + KL(q \| p) = \sum_i (p_i - q_i)\log(p_i/q_i)`.

    Jeffreys (1946); f(u) = (u - 1) log u; symmetric; ``+inf`` unless p and q have the same support. Equals
    ``f_divergence(p, q, "jeffreys")``.

    {parameters}
    Examples
    --------
    >>> from divkit import jeffreys
    >>> round(jeffreys([0.5, 0.5], [0.25, 0.75]), 6)
    0.274653
    """
    values, prep = _pair(p, q, _d.CODE_JEFFREYS, 0.0, _INF, _INF, axis, keepdims, normalize,
                         atol, base)
    return _d.finish(values, prep, keepdims)


@_document(base=True)
def cross_entropy(p, q, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Cross entropy :math:`H(p, q) = -\sum_i p_i \log q_i = H(p) + KL(p \| q)`.

    Bins with ``p_i = 0`` contribute 0; a bin with ``p_i > 0 = q_i`` gives ``+inf``.


    {parameters}
    Examples
    --------
    >>> from divkit import cross_entropy
    >>> cross_entropy([0.5, 0.5], [0.5, 0.5], base=2)
    1.0
    """
    values, prep = _pair(p, q, _d.CODE_CROSS_ENTROPY, 0.0, 0.0, _INF, axis, keepdims, normalize,
                         atol, base)
    return _d.finish(values, prep, keepdims)


@_document(inputs=_SINGLE, base=True)
def entropy(p, *, axis=-1, keepdims=False, base=None, normalize=False, atol=SUM_ATOL):
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i` (``0 log 0 = 0``).

    Unlike ``scipy.stats.entropy`` this never takes a second distribution (use :func:`kl`)
    and never normalises silently. In ``[0, log n]``.

    {parameters}
    Examples
    --------
    >>> from divkit import entropy
    >>> entropy([0.25, 0.25, 0.25, 0.25], base=2)
    2.0
    >>> entropy([3, 1], normalize=True) == entropy([0.75, 0.25])
    True
    """
    values, prep = _pair(p, p, _d.CODE_ENTROPY, 0.0, 0.0, 0.0, axis, keepdims, normalize, atol,
                         base, clamp_zero=True, names=("p", "p"))
    return _d.finish(values, prep, keepdims)


__all__ = [
    "kl",
    "js",
    "js_distance",
    "tv",
    "hellinger",
    "squared_hellinger",
    "pearson_chi2",
    "neyman_chi2",
    "jeffreys",
    "entropy",
    "cross_entropy",
]
