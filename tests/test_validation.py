"""The shared validation layer: every bad input names its argument."""

import numpy as np
import pytest

from divkit._validation import (
    as_float_array,
    as_histograms,
    as_points,
    as_weights,
    check_int,
    check_same_mass,
    check_scalar,
    to_scalar,
)


def test_histograms_valid_paths_do_not_copy_contiguous_input():
    p = np.full((3, 4), 0.25)
    arr, sums = as_histograms(p, "p")
    assert np.shares_memory(arr, p)
    np.testing.assert_allclose(sums, 1.0)


def test_histograms_axis_and_dtypes():
    p = np.full((4, 3), 0.25, dtype=np.float32)
    arr, sums = as_histograms(p, "p", axis=0)
    assert arr.shape == (3, 4) and sums.shape == (3,)
    arr, sums = as_histograms(np.array([2, 0, 2]), "counts", normalize=True)
    np.testing.assert_array_equal(sums, 4.0)
    arr, sums = as_histograms(np.array([True, False]), "p")
    assert sums == 1.0


@pytest.mark.parametrize(
    "value,match",
    [
        ([0.5, np.nan, 0.5], "p contains 1 NaN"),
        ([0.5, np.inf], "p contains 1 infinite"),
        ([1.5, -0.5], "p contains 1 negative"),
        ([0.2, 0.2], "p does not sum to 1"),
        ([], "p is empty"),
        (np.zeros((2, 0)), "p is empty"),
        (3.0, "p must have at least one dimension"),
    ],
)
def test_histogram_errors(value, match):
    with pytest.raises(ValueError, match=match):
        as_histograms(value, "p")


def test_histogram_type_and_axis_errors():
    with pytest.raises(TypeError, match="p must be real-valued"):
        as_histograms(np.array([0.5 + 0j, 0.5]), "p")
    with pytest.raises(TypeError, match="p must be numeric"):
        as_histograms(np.array(["a", "b"]), "p")
    with pytest.raises(ValueError, match="axis 3 is out of bounds for p"):
        as_histograms([0.5, 0.5], "p", axis=3)
    with pytest.raises(ValueError, match="p has a histogram of total mass 0"):
        as_histograms([[0.0, 0.0], [1.0, 1.0]], "p", normalize=True)


def test_sum_tolerance_is_a_parameter():
    as_histograms([0.5, 0.5 + 1e-7], "p")
    with pytest.raises(ValueError, match="atol=1e-09"):
        as_histograms([0.5, 0.5 + 1e-7], "p", atol=1e-9)


def test_float_array_and_points():
    assert as_float_array([1, 2], "x").dtype == np.float64
    with pytest.raises(ValueError, match="x must be 2-D"):
        as_float_array([1.0], "x", ndim=2)
    with pytest.raises(ValueError, match="x contains 1 infinite"):
        as_float_array([1.0, -np.inf], "x")
    assert as_float_array([1.0, np.inf], "x", allow_inf=True)[1] == np.inf
    assert as_points([1.0, 2.0, 3.0], "x").shape == (3, 1)
    with pytest.raises(ValueError, match=r"x is empty \(shape \(3, 0\)\)"):
        as_points(np.zeros((3, 0)), "x")


def test_weights():
    np.testing.assert_allclose(as_weights(None, 4, "a"), 0.25)
    with pytest.raises(ValueError, match="a has 2 weights but there are 3 points"):
        as_weights([0.5, 0.5], 3, "a")
    with pytest.raises(ValueError, match="a contains negative weights"):
        as_weights([1.5, -0.5], 2, "a")
    with pytest.raises(ValueError, match="a has total mass 0"):
        as_weights([0.0, 0.0], 2, "a")
    with pytest.raises(ValueError, match="a and b have different total mass"):
        check_same_mass(np.array([1.0]), np.array([1.1]))
    check_same_mass(np.array([1.0]), np.array([1.0 + 1e-12]))


def test_scalars():
    assert check_scalar(np.float32(0.5), "pi", low=0, high=1, low_open=True, high_open=True) == 0.5
    for bad, match in [(0.0, "pi must be > 0"), (1.0, "pi must be < 1"), (np.nan, "pi must be finite")]:
        with pytest.raises(ValueError, match=match):
            check_scalar(bad, "pi", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(TypeError, match="pi must be a real number"):
        check_scalar("0.5", "pi")
    with pytest.raises(TypeError, match="pi must be a real number"):
        check_scalar(True, "pi")
    assert check_int(np.int64(3), "n", low=1) == 3
    with pytest.raises(ValueError, match="n must be >= 1"):
        check_int(0, "n", low=1)
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(2.0, "n")
    assert type(to_scalar(np.float64(1.0))) is float


@pytest.mark.parametrize("size", [3, 7, (1 << 20) + 3])
def test_finiteness_check_counts_and_tolerates_overflowing_sums(size, rng):
    """The finiteness check is one sum (finite only if every entry is); an overflowing sum of
    finite values is a false alarm that the exact count must settle, and counts span chunks."""
    x = rng.normal(size=size)
    x[::2] = 1e308
    with np.errstate(over="ignore"):
        assert np.isinf(np.add.reduce(x))  # the sum overflows, every entry is finite
    np.testing.assert_array_equal(as_float_array(x, "x"), x)
    y = x.copy()
    y[[0, -1]] = [np.inf, np.nan]
    with pytest.raises(ValueError, match="y contains 1 NaN"):
        as_float_array(y, "y")
    z = x.copy()
    z[[0, -1]] = [-np.inf, np.inf]  # the sum is NaN; the count still says infinite
    with pytest.raises(ValueError, match="z contains 2 infinite"):
        as_float_array(z, "z")


def test_kernel_helpers_match_numpy():
    from divkit._numba import array_max, filled_float, filled_int

    for values in ([3.0], [1.0, -2.0, 5.0, 5.0], [np.nan, 1.0], [1.0, np.nan, 2.0], [-np.inf, -np.inf],
                   [1.0, 2.0, np.nan, np.nan]):
        x = np.array(values)
        got, want = array_max(x), x.max()
        assert (np.isnan(got) and np.isnan(want)) or got == want, values
    with pytest.raises(ValueError, match="zero-size"):
        array_max(np.empty(0))
    np.testing.assert_array_equal(filled_float(4, -np.inf), np.full(4, -np.inf))
    assert filled_int(3, -1).dtype == np.int64 and list(filled_int(3, -1)) == [-1, -1, -1]
    assert filled_float(0, 1.0).shape == (0,)
