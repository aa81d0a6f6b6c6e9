"""Closed-form divergences on histograms.

Oracles: scipy (rel_entr, entropy, jensenshannon), the loops of tests/naive.py, the GAN
identities, classical inequalities and metric axioms.
"""

import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial import distance

import divkit
from divkit import (
    cross_entropy,
    entropy,
    hellinger,
    jeffreys,
    js,
    js_distance,
    kl,
    neyman_chi2,
    pearson_chi2,
    squared_hellinger,
    tv,
)

LOG2 = math.log(2.0)

PAIR_FUNCTIONS = {
    "kl": (kl, naive.naive_kl),
    "js": (js, naive.naive_js),
    "js_distance": (js_distance, lambda p, q: math.sqrt(max(naive.naive_js(p, q), 0.0))),
    "tv": (tv, naive.naive_tv),
    "hellinger": (hellinger, naive.naive_hellinger),
    "squared_hellinger": (squared_hellinger, naive.naive_squared_hellinger),
    "pearson_chi2": (pearson_chi2, naive.naive_pearson_chi2),
    "neyman_chi2": (neyman_chi2, naive.naive_neyman_chi2),
    "jeffreys": (jeffreys, naive.naive_jeffreys),
    "cross_entropy": (cross_entropy, naive.naive_cross_entropy),
}
WITH_BASE = ["kl", "js", "js_distance", "jeffreys", "cross_entropy"]


@st.composite
def histogram(draw, n, zeros=True):
    weights = st.one_of(st.just(0.0), st.floats(1e-3, 1.0)) if zeros else st.floats(1e-3, 1.0)
    x = np.array(draw(st.lists(weights, min_size=n, max_size=n)))
    if x.sum() == 0:
        x[draw(st.integers(0, n - 1))] = 1.0
    return x / x.sum()


@st.composite
def histogram_pairs(draw, n_max=12, zeros=True):
    n = draw(st.integers(1, n_max))
    return draw(histogram(n, zeros)), draw(histogram(n, zeros))


@st.composite
def histogram_triples(draw, n_max=10):
    n = draw(st.integers(1, n_max))
    return draw(histogram(n)), draw(histogram(n)), draw(histogram(n))


def close(got, expected, rel=1e-9, abs_=1e-12):
    if math.isinf(expected):
        return got == expected
    return got == pytest.approx(expected, rel=rel, abs=abs_)


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PAIR_FUNCTIONS))
@settings(max_examples=30)
@given(pair=histogram_pairs())
def test_matches_naive_loops(name, pair):
    p, q = pair
    fn, oracle = PAIR_FUNCTIONS[name]
    got = fn(p, q)
    assert type(got) is float
    if name == "js_distance":
        # the naive loop's JS carries ~1e-17 absolute cancellation error near p = q, which its
        # square root blows up (~1e-11 absolute at JS ~ 1e-12): compare on the JS scale
        # (js_distance against mpmath at full accuracy: test_divergences_accuracy.py)
        assert close(got**2, oracle(p, q) ** 2)
    else:
        assert close(got, oracle(p, q))


@settings(max_examples=30)
@given(pair=histogram_pairs(n_max=30))
def test_agrees_with_scipy(pair):
    p, q = pair
    assert close(kl(p, q), float(special.rel_entr(p, q).sum()))
    assert close(js(p, q), float(distance.jensenshannon(p, q) ** 2), rel=1e-9, abs_=1e-12)
    assert close(js_distance(p, q, base=2), float(distance.jensenshannon(p, q, base=2)),
                 rel=1e-7, abs_=1e-7)
    for base in (None, 2, 10):
        assert close(entropy(p, base=base), float(stats.entropy(p, base=base)))
        assert close(kl(p, q, base=base), float(stats.entropy(p, q, base=base)))


@settings(max_examples=20)
@given(p=st.integers(1, 12).flatmap(histogram))
def test_entropy_matches_naive_and_bounds(p):
    h = entropy(p)
    assert h == pytest.approx(naive.naive_entropy(p), rel=1e-12, abs=1e-15)
    assert 0.0 <= h <= math.log(p.size) + 1e-12
    assert cross_entropy(p, p) == pytest.approx(h, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", WITH_BASE)
def test_base_converts_units(name, rng):
    fn, _ = PAIR_FUNCTIONS[name]
    p, q = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
    root = 0.5 if name == "js_distance" else 1.0
    assert fn(p, q, base=2) == pytest.approx(fn(p, q) / LOG2 ** root, rel=1e-12)
    assert fn(p, q, base=math.e) == pytest.approx(fn(p, q), rel=1e-12)


def test_cross_entropy_is_entropy_plus_kl(rng):
    p, q = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(9))
    assert cross_entropy(p, q) == pytest.approx(entropy(p) + kl(p, q), rel=1e-12)


def test_known_values():
    assert js([1.0, 0.0], [0.0, 1.0]) == pytest.approx(LOG2, rel=1e-15)
    assert js([1.0, 0.0], [0.0, 1.0], base=2) == pytest.approx(1.0, rel=1e-15)
    assert squared_hellinger([1.0, 0.0], [0.0, 1.0]) == 2.0
    assert hellinger([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert tv([0.2, 0.8], [0.2, 0.8]) == 0.0
    assert kl([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl([1.0, 0.0], [0.5, 0.5]) == pytest.approx(LOG2)
    assert pearson_chi2([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert pearson_chi2([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0)
    assert neyman_chi2([1.0, 0.0], [0.5, 0.5]) == math.inf
    assert jeffreys([1.0, 0.0], [0.5, 0.5]) == math.inf
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert cross_entropy([1.0, 0.0], [0.5, 0.5]) == pytest.approx(LOG2)
    assert entropy([1.0]) == 0.0
    # scipy's normalising entropy returned 0 here (scipy issues 12553, 23064): divkit refuses
    with pytest.raises(ValueError, match="q does not sum to 1"):
        kl([0.5, 0.5], [0.3, 0.3])


def test_extreme_magnitudes():
    # p / q overflows or underflows in double precision; the logs are taken apart
    p = np.array([1.0 - 1e-310, 1e-310])
    q = np.array([1e-310, 1.0 - 1e-310])
    expected = (1 - 1e-310) * (math.log(1 - 1e-310) - math.log(1e-310)) + 1e-310 * (
        math.log(1e-310) - math.log(1 - 1e-310))
    assert kl(p, q) == pytest.approx(expected, rel=1e-12)
    assert jeffreys(p, q) == pytest.approx(2 * expected, rel=1e-12)
    assert js(p, q) == pytest.approx(LOG2, rel=1e-12)
    assert tv(p, q) == pytest.approx(1.0, rel=1e-12)
    assert pearson_chi2(p, q) == pytest.approx(1.0 / 1e-310, rel=1e-9)
    # huge and tiny totals with normalize=True
    big = np.array([3e300, 1e300])
    tiny = np.array([1e-300, 3e-300])
    assert kl(big, tiny, normalize=True) == pytest.approx(kl([0.75, 0.25], [0.25, 0.75]), rel=1e-12)
    assert js(tiny, big, normalize=True) == pytest.approx(js([0.25, 0.75], [0.75, 0.25]), rel=1e-12)
    # totals that overflow are normalised all the same; subnormal totals are refused
    huge = np.array([1e308, 1e308, 0.0])
    subnormal = np.array([2e-320, 3e-320, 5e-320])
    ref = np.array([0.2, 0.3, 0.5])
    expected = naive.naive_kl([0.5, 0.5, 0.0], ref)
    assert kl(huge, ref, normalize=True) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="q has a histogram of total mass 1e-319, below the smallest"):
        kl(huge, subnormal, normalize=True)
    custom = divkit.FDivergence.from_function(divkit.get_f_divergence("kl").f)
    assert custom.divergence(huge, ref, normalize=True) == pytest.approx(expected, rel=1e-12)


def test_float32_integer_and_bool_inputs(rng):
    p = rng.dirichlet(np.ones(50))
    q = rng.dirichlet(np.ones(50))
    p32, q32 = p.astype(np.float32), q.astype(np.float32)
    # float32 is widened per element: the result equals the float64 computation on the
    # float32 values exactly (same rounding), and is a Python float
    got = kl(p32, q32)
    assert type(got) is float
    assert got == pytest.approx(naive.naive_kl(p32.astype(float), q32.astype(float)), rel=1e-12)
    assert js(p32, q) == pytest.approx(naive.naive_js(p32.astype(float), q), rel=1e-12)
    counts_p, counts_q = np.array([3, 1, 0]), np.array([1, 1, 2], dtype=np.int8)
    assert kl(counts_p, counts_q, normalize=True) == pytest.approx(
        naive.naive_kl([0.75, 0.25, 0.0], [0.25, 0.25, 0.5]), rel=1e-12)
    assert tv(np.array([True, False]), np.array([False, True])) == 1.0
    assert entropy([1, 0]) == 0.0


def test_axis_keepdims_and_broadcasting(rng):
    p = rng.dirichlet(np.ones(5), size=(3, 4))  # (3, 4, 5)
    q = rng.dirichlet(np.ones(5), size=4)  # (4, 5) broadcasts against (3, 4, 5)
    for _name, (fn, oracle) in PAIR_FUNCTIONS.items():
        got = fn(p, q)
        assert got.shape == (3, 4)
        for i in range(3):
            for j in range(4):
                assert close(got[i, j], oracle(p[i, j], q[j]))
        # the same on another axis
        moved = fn(np.moveaxis(p, 2, 0), q.T[:, None, :], axis=0)
        np.testing.assert_allclose(moved, got, rtol=1e-14)
        assert fn(p, q, keepdims=True).shape == (3, 4, 1)
        assert fn(np.moveaxis(p, 2, 1), q.T, axis=1, keepdims=True).shape == (3, 1, 4)
    # a single histogram against a batch, and keepdims on 1-D input
    h = entropy(p, axis=-1, keepdims=True)
    assert h.shape == (3, 4, 1)
    assert kl(p[0, 0], p[0, 0], keepdims=True).shape == (1,)
    assert tv(p[0, 0], p[:, 0]).shape == (3,)


def test_normalize_keyword(rng):
    counts_p = rng.integers(0, 20, size=10) + 1
    counts_q = rng.integers(0, 20, size=10) + 1
    p, q = counts_p / counts_p.sum(), counts_q / counts_q.sum()
    for _name, (fn, oracle) in PAIR_FUNCTIONS.items():
        assert close(fn(counts_p, counts_q, normalize=True), oracle(p, q), rel=1e-12)
    assert entropy(counts_p, normalize=True) == pytest.approx(naive.naive_entropy(p), rel=1e-12)
    # normalisation is per histogram along the axis
    batch = np.stack([counts_p, 2 * counts_p])
    np.testing.assert_allclose(kl(batch, counts_q, normalize=True), [kl(p, q)] * 2, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# inequalities, identities, metric axioms (properties)
# ---------------------------------------------------------------------------------------------

@settings(max_examples=60)
@given(pair=histogram_pairs())
def test_inequalities(pair):
    p, q = pair
    d_js, d_tv, d_kl = js(p, q), tv(p, q), kl(p, q)
    assert 0.0 <= d_js <= d_tv * LOG2 + 1e-12
    assert d_tv * LOG2 <= LOG2 + 1e-15
    assert 0.0 <= d_tv <= 1.0 + 1e-12  # inputs sum to 1 only up to rounding
    assert d_tv <= math.sqrt(d_kl / 2) + 1e-12  # Pinsker
    assert squared_hellinger(p, q) <= 2 * d_tv + 1e-12
    assert 0.0 <= squared_hellinger(p, q) <= 2.0 + 1e-12
    assert d_kl >= -1e-12


@settings(max_examples=40)
@given(pair=histogram_pairs(zeros=False))
def test_gan_identities(pair):
    # Goodfellow et al. 2014, Arjovsky & Bottou 2017, with the optimal D*(x) = p/(p+q)
    p, q = pair
    d_star = p / (p + q)
    value = float(np.sum(p * np.log(d_star)) + np.sum(q * np.log(1 - d_star)))
    assert value == pytest.approx(2 * js(p, q) - 2 * LOG2, rel=1e-10, abs=1e-12)
    lhs = float(np.sum(q * -np.log(d_star)))
    rhs = kl(q, p) - 2 * js(p, q) + 2 * LOG2 + float(np.sum(p * np.log(d_star)))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-12)
    assert divkit.f_divergence(p, q, "gan") == pytest.approx(value, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("metric", [js_distance, hellinger])
@settings(max_examples=40)
@given(triple=histogram_triples())
def test_metric_axioms(metric, triple):
    p, q, r = triple
    assert metric(p, p) == 0.0
    assert metric(p, q) >= 0.0
    assert metric(p, q) == pytest.approx(metric(q, p), rel=1e-12, abs=1e-15)
    assert metric(p, r) <= metric(p, q) + metric(q, r) + 1e-12
    if not np.array_equal(p, q):
        assert metric(p, q) > 0.0


@settings(max_examples=30)
@given(pair=histogram_pairs())
def test_symmetries(pair):
    p, q = pair
    assert js(p, q) == pytest.approx(js(q, p), rel=1e-12, abs=1e-15)
    assert tv(p, q) == tv(q, p)
    assert close(neyman_chi2(p, q), pearson_chi2(q, p), rel=1e-12)
    assert close(jeffreys(p, q), kl(p, q) + kl(q, p), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# bad input: each case names the argument
# ---------------------------------------------------------------------------------------------

ALL_PAIR = [kl, js, js_distance, tv, hellinger, squared_hellinger, pearson_chi2, neyman_chi2,
            jeffreys, cross_entropy]


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_nan_is_refused(fn):
    with pytest.raises(ValueError, match=r"^p contains 1 NaN"):
        fn([np.nan, 1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^q contains 2 NaN"):
        fn([0.5, 0.5], [np.nan, np.nan])


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_infinity_is_refused(fn):
    with pytest.raises(ValueError, match=r"^q contains 1 infinite"):
        fn([0.5, 0.5], [np.inf, 0.5])


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_negative_mass_is_refused(fn):
    with pytest.raises(ValueError, match=r"^p contains 1 negative value\(s\): masses must be >= 0"):
        fn([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^q contains 1 negative"):
        fn([0.5, 0.5], [1.5, -0.5], normalize=True)


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_shapes_that_do_not_broadcast(fn):
    with pytest.raises(ValueError, match=r"p and q have shapes \(2, 3\) and \(4, 3\) that do not broadcast"):
        fn(np.full((2, 3), 1 / 3), np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="p and q must have the same number of bins along axis -1"):
        fn([0.5, 0.5], [1 / 3, 1 / 3, 1 / 3])
    with pytest.raises(ValueError, match="same number of bins"):
        fn([[0.5, 0.5]], [[1.0]])  # would broadcast, but bins must match


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_empty_input(fn):
    with pytest.raises(ValueError, match=r"^p is empty"):
        fn([], [])
    with pytest.raises(ValueError, match=r"^q is empty"):
        fn([0.5, 0.5], np.zeros((0, 2)))
    with pytest.raises(ValueError, match="must have at least one dimension"):
        fn(1.0, [1.0])


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_sums_not_one(fn):
    with pytest.raises(ValueError, match=r"^p does not sum to 1 along axis -1 .*normalize=True"):
        fn([0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^q does not sum to 1 along axis 0"):
        fn(np.full((2, 3), 0.5), np.full((2, 3), 0.4), axis=0)
    with pytest.raises(ValueError, match=r"^p has a histogram of total mass 0"):
        fn([0.0, 0.0], [0.5, 0.5], normalize=True)
    # within atol is accepted; atol is a named, checked parameter
    fn([0.5, 0.5 + 1e-9], [0.5, 0.5])
    fn([0.5, 0.51], [0.5, 0.5], atol=0.02)
    with pytest.raises(ValueError, match="atol must be >= 0"):
        fn([0.5, 0.5], [0.5, 0.5], atol=-1.0)


def test_entropy_bad_input():
    with pytest.raises(ValueError, match=r"^p contains 1 NaN"):
        entropy([np.nan, 1.0])
    with pytest.raises(ValueError, match=r"^p contains 1 negative"):
        entropy([1.5, -0.5])
    with pytest.raises(ValueError, match=r"^p is empty"):
        entropy([])
    with pytest.raises(ValueError, match=r"^p does not sum to 1"):
        entropy([0.3, 0.3])


@pytest.mark.parametrize("fn", ALL_PAIR)
def test_bad_types_and_keywords(fn):
    with pytest.raises(TypeError, match="p must be real-valued"):
        fn([0.5 + 1j, 0.5], [0.5, 0.5])
    with pytest.raises(TypeError, match="q must be numeric"):
        fn([0.5, 0.5], ["a", "b"])
    with pytest.raises(ValueError, match="axis 1 is out of bounds"):
        fn([0.5, 0.5], [0.5, 0.5], axis=1)
    with pytest.raises(TypeError, match="axis must be an integer"):
        fn([0.5, 0.5], [0.5, 0.5], axis=0.0)
    with pytest.raises(TypeError, match="keepdims must be True or False"):
        fn([0.5, 0.5], [0.5, 0.5], keepdims="yes")
    with pytest.raises(TypeError, match="normalize must be True or False"):
        fn([0.5, 0.5], [0.5, 0.5], normalize=None)


@pytest.mark.parametrize("fn", [kl, js, js_distance, jeffreys, cross_entropy])
def test_bad_base(fn):
    with pytest.raises(ValueError, match="base must be > 0"):
        fn([0.5, 0.5], [0.5, 0.5], base=0)
    with pytest.raises(ValueError, match="base must not be 1"):
        fn([0.5, 0.5], [0.5, 0.5], base=1)
    with pytest.raises(TypeError, match="base must be a real number"):
        fn([0.5, 0.5], [0.5, 0.5], base="2")
    with pytest.raises(ValueError, match="base must be > 0"):
        entropy([0.5, 0.5], base=-2)


def test_parallel_and_serial_kernels_agree_exactly(rng, monkeypatch):
    from divkit import _discrete

    n = 3 * 65536 + 17  # several blocks, the last one partial
    p = rng.random((2, n))
    q = rng.random(n)
    p[0, ::7] = 0.0
    p /= p.sum(axis=-1, keepdims=True)
    q /= q.sum()
    serial = kl(p, q)
    monkeypatch.setattr(_discrete, "PARALLEL_MIN_BINS", 0)
    monkeypatch.setattr(_discrete.numba, "get_num_threads", lambda: 2)
    builds = []
    build = _discrete.pair_rows_kernel

    def spy(code, accurate, parallel):
        builds.append(parallel)
        return build(code, accurate, parallel)

    monkeypatch.setattr(_discrete, "pair_rows_kernel", spy)
    parallel = kl(p, q)
    assert builds and all(builds)  # the parallel kernel really ran
    assert np.array_equal(serial, parallel)
    np.testing.assert_allclose(parallel, special.rel_entr(p, q).sum(axis=-1), rtol=1e-12)
    p[1, n - 1] = np.nan
    with pytest.raises(ValueError, match=r"^p contains 1 NaN"):
        kl(p, q)
