"""Exact W_p on the line (quantile functions) and the sliced W_p built on it."""

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_quantile_wasserstein, naive_sliced_wasserstein
from scipy.special import ndtri
from scipy.stats import wasserstein_distance

from divkit import emd, sliced_wasserstein, wasserstein, wasserstein_1d
from divkit.ot import cost_matrix


@st.composite
def samples(draw, max_size=60):
    n = draw(st.integers(1, max_size))
    m = draw(st.integers(1, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["normal", "ties", "wide"]))
    if kind == "normal":
        u, v = rng.normal(size=n), rng.normal(size=m) + 0.5
    elif kind == "ties":
        u, v = rng.integers(0, 4, n).astype(float), rng.integers(0, 4, m).astype(float)
    else:
        u, v = rng.normal(size=n) * 1e6, rng.normal(size=m) * 1e-6
    weighted = draw(st.booleans())
    if weighted:
        uw = rng.random(n) * (rng.random(n) > 0.25) + (np.arange(n) == 0)
        vw = rng.random(m) * (rng.random(m) > 0.25) + (np.arange(m) == 0)
        uw, vw = uw / uw.sum(), vw / vw.sum()
    else:
        uw = vw = None
    return u, v, uw, vw


def lp_wasserstein_1d(u, v, uw, vw, p):
    uw = np.full(len(u), 1 / len(u)) if uw is None else uw
    vw = np.full(len(v), 1 / len(v)) if vw is None else vw
    C = np.abs(np.subtract.outer(u, v)) ** p
    return emd(uw, vw, C).cost ** (1 / p)


@settings(max_examples=60)
@given(samples())
def test_w1_equals_scipy_and_naive(sample):
    u, v, uw, vw = sample
    w = wasserstein_1d(u, v, uw, vw)
    ref = wasserstein_distance(u, v, uw, vw)
    scale = max(np.abs(u).max(), np.abs(v).max())
    assert abs(w - ref) <= 1e-12 * scale
    assert abs(w - naive_quantile_wasserstein(u, v, uw, vw)) <= 1e-12 * scale


@settings(max_examples=40)
@given(samples(max_size=30), st.sampled_from([1.0, 1.5, 2.0, 3.0]))
def test_any_p_equals_lp_and_naive(sample, p):
    u, v, uw, vw = sample
    w = wasserstein_1d(u, v, uw, vw, p=p)
    scale = max(np.abs(u).max(), np.abs(v).max())
    # the LP's certificate bounds its W_p^p to 1e-9 * scale^p; on the line the simplex lands on
    # the monotone plan, so the two agree far more tightly
    assert abs(w - lp_wasserstein_1d(u, v, uw, vw, p)) <= 1e-12 * scale
    assert abs(w - naive_quantile_wasserstein(u, v, uw, vw, p)) <= 1e-12 * scale


@settings(max_examples=30)
@given(samples(max_size=30))
def test_monotone_in_p_and_symmetric(sample):
    u, v, uw, vw = sample
    w = [wasserstein_1d(u, v, uw, vw, p=p) for p in (1, 2, 4)]
    assert w[0] <= w[1] * (1 + 1e-12) and w[1] <= w[2] * (1 + 1e-12)
    assert abs(wasserstein_1d(v, u, vw, uw, p=2) - w[1]) <= 1e-12 * max(w[1], 1e-300)


def test_pot_returns_wp_to_the_p_divkit_returns_wp(rng):
    u, v = rng.normal(size=50), rng.normal(size=50) + 1
    assert abs(wasserstein_1d(u, v, p=2) ** 2 - float(ot.wasserstein_1d(u, v, p=2))) <= 1e-12


@pytest.mark.parametrize("n", [100, 1000, 10000, 100000])
def test_gaussian_quantile_grids_approach_closed_form(n):
    """W2(N(m1, s1^2), N(m2, s2^2))^2 = (m1 - m2)^2 + (s1 - s2)^2 (the 1-D Bures formula),
    approached by samples on the quantile grids (i + 1/2) / n."""
    m1, s1, m2, s2 = 0.3, 1.0, -1.2, 2.5
    z = ndtri((np.arange(n) + 0.5) / n)
    w2 = wasserstein_1d(m1 + s1 * z, m2 + s2 * z[::-1], p=2)
    exact = np.hypot(m1 - m2, s1 - s2)
    # the only error is E z^2 < 1 on the grid: (s1 - s2)^2 (1 - mean z^2), which is O(log n / n)
    predicted = np.sqrt((m1 - m2) ** 2 + (s1 - s2) ** 2 * np.mean(z**2))
    assert abs(w2 - predicted) <= 1e-12
    assert 0 < exact - w2 <= 3.0 * np.log(n) / n


def test_edge_cases_exact():
    assert wasserstein_1d([2.0], [2.0]) == 0.0
    assert wasserstein_1d([0.0], [3.0], p=3) == 3.0
    # a pure shift is recovered exactly, for any size
    u = np.linspace(-1.0, 1.0, 1001) ** 3
    assert wasserstein_1d(u, u + 0.1) == wasserstein_1d(u + 0.1, u) == 0.1
    # duplicates and integer input
    assert wasserstein_1d([0, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3, rel=1e-15)
    # float32 input is computed in float64
    u32 = np.array([0.1, 0.7], dtype=np.float32)
    assert wasserstein_1d(u32, [0.0, 0.0]) == pytest.approx(float(u32.astype(float).mean()), rel=1e-15)
    # zero-weight atoms are ignored
    assert wasserstein_1d([0.0, 100.0], [1.0], [1.0, 0.0], [1.0]) == 1.0
    # huge and tiny magnitudes
    assert wasserstein_1d([1e150], [-1e150]) == 2e150
    assert wasserstein_1d([1e-300], [3e-300]) == pytest.approx(2e-300, rel=1e-15)
    # unequal sizes, unweighted: breakpoints 1/3, 1/2, 2/3
    assert wasserstein_1d([0.0, 1.0, 2.0], [0.0, 3.0]) == pytest.approx(
        naive_quantile_wasserstein([0.0, 1.0, 2.0], [0.0, 3.0]), rel=1e-15)


def test_weights_not_summing_to_1_need_normalize():
    with pytest.raises(ValueError, match="a sums to 4.0, not 1 .* pass normalize=True"):
        wasserstein_1d([0.0, 1.0], [0.0, 1.0], [1.0, 3.0], [3.0, 1.0])
    assert wasserstein_1d([0.0, 1.0], [0.0, 1.0], [1.0, 3.0], [3.0, 1.0],
                          normalize=True) == pytest.approx(0.5, rel=1e-15)


# ---------------------------------------------------------------------------------------------
# sliced
# ---------------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 4), st.integers(0, 2**32 - 1),
       st.sampled_from([1.0, 2.0]))
def test_sliced_matches_naive_and_is_below_w(n, m, d, seed, p):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 1.0
    directions = rng.normal(size=(7, d))
    sw = sliced_wasserstein(x, y, p=p, projections=directions)
    assert abs(sw - naive_sliced_wasserstein(x, y, directions, p=p)) <= 1e-12 * max(sw, 1.0)
    assert sw <= wasserstein(x, y, p=p) * (1 + 1e-9)


def test_sliced_seeding_and_weights(rng):
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(20, 3))
    assert sliced_wasserstein(x, y, rng=4) == sliced_wasserstein(x, y, rng=4)
    assert sliced_wasserstein(x, y, rng=4) != sliced_wasserstein(x, y, rng=5)
    gen = np.random.default_rng(9)
    assert sliced_wasserstein(x, y, rng=gen, n_projections=3) == sliced_wasserstein(
        x, y, rng=np.random.default_rng(9), n_projections=3)
    a, b = rng.random(30), rng.random(20)
    a, b = a / a.sum(), b / b.sum()
    theta = rng.normal(size=(5, 3))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    terms = [wasserstein_1d(x @ t, y @ t, a, b, p=2) ** 2 for t in theta]
    assert sliced_wasserstein(x, y, a, b, p=2, projections=theta) == pytest.approx(np.sqrt(np.mean(terms)), rel=1e-14)
    # unnormalised directions are normalised; one axis direction is the 1-D distance of that axis
    assert sliced_wasserstein(x, y, projections=[[0.0, 5.0, 0.0]], p=1) == pytest.approx(
        wasserstein_1d(x[:, 1], y[:, 1]), rel=1e-14)


def test_sliced_converges_to_spherical_average(rng):
    """For a pure translation by t, W_2^2 of each slice is <theta, t>^2, whose average over the
    sphere in d dimensions is |t|^2 / d."""
    x = rng.normal(size=(50, 3))
    t = np.array([1.0, -2.0, 0.5])
    sw = sliced_wasserstein(x, x + t, n_projections=20000, rng=1, p=2)
    assert abs(sw - np.linalg.norm(t) / np.sqrt(3)) <= 0.02 * np.linalg.norm(t)


def test_cost_matrix_one_d_consistent():
    u = np.array([0.0, 2.0, 5.0])
    np.testing.assert_array_equal(cost_matrix(u, u), np.abs(np.subtract.outer(u, u)))


def test_zero_weight_atoms_do_not_shift_the_reference_term():
    # a zero-weight atom far away used to anchor the accumulated sum and cancel everything
    assert wasserstein_1d([-1e20, 0.0], [1.0], [0, 1]) == 1.0
    assert wasserstein_1d([-1e8, 0.0], [1e-8], [0, 1]) == pytest.approx(1e-8, rel=1e-12)
    assert wasserstein_1d([-1e20, 0.0, 5.0], [1.0, 2.0, 3.0], [0, 0.5, 0.5], [1 / 3] * 3) == pytest.approx(
        wasserstein_1d([0.0, 5.0], [1.0, 2.0, 3.0], [0.5, 0.5], [1 / 3] * 3), rel=1e-15
    )
    assert sliced_wasserstein([[-1e20, 0], [0, 0]], [[1.0, 0]], a=[0, 1], projections=[[1.0, 0]]) == 1.0


@pytest.mark.parametrize("scale", [1e-200, 1e-150, 1e150, 1e200])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_extreme_magnitudes_scale_exactly(scale, p):
    u, v = np.array([0.0, 1.0, 5.0]), np.array([2.0, 3.0])
    unit = wasserstein_1d(u, v, p=p)
    assert wasserstein_1d(u * scale, v * scale, p=p) == pytest.approx(unit * scale, rel=1e-14)
    x = np.column_stack([u, u[::-1]])
    y = np.column_stack([v, v])
    unit = sliced_wasserstein(x, y, p=p, n_projections=8, rng=1)
    assert sliced_wasserstein(x * scale, y * scale, p=p, n_projections=8, rng=1) == pytest.approx(unit * scale, rel=1e-12)
    assert wasserstein_1d([-1.5e308], [1.5e308]) == np.inf  # the true distance overflows
