"""Every bad input to the OT layer is refused with a message naming the argument."""

import numpy as np
import pytest

from divkit import (
    cost_matrix,
    emd,
    kantorovich_rubinstein_potential,
    sliced_wasserstein,
    wasserstein,
    wasserstein_1d,
)

A = np.array([0.5, 0.5])
C = np.array([[0.0, 1.0], [1.0, 0.0]])
X = np.array([[0.0, 0.0], [1.0, 0.0]])
Y = np.array([[0.0, 1.0], [1.0, 1.0]])


def with_value(arr, index, value):
    out = np.array(arr, dtype=float)
    out[index] = value
    return out


# ---------------------------------------------------------------------------------------------
# emd
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, cost, match",
    [
        (A, A, with_value(C, (0, 1), np.nan), "C contains 1 NaN"),
        (A, A, with_value(C, (1, 1), np.inf), "C contains 1 infinite"),
        (A, A, with_value(C, (1, 1), -np.inf), "C contains 1 infinite"),
        (with_value(A, 0, np.nan), A, C, "a contains 1 NaN"),
        (A, with_value(A, 1, np.inf), C, "b contains 1 infinite"),
        ([1.5, -0.5], A, C, "a contains negative weights"),
        (A, [-0.5, 1.5], C, "b contains negative weights"),
        ([0.0, 0.0], A, C, "a has total mass 0"),
        (A, [0.5, 0.6], C, "a and b have different total mass"),
        ([0.5, 0.25, 0.25], A, C, "a has 3 entries but C has 2 rows"),
        (A, [1.0], C, "b has 1 entries but C has 2 columns"),
        (A, A, [0.0, 1.0], "C must be 2-D"),
        (A, A, np.zeros((0, 2)), "C is empty"),
        (np.ones((2, 1)) / 2, A, C, "a must be 1-D"),
    ],
)
def test_emd_bad_values(a, b, cost, match):
    with pytest.raises(ValueError, match=match):
        emd(a, b, cost)


def test_emd_bad_types_and_options():
    with pytest.raises(TypeError, match="C must be real-valued"):
        emd(A, A, C.astype(complex))
    with pytest.raises(TypeError, match="a must be numeric"):
        emd(["x", "y"], A, C)
    with pytest.raises(ValueError, match="method must be 'auto' or one of"):
        emd(A, A, C, method="sinkhorn")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        emd(A, A, C, bogus=3)
    with pytest.raises(TypeError, match=r"emd\(method='highs-primal'\) does not take option\(s\) \['block_size'\]"):
        emd(A, A, C, method="highs-primal", block_size=3)
    with pytest.raises(ValueError, match="highs_method must be one of"):
        emd(A, A, C, method="highs-primal", highs_method="simplex")
    with pytest.raises(ValueError, match="tolerance must be >= 1e-10"):
        emd(A, A, C, method="highs-dual", tolerance=1e-14)
    with pytest.raises(ValueError, match="rtol must be > 0"):
        emd(A, A, C, rtol=0.0)
    with pytest.raises(ValueError, match="C spans a range larger than the float64 maximum"):
        emd(A, A, [[1e308, -1e308], [0.0, 0.0]])


def test_mass_tolerance_is_relative_and_documented():
    # within MASS_RTOL = 1e-7: accepted (b rescaled); beyond: refused
    assert emd(A, A * (1 + 5e-8), C).cost == 0.0
    with pytest.raises(ValueError, match="relative difference .* > rtol=1e-07"):
        emd(A, A * (1 + 5e-7), C)


# ---------------------------------------------------------------------------------------------
# wasserstein and the Kantorovich-Rubinstein helper
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": with_value(X, (0, 0), np.nan)}, "x contains 1 NaN"),
        ({"y": with_value(Y, (1, 1), np.inf)}, "y contains 1 infinite"),
        ({"y": np.ones((2, 3))}, "x and y must have the same dimension, got 2 and 3"),
        ({"x": np.zeros((0, 2))}, "x is empty"),
        ({"x": np.zeros((2, 2, 2))}, "x must be 1-D or 2-D"),
        ({"p": 0.5}, "p must be >= 1"),
        ({"p": np.inf}, "p must be finite"),
        ({"metric": "sqeuclidean"}, "not a metric"),
        ({"metric": "cosine"}, "metric must be one of"),
        ({"metric": "minkowski", "minkowski_p": 0.5}, "minkowski_p must be >= 1"),
        ({"a": [1.0, -1.0]}, "a contains negative weights"),
        ({"b": [1.0, np.nan]}, "b contains 1 NaN"),
        ({"a": [1.0, 1.0, 1.0]}, "a has 3 weights but there are 2 points"),
        ({"a": [1.0, 1.0], "b": [1.0, 2.0]}, "a sums to 2.0, not 1 .* pass normalize=True"),
        ({"method": "exact"}, "method must be 'auto' or one of"),
    ],
)
def test_wasserstein_bad_values(kwargs, match):
    args = {"x": X, "y": Y, **kwargs}
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        wasserstein(x, y, **args)


def test_wasserstein_bad_types():
    with pytest.raises(TypeError, match="p must be a real number"):
        wasserstein(X, Y, p="2")
    with pytest.raises(TypeError, match="x must be real-valued"):
        wasserstein(X.astype(complex), Y)


def test_kr_helper_refuses_non_metrics_and_mismatches():
    res = wasserstein(X, Y, return_result=True)
    with pytest.raises(ValueError, match=r"metric must be one of .* potential \(a metric\)"):
        kantorovich_rubinstein_potential(X, Y, res, metric="sqeuclidean")
    with pytest.raises(ValueError, match=r"result.g has shape \(2,\) but y has 3 points"):
        kantorovich_rubinstein_potential(X, np.zeros((3, 2)), res)


# ---------------------------------------------------------------------------------------------
# cost_matrix, wasserstein_1d, sliced_wasserstein
# ---------------------------------------------------------------------------------------------


def test_cost_matrix_bad_input():
    with pytest.raises(ValueError, match="metric must be one of"):
        cost_matrix(X, Y, metric="hamming")
    with pytest.raises(ValueError, match="x and y must have the same dimension"):
        cost_matrix(X, np.ones((2, 3)))
    with pytest.raises(ValueError, match="minkowski_p must be >= 1"):
        cost_matrix(X, Y, metric="minkowski", minkowski_p=0.5)
    with pytest.raises(ValueError, match="y contains 1 NaN"):
        cost_matrix(X, with_value(Y, (0, 0), np.nan))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([[0.0, 1.0]], [0.0]), {}, "u must be 1-D"),
        (([0.0, np.nan], [0.0]), {}, "u contains 1 NaN"),
        (([0.0], [np.inf]), {}, "v contains 1 infinite"),
        (([], [0.0]), {}, "u is empty"),
        (([0.0, 1.0], [0.0]), {"a": [1.0, -1.0]}, "a contains negative"),
        (([0.0, 1.0], [0.0]), {"a": [1.0]}, "a has 1 weights but there are 2 points"),
        (([0.0], [0.0]), {"b": [0.0]}, "b has total mass 0"),
        (([0.0], [0.0]), {"a": [1.0], "b": [2.0]}, "b sums to 2.0, not 1 .* pass normalize=True"),
        (([0.0], [0.0]), {"p": 0.99}, "p must be >= 1"),
    ],
)
def test_wasserstein_1d_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        wasserstein_1d(*args, **kwargs)


def test_sliced_bad_input():
    with pytest.raises(ValueError, match="projections contains a zero direction"):
        sliced_wasserstein(X, Y, projections=[[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="projections must have 2 columns"):
        sliced_wasserstein(X, Y, projections=[[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="projections contains 1 NaN"):
        sliced_wasserstein(X, Y, projections=[[1.0, np.nan]])
    with pytest.raises(ValueError, match="n_projections must be >= 1"):
        sliced_wasserstein(X, Y, n_projections=0)
    with pytest.raises(TypeError, match="n_projections must be an integer"):
        sliced_wasserstein(X, Y, n_projections=2.5)
    with pytest.raises(ValueError, match="x and y must have the same dimension"):
        sliced_wasserstein(X, np.ones((2, 3)))
    with pytest.raises(ValueError, match="a sums to 2.0, not 1 .* pass normalize=True"):
        sliced_wasserstein(X, Y, [1.0, 1.0], [1.0, 3.0])
    with pytest.raises(ValueError, match="p must be >= 1"):
        sliced_wasserstein(X, Y, p=0)
