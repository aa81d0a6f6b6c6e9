"""Malformed calls across the public numpy API: each one raises, and its message names the
offending argument (issue 14 point 5; docs/api_style.rst "Errors").

Every case is ``(call, exception type, pattern)``: the pattern is matched with
``re.search`` against the message and always contains the argument's name (or the names of
both arguments when the mistake is their combination). One case per line, so a failure names
the call.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import divkit
from divkit import get_f_divergence
from divkit.ot.solvers.network_simplex import network_simplex_points

P = np.array([0.25, 0.75])
Q = np.array([0.5, 0.5])
X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
Y = np.array([[2.0, 0.0], [3.0, 1.0]])
C = np.array([[0.0, 1.0], [1.0, 0.0]])
RAGGED = [[0.0, 1.0], [2.0]]
NAN_X = np.array([[0.0, np.nan], [1.0, 0.0], [0.0, 1.0]])
INF_X = np.array([[0.0, np.inf], [1.0, 0.0], [0.0, 1.0]])
S1 = np.random.default_rng(0).normal(size=(20, 2))
S2 = np.random.default_rng(1).normal(size=(25, 2)) + 1.0
H = np.array([[0.5, 0.5], [1.0, 0.0]])


def _kl_result():
    return divkit.wasserstein(X, Y, return_result=True)


#: a bad seed in every spelling numpy refuses, for every function that takes ``rng``
BAD_RNGS = [-1, 1.5, "seed", True, object()]
RNG_FUNCTIONS = {
    "sliced_wasserstein": lambda rng: divkit.sliced_wasserstein(X, Y, rng=rng),
    "mmd_test": lambda rng: divkit.mmd_test(S1, S2, n_permutations=9, rng=rng),
    "mmd2": lambda rng: divkit.mmd2(S1, S2, bandwidth="median", rng=rng),
    "median_bandwidth": lambda rng: divkit.median_bandwidth(S1, S2, rng=rng),
    "kid": lambda rng: divkit.kid(S1, S2, n_subsets=2, subset_size=5, rng=rng),
}


@pytest.mark.parametrize("name", sorted(RNG_FUNCTIONS))
@pytest.mark.parametrize("bad", BAD_RNGS, ids=repr)
def test_bad_rng_names_rng(name, bad):
    with pytest.raises((TypeError, ValueError), match=r"^rng must be None, an int >= 0") as info:
        RNG_FUNCTIONS[name](bad)
    assert "SeedSequence expects" not in str(info.value)


@pytest.mark.parametrize("name", sorted(RNG_FUNCTIONS))
def test_rng_accepts_what_default_rng_accepts(name):
    call = RNG_FUNCTIONS[name]
    values = [call(s) for s in (3, np.random.SeedSequence(3), np.random.PCG64(3), np.random.default_rng(3))]
    first = values[0].p_value if name == "mmd_test" else values[0].mean if name == "kid" else values[0]
    for v in values[1:]:
        got = v.p_value if name == "mmd_test" else v.mean if name == "kid" else v
        assert got == first
    call(None)
    call([1, 2, 3])


BOOL_FLAGS = [
    ("kl keepdims", lambda v: divkit.kl(P, Q, keepdims=v), "keepdims"),
    ("kl normalize", lambda v: divkit.kl(P, Q, normalize=v), "normalize"),
    ("tv normalize", lambda v: divkit.tv(P, Q, normalize=v), "normalize"),
    ("entropy keepdims", lambda v: divkit.entropy(P, keepdims=v), "keepdims"),
    ("f_divergence normalize", lambda v: divkit.f_divergence(P, Q, "kl", normalize=v), "normalize"),
    ("wasserstein return_result", lambda v: divkit.wasserstein(X, Y, return_result=v), "return_result"),
    ("wasserstein normalize", lambda v: divkit.wasserstein(X, Y, normalize=v), "normalize"),
    ("wasserstein_1d normalize", lambda v: divkit.wasserstein_1d([0.0, 1.0], [2.0], normalize=v), "normalize"),
    ("sliced normalize", lambda v: divkit.sliced_wasserstein(X, Y, normalize=v), "normalize"),
    ("emd sparse", lambda v: divkit.emd(Q, Q, C, sparse=v), "sparse"),
    ("emd normalize", lambda v: divkit.emd(Q, Q, C, normalize=v), "normalize"),
    ("emd presolve", lambda v: divkit.emd(Q, Q, C, method="highs-primal", presolve=v), "presolve"),
    ("emd_batch return_potentials", lambda v: divkit.emd_batch(H, H, C, return_potentials=v), "return_potentials"),
    ("emd_batch normalize", lambda v: divkit.emd_batch(H, H, C, normalize=v), "normalize"),
    ("network_simplex_points normalize", lambda v: network_simplex_points(X, Y, normalize=v), "normalize"),
    ("mmd2 normalize", lambda v: divkit.mmd2(S1, S2, normalize=v), "normalize"),
    ("energy_distance normalize", lambda v: divkit.energy_distance(S1, S2, normalize=v), "normalize"),
    ("mmd_test progress", lambda v: divkit.mmd_test(S1, S2, n_permutations=9, progress=v), "progress"),
    ("pairwise progress", lambda v: divkit.pairwise([X, Y], progress=v), "progress"),
    ("pairwise estimate_only", lambda v: divkit.pairwise([X, Y], estimate_only=v), "estimate_only"),
    ("multiscale return_result", lambda v: divkit.ot.multiscale_wasserstein(X, Y, return_result=v), "return_result"),
    ("wasserstein_grid return_result",
     lambda v: divkit.ot.wasserstein_grid(np.full((2, 2), 0.25), np.full((2, 2), 0.25), return_result=v), "return_result"),
]


@pytest.mark.parametrize("case", BOOL_FLAGS, ids=[c[0] for c in BOOL_FLAGS])
@pytest.mark.parametrize("bad", ["no", 1, None], ids=repr)
def test_strict_booleans(case, bad):
    """A truthy stand-in is not a bool: "no" would otherwise mean True."""
    _, call, flag = case
    if flag == "presolve" and bad is None:  # its documented default (HiGHS' own): accepted
        call(bad)
        return
    with pytest.raises(TypeError, match=rf"^{flag} must be True or False"):
        call(bad)


CASES = [
    # --- histograms (closed forms and D_f) ---
    ("kl p NaN", lambda: divkit.kl([np.nan, 1.0], Q), ValueError, r"^p contains 1 NaN"),
    ("kl q inf", lambda: divkit.kl(P, [np.inf, 0.0]), ValueError, r"^q contains 1 infinite"),
    ("kl p negative", lambda: divkit.kl([-0.5, 1.5], Q), ValueError, r"^p contains 1 negative"),
    ("kl p not summing to 1", lambda: divkit.kl([0.5, 0.6], Q), ValueError, r"^p does not sum to 1.*normalize=True"),
    ("kl p empty", lambda: divkit.kl([], []), ValueError, r"^p is empty"),
    ("kl p ragged", lambda: divkit.kl(RAGGED, Q), ValueError, r"^p is ragged"),
    ("kl p strings", lambda: divkit.kl(["a", "b"], Q), TypeError, r"^p must be numeric"),
    ("kl p complex", lambda: divkit.kl([0.5 + 1j, 0.5], Q), TypeError, r"^p must be real-valued"),
    ("kl p scalar", lambda: divkit.kl(1.0, 1.0), ValueError, r"^p must have at least one dimension"),
    ("kl axis out of range", lambda: divkit.kl(P, Q, axis=3), ValueError, r"^axis 3 is out of bounds for p"),
    ("kl base negative", lambda: divkit.kl(P, Q, base=-2.0), ValueError, r"\bbase\b"),
    ("kl base string", lambda: divkit.kl(P, Q, base="e"), TypeError, r"^base must be"),
    ("kl atol negative", lambda: divkit.kl(P, Q, atol=-1.0), ValueError, r"^atol must be >= 0"),
    ("js shapes differ", lambda: divkit.js(P, [0.2, 0.3, 0.5]), ValueError, r"\bp\b.*\bq\b"),
    ("entropy p ragged", lambda: divkit.entropy(RAGGED), ValueError, r"^p is ragged"),
    ("f_divergence unknown f", lambda: divkit.f_divergence(P, Q, "nope"), ValueError, r"nope"),
    ("get_f_divergence unknown", lambda: get_f_divergence("nope"), ValueError, r"nope"),
    ("get_f_divergence pi out of range", lambda: get_f_divergence("weighted_js", pi=1.5), ValueError, r"^pi must be"),
    ("conjugate string", lambda: get_f_divergence("kl").conjugate("a"), TypeError, r"^t must be numeric"),
    ("conjugate ragged", lambda: get_f_divergence("kl").conjugate(RAGGED), ValueError, r"^t is ragged"),
    ("f string", lambda: get_f_divergence("kl").f("a"), TypeError, r"^u must be numeric"),
    ("f_prime string", lambda: get_f_divergence("kl").f_prime("a"), TypeError, r"^u must be numeric"),
    ("activation string", lambda: get_f_divergence("kl").activation("a"), TypeError, r"^v must be numeric"),
    # --- optimal transport ---
    ("wasserstein x ragged", lambda: divkit.wasserstein(RAGGED, Y), ValueError, r"^x is ragged"),
    ("wasserstein y NaN", lambda: divkit.wasserstein(X, NAN_X), ValueError, r"^y contains 1 NaN"),
    ("wasserstein x inf", lambda: divkit.wasserstein(INF_X, Y), ValueError, r"^x contains 1 infinite"),
    ("wasserstein x 3-D", lambda: divkit.wasserstein(np.zeros((2, 2, 2)), Y), ValueError, r"^x must be 1-D or 2-D"),
    ("wasserstein x empty", lambda: divkit.wasserstein(np.zeros((0, 2)), Y), ValueError, r"^x is empty"),
    ("wasserstein dims differ", lambda: divkit.wasserstein(X, np.zeros((2, 3))), ValueError, r"^x and y must have the same dimension"),
    ("wasserstein p < 1", lambda: divkit.wasserstein(X, Y, p=0.5), ValueError, r"^p must be >= 1"),
    ("wasserstein p string", lambda: divkit.wasserstein(X, Y, p="2"), TypeError, r"^p must be a real number"),
    ("wasserstein p inf", lambda: divkit.wasserstein(X, Y, p=np.inf), ValueError, r"^p must be finite"),
    ("wasserstein metric unknown", lambda: divkit.wasserstein(X, Y, metric="cosine"), ValueError, r"^metric must be one of"),
    ("wasserstein metric sqeuclidean", lambda: divkit.wasserstein(X, Y, metric="sqeuclidean"), ValueError, r"^metric='sqeuclidean'"),
    ("wasserstein minkowski_p < 1", lambda: divkit.wasserstein(X, Y, metric="minkowski", minkowski_p=0.5), ValueError,
     r"^minkowski_p must be >= 1"),
    ("wasserstein method unknown", lambda: divkit.wasserstein(X, Y, method="sinkhorn"), ValueError, r"\bmethod\b"),
    ("wasserstein rtol 0", lambda: divkit.wasserstein(X, Y, rtol=0.0), ValueError, r"^rtol must be > 0"),
    ("wasserstein a negative", lambda: divkit.wasserstein(X, Y, a=[-1.0, 1.0, 1.0]), ValueError, r"^a contains negative"),
    ("wasserstein a wrong length", lambda: divkit.wasserstein(X, Y, a=[0.5, 0.5]), ValueError, r"^a has 2 weights but there are 3"),
    ("wasserstein b not summing to 1", lambda: divkit.wasserstein(X, Y, b=[1.0, 1.0]), ValueError, r"^b must sum to 1"),
    ("wasserstein b zero mass", lambda: divkit.wasserstein(X, Y, b=[0.0, 0.0], normalize=True), ValueError, r"^b has total mass 0"),
    ("wasserstein a ragged", lambda: divkit.wasserstein(X, Y, a=[[1.0], [1.0, 2.0]]), ValueError, r"^a is ragged"),
    ("wasserstein_1d u 2-D", lambda: divkit.wasserstein_1d(X, [0.0]), ValueError, r"^u must be 1-D"),
    ("wasserstein_1d v NaN", lambda: divkit.wasserstein_1d([0.0], [np.nan]), ValueError, r"^v contains 1 NaN"),
    ("wasserstein_1d p < 1", lambda: divkit.wasserstein_1d([0.0], [1.0], p=0.0), ValueError, r"^p must be >= 1"),
    ("wasserstein_1d a negative", lambda: divkit.wasserstein_1d([0.0, 1.0], [0.0], a=[2.0, -1.0]), ValueError, r"^a contains negative"),
    ("sliced n_projections 0", lambda: divkit.sliced_wasserstein(X, Y, n_projections=0), ValueError, r"^n_projections must be >= 1"),
    ("sliced n_projections float", lambda: divkit.sliced_wasserstein(X, Y, n_projections=2.5), TypeError,
     r"^n_projections must be an integer"),
    ("sliced projections columns", lambda: divkit.sliced_wasserstein(X, Y, projections=[[1.0, 0.0, 0.0]]), ValueError,
     r"^projections must have 2 columns"),
    ("sliced projections zero", lambda: divkit.sliced_wasserstein(X, Y, projections=[[0.0, 0.0]]), ValueError,
     r"^projections contains a zero direction"),
    ("sliced p < 1", lambda: divkit.sliced_wasserstein(X, Y, p=0.9), ValueError, r"^p must be >= 1"),
    ("emd C NaN", lambda: divkit.emd(Q, Q, [[0.0, np.nan], [1.0, 0.0]]), ValueError, r"^C contains 1 NaN"),
    ("emd C wrong shape", lambda: divkit.emd(Q, Q, np.zeros((3, 2))), ValueError, r"^a has 2 entries but C has 3 rows"),
    ("emd C ragged", lambda: divkit.emd(Q, Q, RAGGED), ValueError, r"^C is ragged"),
    ("emd a negative", lambda: divkit.emd([-0.5, 1.5], Q, C), ValueError, r"^a contains"),
    ("emd masses differ", lambda: divkit.emd([1.0, 1.0], Q, C), ValueError, r"^a and b have different total mass"),
    ("emd method unknown", lambda: divkit.emd(Q, Q, C, method="simplex"), ValueError, r"\bmethod\b"),
    ("emd time_limit -1", lambda: divkit.emd(Q, Q, C, method="highs-primal", time_limit=-1), ValueError, r"^time_limit must be > 0"),
    ("emd time_limit string", lambda: divkit.emd(Q, Q, C, method="highs-primal", time_limit="1"), TypeError,
     r"^time_limit must be a real number"),
    ("emd tolerance too loose", lambda: divkit.emd(Q, Q, C, method="highs-dual", tolerance=0.1), ValueError,
     r"^tolerance must be <= 0.001"),
    ("emd highs_method unknown", lambda: divkit.emd(Q, Q, C, method="highs-primal", highs_method="x"), ValueError,
     r"^highs_method must be one of"),
    ("emd time_limit for network simplex", lambda: divkit.emd(Q, Q, C, time_limit=1.0), TypeError, r"time_limit"),
    ("emd max_iter negative", lambda: divkit.emd(Q, Q, C, max_iter=-1), ValueError, r"^max_iter must be >= "),
    ("emd block_size 0", lambda: divkit.emd(Q, Q, C, block_size=0), ValueError, r"^block_size must be >= 1"),
    ("emd warm_start shape", lambda: divkit.emd(Q, Q, C, warm_start=(np.zeros(3), np.zeros(2))), ValueError, r"warm_start"),
    ("emd_batch C_batch shape", lambda: divkit.emd_batch(H, H, np.zeros((3, 2))), ValueError, r"^C_batch has shape"),
    ("emd_batch b_batch count", lambda: divkit.emd_batch(H, H[:1], C), ValueError, r"^a_batch has 2 problems but b_batch has 1"),
    ("emd_batch a_batch NaN", lambda: divkit.emd_batch([[np.nan, 1.0]], [[0.5, 0.5]], C), ValueError, r"^a_batch contains"),
    ("emd_batch max_iter", lambda: divkit.emd_batch(H, H, C, max_iter=-2), ValueError, r"^max_iter must be >= 0"),
    ("cost_matrix metric", lambda: divkit.cost_matrix(X, Y, "cosine"), ValueError, r"^metric must be one of"),
    ("cost_matrix minkowski_p", lambda: divkit.cost_matrix(X, Y, "minkowski", minkowski_p=0.5), ValueError,
     r"^minkowski_p must be >= 1"),
    ("cost_matrix x ragged", lambda: divkit.cost_matrix(RAGGED), ValueError, r"^x is ragged"),
    ("cost_matrix dims", lambda: divkit.cost_matrix(X, np.zeros((1, 3))), ValueError, r"^x and y must have the same dimension"),
    ("kr potential sqeuclidean", lambda: divkit.kantorovich_rubinstein_potential(X, Y, _kl_result(), metric="sqeuclidean"),
     ValueError, r"^metric must be one of"),
    ("kr potential g shape", lambda: divkit.kantorovich_rubinstein_potential(X, X, _kl_result()), ValueError,
     r"^result.g has shape \(2,\) but y has 3 points"),
    ("network_simplex_points power 0", lambda: network_simplex_points(X, Y, power=0.0), ValueError, r"^power must be > 0"),
    ("network_simplex_points metric", lambda: network_simplex_points(X, Y, metric="cosine"), ValueError, r"^metric must be one of"),
    ("multiscale p < 1", lambda: divkit.ot.multiscale_wasserstein(X, Y, p=0.5), ValueError, r"^p must be >= 1"),
    ("wasserstein_grid a NaN", lambda: divkit.ot.wasserstein_grid(np.full((2, 2), np.nan), np.full((2, 2), 0.25)), ValueError,
     r"^a contains"),
    # --- MMD ---
    ("mmd2 x ragged", lambda: divkit.mmd2(RAGGED, S2), ValueError, r"^x is ragged"),
    ("mmd2 y NaN", lambda: divkit.mmd2(S1, NAN_X), ValueError, r"^y contains 1 NaN"),
    ("mmd2 dims", lambda: divkit.mmd2(S1, np.zeros((4, 3))), ValueError, r"\bx\b.*\by\b.*dimension"),
    ("mmd2 kernel unknown", lambda: divkit.mmd2(S1, S2, "rbf"), ValueError, r"^unknown kernel 'rbf': kernel must be one of"),
    ("mmd2 kernel not a string", lambda: divkit.mmd2(S1, S2, 3), TypeError, r"^kernel must be a string"),
    ("mmd2 bandwidth negative", lambda: divkit.mmd2(S1, S2, bandwidth=-1.0), ValueError, r"^bandwidth must be > 0"),
    ("mmd2 bandwidth word", lambda: divkit.mmd2(S1, S2, bandwidth="mean"), ValueError, r"^bandwidth must be"),
    ("mmd2 bandwidth list negative", lambda: divkit.mmd2(S1, S2, bandwidth=[1.0, -1.0]), ValueError, r"^bandwidth must be > 0"),
    ("mmd2 estimator", lambda: divkit.mmd2(S1, S2, estimator="v"), ValueError, r"\bestimator\b"),
    ("mmd2 unbiased one point", lambda: divkit.mmd2(S1[:1], S2), ValueError, r"\bx\b"),
    ("mmd2 weights with unbiased", lambda: divkit.mmd2(S1, S2, a=np.full(20, 0.05)), ValueError,
     r"^weights a / b are supported by estimator='biased' only"),
    ("mmd2 a negative", lambda: divkit.mmd2(S1, S2, estimator="biased", a=np.r_[-1.0, np.full(19, 2 / 19)]), ValueError,
     r"^a contains negative"),
    ("mmd2 b wrong length", lambda: divkit.mmd2(S1, S2, estimator="biased", b=np.full(3, 1 / 3)), ValueError, r"^b has 3 weights"),
    ("mmd2 gamma 0", lambda: divkit.mmd2(S1, S2, "polynomial", gamma=0.0), ValueError, r"^gamma must be > 0"),
    ("mmd2 degree 0", lambda: divkit.mmd2(S1, S2, "polynomial", degree=0), ValueError, r"^degree must be >= 1"),
    ("mmd2 coef0 negative", lambda: divkit.mmd2(S1, S2, "polynomial", coef0=-1.0), ValueError, r"^coef0 must be >= 0"),
    ("mmd2 kernel_weights negative", lambda: divkit.mmd2(S1, S2, bandwidth=[1.0, 2.0], kernel_weights=[1.0, -1.0]), ValueError,
     r"^kernel_weights must be >= 0"),
    ("mmd2 median_max_points 1", lambda: divkit.mmd2(S1, S2, bandwidth="median", median_max_points=1), ValueError,
     r"^median_max_points must be >= 2|^max_points must be >= 2"),
    ("mmd_test n_permutations 0", lambda: divkit.mmd_test(S1, S2, n_permutations=0), ValueError, r"^n_permutations must be >= 1"),
    ("mmd_test method", lambda: divkit.mmd_test(S1, S2, method="bootstrap"), ValueError, r"^method must be one of"),
    ("mmd_test memory_budget 0", lambda: divkit.mmd_test(S1, S2, n_permutations=9, memory_budget=0), ValueError,
     r"^memory_budget must be >= 1"),
    ("energy_distance a negative", lambda: divkit.energy_distance(S1, S2, a=np.r_[-1.0, np.full(19, 2 / 19)]), ValueError,
     r"^a contains negative"),
    ("energy_distance x ragged", lambda: divkit.energy_distance(RAGGED, S2), ValueError, r"^x is ragged"),
    ("median_bandwidth max_points", lambda: divkit.median_bandwidth(S1, max_points=1), ValueError, r"^max_points must be >= 2"),
    # --- pairwise ---
    ("pairwise metric", lambda: divkit.pairwise([X, Y], metric="cosine"), ValueError, r"cosine"),
    ("pairwise backend", lambda: divkit.pairwise([X, Y], backend="spark"), ValueError, r"^backend must be one of"),
    ("pairwise errors", lambda: divkit.pairwise([X, Y], errors="ignore"), ValueError, r"^errors must be one of"),
    ("pairwise n_jobs 0", lambda: divkit.pairwise([X, Y], n_jobs=0), ValueError, r"^n_jobs must be >= 1"),
    ("pairwise p < 1", lambda: divkit.pairwise([X, Y], p=0.5), ValueError, r"^p must be >= 1"),
    ("pairwise p string", lambda: divkit.pairwise([X, Y], p="1"), TypeError, r"^p must be a real number"),
    ("pairwise a count", lambda: divkit.pairwise([X, Y], a=[None]), ValueError, r"^a must be a list with one weight vector"),
    ("pairwise a negative", lambda: divkit.pairwise([X, Y], a=[[-1.0, 1.0, 1.0], None]), ValueError, r"^a\[0\] contains negative"),
    ("pairwise b without Y", lambda: divkit.pairwise([X, Y], b=[None, None]), ValueError, r"^b= .*needs Y"),
    ("pairwise unknown option", lambda: divkit.pairwise([X, Y], metric="mmd2", kernels="x"), TypeError, r"kernels"),
    ("pairwise block_size 0", lambda: divkit.pairwise([X, Y], block_size=0), ValueError, r"^block_size must be >= 1"),
    # --- generative metrics ---
    ("frechet x one row", lambda: divkit.frechet_distance(S1[:1], S2), ValueError, r"\bx\b"),
    ("frechet y NaN", lambda: divkit.frechet_distance(S1, NAN_X), ValueError, r"^y contains"),
    ("frechet dims", lambda: divkit.frechet_distance(S1, np.zeros((5, 3))), ValueError, r"\bx\b.*\by\b"),
    ("frechet_from_moments cov shape", lambda: divkit.frechet_distance_from_moments(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
     ValueError, r"cov1"),
    ("kid n_subsets 0", lambda: divkit.kid(S1, S2, n_subsets=0, subset_size=5), ValueError, r"^n_subsets must be >= 1"),
    ("kid subset_size too large", lambda: divkit.kid(S1, S2, n_subsets=2, subset_size=50), ValueError, r"^subset_size=50 exceeds"),
    ("kid degree 0", lambda: divkit.kid(S1, S2, n_subsets=2, subset_size=5, degree=0), ValueError, r"^degree must be >= 1"),
    # --- gaussian closed forms ---
    ("gaussian kl cov not square", lambda: divkit.gaussian.kl(np.zeros(2), np.ones((2, 3)), np.zeros(2), np.eye(2)), ValueError,
     r"cov1"),
    ("gaussian w2 mean NaN", lambda: divkit.gaussian.w2([np.nan, 0.0], np.eye(2), np.zeros(2), np.eye(2)), ValueError, r"mean1"),
    # --- threads ---
    ("set_workers 0", lambda: divkit.set_workers(0).__enter__(), ValueError, r"^workers must be between 1 and"),
    ("set_workers too many", lambda: divkit.set_workers(10**6).__enter__(), ValueError, r"^workers must be between 1 and"),
    ("set_workers string", lambda: divkit.set_workers("2").__enter__(), TypeError, r"^workers must be an integer"),
    ("set_workers bool", lambda: divkit.set_workers(True).__enter__(), TypeError, r"^workers must be an integer"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_call_names_the_argument(case):
    _, call, exc_type, pattern = case
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # every case uses the current spelling
        with pytest.raises(exc_type) as info:
            call()
    assert re.search(pattern, str(info.value)), f"message {str(info.value)!r} does not match {pattern!r}"


def test_there_are_about_a_hundred_malformed_calls():
    n = len(CASES) + len(BOOL_FLAGS) * 3 + len(RNG_FUNCTIONS) * len(BAD_RNGS)
    assert n >= 100


# --- the deprecated spellings: accepted for one release, with a warning naming the new one ---

RENAMED = [
    ("wasserstein_1d u_weights", lambda: divkit.wasserstein_1d([0.0, 1.0], [2.0], u_weights=[0.25, 0.75]),
     lambda: divkit.wasserstein_1d([0.0, 1.0], [2.0], a=[0.25, 0.75]), "u_weights", "a"),
    ("wasserstein_1d v_weights", lambda: divkit.wasserstein_1d([0.0], [1.0, 2.0], v_weights=[0.25, 0.75]),
     lambda: divkit.wasserstein_1d([0.0], [1.0, 2.0], b=[0.25, 0.75]), "v_weights", "b"),
    ("mmd2 x_weights", lambda: divkit.mmd2(S1, S2, estimator="biased", x_weights=np.full(20, 0.05)),
     lambda: divkit.mmd2(S1, S2, estimator="biased", a=np.full(20, 0.05)), "x_weights", "a"),
    ("mmd2 y_weights", lambda: divkit.mmd2(S1, S2, estimator="biased", y_weights=np.full(25, 0.04)),
     lambda: divkit.mmd2(S1, S2, estimator="biased", b=np.full(25, 0.04)), "y_weights", "b"),
    ("mmd2 median_seed", lambda: divkit.mmd2(S1, S2, bandwidth="median", median_max_points=10, median_seed=3),
     lambda: divkit.mmd2(S1, S2, bandwidth="median", median_max_points=10, rng=3), "median_seed", "rng"),
    ("energy_distance x_weights", lambda: divkit.energy_distance(S1, S2, x_weights=np.full(20, 0.05)),
     lambda: divkit.energy_distance(S1, S2, a=np.full(20, 0.05)), "x_weights", "a"),
    ("sliced seed", lambda: divkit.sliced_wasserstein(X, Y, seed=4), lambda: divkit.sliced_wasserstein(X, Y, rng=4), "seed", "rng"),
    ("mmd_test seed", lambda: divkit.mmd_test(S1, S2, n_permutations=19, seed=4).p_value,
     lambda: divkit.mmd_test(S1, S2, n_permutations=19, rng=4).p_value, "seed", "rng"),
    ("median_bandwidth seed", lambda: divkit.median_bandwidth(S1, S2, max_points=10, seed=2),
     lambda: divkit.median_bandwidth(S1, S2, max_points=10, rng=2), "seed", "rng"),
    ("kid seed", lambda: divkit.kid(S1, S2, n_subsets=2, subset_size=5, seed=1).mean,
     lambda: divkit.kid(S1, S2, n_subsets=2, subset_size=5, rng=1).mean, "seed", "rng"),
    ("cost_matrix p", lambda: divkit.cost_matrix(X, Y, "minkowski", p=3.0),
     lambda: divkit.cost_matrix(X, Y, "minkowski", minkowski_p=3.0), "p", "minkowski_p"),
    ("pairwise weights", lambda: divkit.pairwise([X, Y], weights=[None, [0.25, 0.75]]).matrix,
     lambda: divkit.pairwise([X, Y], a=[None, [0.25, 0.75]]).matrix, "weights", "a"),
    ("pairwise sliced seed option", lambda: divkit.pairwise([X, Y], metric="sliced_wasserstein", seed=3).matrix,
     lambda: divkit.pairwise([X, Y], metric="sliced_wasserstein", rng=3).matrix, "seed", "rng"),
]


@pytest.mark.parametrize("case", RENAMED, ids=[c[0] for c in RENAMED])
def test_old_keyword_warns_and_gives_the_same_value(case):
    _, old_call, new_call, old, new = case
    with pytest.warns(DeprecationWarning, match=rf"the keyword {old}= is deprecated, use {new}= instead") as record:
        old_value = old_call()
    here = [(r.filename, r.lineno) for r in record if issubclass(r.category, DeprecationWarning)]
    assert here and set(here) == {(__file__, old_call.__code__.co_firstlineno)}, \
        f"the warning must point at the caller's line, got {here}"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new_value = new_call()
    np.testing.assert_array_equal(old_value, new_value)


def test_old_keyword_through_the_callable_pairwise_package_points_at_the_caller():
    # Which object ``divkit.pairwise`` holds (the function or the callable package) depends on
    # import order; the package adds a frame between the user and the decorated function, and
    # the warning must still name the user's line (CI once ran the suite in this state only).
    import sys

    package = sys.modules["divkit.pairwise"]
    with pytest.warns(DeprecationWarning, match="weights= is deprecated") as record:
        line = sys._getframe().f_lineno + 1
        package([X, Y], weights=[None, [0.25, 0.75]])
    here = {(r.filename, r.lineno) for r in record if issubclass(r.category, DeprecationWarning)}
    assert here == {(__file__, line)}, here
    with pytest.warns(DeprecationWarning, match="seed= is deprecated") as record:
        line = sys._getframe().f_lineno + 1
        package([X, Y], metric="sliced_wasserstein", seed=3)
    here = {(r.filename, r.lineno) for r in record if issubclass(r.category, DeprecationWarning)}
    assert here == {(__file__, line)}, here


def test_old_and_new_keyword_together_is_an_error():
    with pytest.raises(TypeError, match=r"got seed= \(deprecated\) and rng=: pass only rng="):
        divkit.sliced_wasserstein(X, Y, seed=1, rng=1)
    with pytest.raises(TypeError, match=r"got u_weights= \(deprecated\) and a="):
        divkit.wasserstein_1d([0.0], [1.0], a=[1.0], u_weights=[1.0])


def test_one_default_order_and_metric():
    """p defaults to 1 in the three W_p functions; the ground metric defaults to euclidean."""
    import inspect

    for fn in (divkit.wasserstein, divkit.wasserstein_1d, divkit.sliced_wasserstein):
        assert inspect.signature(fn).parameters["p"].default == 1
    for fn in (divkit.wasserstein, divkit.cost_matrix, network_simplex_points, divkit.kantorovich_rubinstein_potential):
        assert inspect.signature(fn).parameters["metric"].default == "euclidean"
    # the default really is euclidean, power 1 (it was sqeuclidean before)
    assert network_simplex_points([[0.0]], [[3.0]]).cost == 3.0


def test_set_workers_sets_and_restores_the_thread_count():
    import numba

    before = numba.get_num_threads()
    with divkit.set_workers(1) as n:
        assert n == 1 and numba.get_num_threads() == 1
        inside = divkit.mmd2(S1, S2)
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with divkit.set_workers(1):
            raise RuntimeError("boom")
    assert numba.get_num_threads() == before  # restored on error too
    with divkit.set_workers(-1):
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    assert divkit.mmd2(S1, S2) == inside  # results do not depend on the thread count
