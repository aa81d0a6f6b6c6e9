"""Issue 9: one certified path for every exact OT answer.

Every method and ``emd_batch`` either returns the right cost (1e-9 relative to the optimum of an
independent oracle) or raises ``OptimalityError``; never a wrong cost labelled optimal. Plus the
option checks, warm start with zero-mass atoms, the rescaled result route and the count of
validations and certificate passes of one ``wasserstein`` call.
"""

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_transport_lp, transport_cost_by_enumeration
from scipy.optimize import linear_sum_assignment

import divkit
import divkit._validation as validation
from divkit import emd, wasserstein
from divkit.ot import OptimalityError, emd_batch

RTOL = 1e-9
METHODS = ["network_simplex", "highs-primal", "highs-dual", "pot"]


def _answers(a, b, C):
    """(name, cost or None when it raised OptimalityError) for every route."""
    out = []
    for method in METHODS:
        try:
            res = emd(a, b, C, method=method)
        except OptimalityError:
            out.append((method, None))
            continue
        assert res.certificate.is_optimal(RTOL)
        out.append((method, res.cost))
    try:
        out.append(("emd_batch", float(emd_batch(a[None], b[None], C[None]).costs[0])))
    except OptimalityError:
        out.append(("emd_batch", None))
    return out


def _check(a, b, C, expected):
    for name, cost in _answers(a, b, C):
        if cost is not None:
            assert abs(cost - expected) <= RTOL * abs(expected) + 1e-300, (name, cost, expected)


@st.composite
def forbidden_square(draw):
    """Uniform n-to-n with a random 0.5-50 % of entries forbidden at 1e6..1e20, ties allowed."""
    n = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    C = rng.random((n, n))
    if draw(st.booleans()):
        C = np.round(C, 1)  # ties and duplicates
    frac = draw(st.floats(0.005, 0.5))
    big = 10.0 ** draw(st.floats(6, 20))
    C[rng.random((n, n)) < frac] = big
    return C


@settings(max_examples=25)
@given(forbidden_square())
def test_forbidden_arcs_right_or_raise(C):
    n = C.shape[0]
    a = np.full(n, 1.0 / n)
    expected = math.fsum(C[i, j] for i, j in zip(*linear_sum_assignment(C))) / n
    assert expected == pytest.approx(transport_cost_by_enumeration(C), rel=1e-12)
    _check(a, a, C, expected)


@st.composite
def decades_square(draw):
    n = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    decades = draw(st.floats(10, 30))
    C = 10.0 ** (rng.random((n, n)) * decades - decades / 2)
    return C


@settings(max_examples=25)
@given(decades_square())
def test_costs_over_many_decades_right_or_raise(C):
    n = C.shape[0]
    a = np.full(n, 1.0 / n)
    r, c = linear_sum_assignment(C)
    expected = math.fsum(C[r, c]) / n
    _check(a, a, C, expected)


@st.composite
def spread_weights(draw):
    """Weights spread over 1e-12..1 with zero-mass atoms, ordinary costs."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = 10.0 ** (-12 * rng.random(n))
    b = 10.0 ** (-12 * rng.random(m))
    if n > 1 and draw(st.booleans()):
        a[rng.integers(n)] = 0.0
    if m > 1 and draw(st.booleans()):
        b[rng.integers(m)] = 0.0
    a /= a.sum()
    b /= b.sum()
    C = rng.random((n, m))
    return a, b, C


@settings(max_examples=25)
@given(spread_weights())
def test_spread_weights_and_zero_mass_right_or_raise(problem):
    a, b, C = problem
    b = b * (a.sum() / b.sum())
    expected = naive_transport_lp(a, b, C)
    _check(a, b, C, expected)


def test_issue_examples_are_right():
    rng = np.random.default_rng(0)
    a, b = np.full(8, 1 / 8), np.full(6, 1 / 6)
    C = rng.random((8, 6))
    forbidden = rng.random((8, 6)) < 0.3
    C[forbidden] = 1e20
    expected = naive_transport_lp(a, b, C, allowed=~forbidden)
    _check(a, b, C, expected)
    assert emd_batch(a[None], b[None], C[None]).costs[0] == pytest.approx(expected, rel=RTOL)
    assert emd(a, b, C).cost == pytest.approx(expected, rel=RTOL)


def test_pot_rtol_is_the_callers():
    rng = np.random.default_rng(1)
    a = np.full(5, 0.2)
    res = emd(a, a, rng.random((5, 5)), method="pot", rtol=10.0)
    assert res.solver == "pot"


# --- options ------------------------------------------------------------------------------------

A2 = np.full(2, 0.5)
C2 = np.array([[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kwargs, error, match", [
    ({"block_size": 0}, ValueError, "block_size must be >= 1"),
    ({"block_size": 2.5}, TypeError, "block_size must be an integer"),
    ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
    ({"method": "highs-primal", "time_limit": 0}, ValueError, "time_limit must be > 0"),
    ({"method": "highs-primal", "time_limit": -1.0}, ValueError, "time_limit must be > 0"),
    ({"method": "pot", "block_size": 3}, TypeError,
     r"emd\(method='pot'\) does not take option\(s\) \['block_size'\]; it accepts \['max_iter'\]"),
    ({"method": "network_simplex", "time_limit": 1.0}, TypeError,
     r"emd\(method='network_simplex'\) does not take option\(s\) \['time_limit'\]"),
    ({"sparse": "yes"}, TypeError, "sparse must be True or False"),
    ({"normalize": 1}, TypeError, "normalize must be True or False"),
])
def test_bad_options_have_messages(kwargs, error, match):
    with pytest.raises(error, match=match):
        emd(A2, A2, C2, **kwargs)


def test_unknown_option_names_the_public_function():
    with pytest.raises(TypeError, match=r"emd\(\) got an unexpected keyword argument 'maxiter'"):
        emd(A2, A2, C2, maxiter=3)


def test_block_size_zero_does_not_hang():
    # the former infinite loop, run in a child process with a timeout
    code = ("import numpy as np, divkit\n"
            "try:\n    divkit.emd(np.full(3, 1/3), np.full(3, 1/3), np.eye(3), block_size=0)\n"
            "except ValueError as e:\n    print('ValueError', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                         env={"PYTHONPATH": divkit.__path__[0].rsplit("/", 1)[0], "PATH": ""})
    assert "ValueError block_size must be >= 1" in out.stdout, out.stderr


# --- warm start, rescaled results ---------------------------------------------------------------


def test_warm_start_with_zero_mass_atoms(rng):
    a = rng.dirichlet(np.ones(7))
    b = rng.dirichlet(np.ones(5))
    a[2] = 0.0
    b[4] = 0.0
    a /= a.sum()
    b /= b.sum()
    C = rng.random((7, 5))
    first = emd(a, b, C)
    again = emd(a, b, C + 0.01 * rng.random((7, 5)), warm_start=first)
    cold = emd(a, b, again.problem.C)
    assert again.cost == pytest.approx(cold.cost, rel=RTOL)
    assert again.f.shape == (7,) and again.g.shape == (5,)


@pytest.mark.parametrize("magnitude", [1e200, 1e-200])
def test_result_route_equals_float_route_at_extreme_scales(magnitude, rng):
    x = rng.random((6, 2))
    y = rng.random((5, 2))
    ref = wasserstein(x, y, p=2)
    value = wasserstein(x * magnitude, y * magnitude, p=2)
    res = wasserstein(x * magnitude, y * magnitude, p=2, return_result=True)
    assert res.distance == value
    assert value == pytest.approx(ref * magnitude, rel=1e-12)
    assert res.certificate.is_optimal()


# --- results ------------------------------------------------------------------------------------


def test_result_keeps_problem_and_builds_dense_plan_lazily(rng):
    a = rng.dirichlet(np.ones(6))
    C = rng.random((6, 6))
    res = emd(a, a, C)
    assert "_dense" not in res.__dict__
    assert res.sparse_plan.nnz <= 11
    np.testing.assert_array_equal(res.plan, res.sparse_plan.toarray())
    assert res.problem.a is not None and res.problem.C is not None
    assert res == res  # noqa: PLR0124 (identity equality, never raises on array fields)
    assert res != emd(a, a, C)
    assert emd(a, a, C, sparse=True).plan.nnz == res.sparse_plan.nnz


# --- one validation per input, one certificate pass ---------------------------------------------


def test_one_validation_per_input_and_one_certificate_pass(monkeypatch, rng):
    from divkit.ot import api, result

    counts = {}

    def counting(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(api, "as_points")
    counting(validation, "as_weights")
    counting(api, "dense_problem_trusted")
    counting(result, "_certificate")
    counting(result, "_dense_dual_pass")
    x, y = rng.random((20, 2)), rng.random((15, 2))
    a, b = rng.dirichlet(np.ones(20)), rng.dirichlet(np.ones(15))
    value = wasserstein(x, y, a, b)
    res = wasserstein(x, y, a, b, return_result=True)
    assert res.distance == value
    # two calls: each validates x, y, a, b once, builds one problem and certifies once
    assert counts == {"as_points": 4, "as_weights": 4, "dense_problem_trusted": 2,
                      "_certificate": 2, "_dense_dual_pass": 2}
