"""Ground costs between point clouds.

``_pair_cost`` is the single definition of each metric, shared by the dense cost-matrix
kernels and by solvers that evaluate costs on the fly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: metric name -> integer code understood by the kernels
METRIC_CODES = {"euclidean": 0, "sqeuclidean": 1, "cityblock": 2, "chebyshev": 3, "minkowski": 4}


@njit(cache=True, inline="always")
def _pair_cost(x, i, y, j, code, minkowski_p):
    """Distance between ``x[i]`` and ``y[j]`` for the metric with code ``code``.

    0 euclidean ||.||_2, 1 squared euclidean ||.||_2^2, 2 cityblock ||.||_1,
    3 chebyshev ||.||_inf, 4 minkowski ||.||_p with p = ``minkowski_p``.
    """
    d = x.shape[1]
    acc = 0.0
    if code == 0 or code == 1:
        for k in range(d):
            t = x[i, k] - y[j, k]
            acc += t * t
        return np.sqrt(acc) if code == 0 else acc
    if code == 2:
        for k in range(d):
            acc += abs(x[i, k] - y[j, k])
        return acc
    if code == 3:
        for k in range(d):
            t = abs(x[i, k] - y[j, k])
            if t > acc:
                acc = t
        return acc
    for k in range(d):
        acc += abs(x[i, k] - y[j, k]) ** minkowski_p
    return acc ** (1.0 / minkowski_p)
