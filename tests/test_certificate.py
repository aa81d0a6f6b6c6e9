"""The optimality certificate, checked on problems whose optimum is known by hand."""

import numpy as np
import pytest
import scipy.sparse as sp

from divkit.ot.result import (
    OptimalityError,
    OTResult,
    centre_potentials,
    certify,
    require_optimal,
)


def _swap_problem():
    # two points swapping places: the identity plan is optimal with cost 0
    C = np.array([[0.0, 1.0], [1.0, 0.0]])
    a = b = np.array([0.5, 0.5])
    return a, b, C


def test_optimal_pair_has_zero_residuals_dense_and_sparse():
    a, b, C = _swap_problem()
    plan = np.diag(a)
    f, g = np.array([0.0, 0.0]), np.array([0.0, 0.0])
    for P in (plan, sp.coo_array(plan)):
        cert = certify(a, b, C, P, f, g)
        assert cert.is_optimal()
        assert cert.primal_value == 0.0 and cert.dual_value == 0.0
        assert cert.marginal_error == 0.0 and cert.dual_infeasibility == 0.0


def test_non_optimal_plan_is_caught():
    a, b, C = _swap_problem()
    anti = np.array([[0.0, 0.5], [0.5, 0.0]])
    cert = certify(a, b, C, anti, np.zeros(2), np.zeros(2))
    assert cert.duality_gap == pytest.approx(1.0)
    assert cert.complementary_slackness == pytest.approx(1.0)
    assert not cert.is_optimal()
    result = OTResult(cost=1.0, sparse_plan=sp.coo_array(anti), f=np.zeros(2), g=np.zeros(2),
                      certificate=cert, solver="test")
    with pytest.raises(OptimalityError, match="did not reach a certified optimum") as info:
        require_optimal(result)
    assert info.value.result is result


def test_infeasible_potentials_and_marginals_are_measured():
    a, b, C = _swap_problem()
    cert = certify(a, b, C, np.diag([0.5, 0.4]), np.array([1.0, 0.0]), np.array([0.5, 0.0]))
    assert cert.marginal_error == pytest.approx(0.1)
    assert cert.dual_infeasibility == pytest.approx(1.5)
    assert cert.negative_mass == 0.0
    cert = certify(a, b, C, np.array([[0.6, -0.1], [-0.1, 0.6]]), np.zeros(2), np.zeros(2))
    assert cert.negative_mass == pytest.approx(0.1)
    assert not cert.is_optimal()


def test_centring_preserves_objective_and_constraints(rng):
    a = rng.dirichlet(np.ones(5))
    b = rng.dirichlet(np.ones(4))
    f, g = rng.standard_normal(5), rng.standard_normal(4)
    fc, gc = centre_potentials(a, b, f, g)
    assert a @ fc == pytest.approx(b @ gc, abs=1e-14)
    assert a @ fc + b @ gc == pytest.approx(a @ f + b @ g, abs=1e-14)
    np.testing.assert_allclose(fc[:, None] + gc[None, :], f[:, None] + g[None, :], atol=1e-14)
