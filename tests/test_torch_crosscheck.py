"""divkit.torch against the numpy side of divkit (needs divkit.fdivergences, divkit.mmd, divkit.ot).

These tests use modules written in other branches; they fail until those are merged.
"""

import math

import naive
import numpy as np
import pytest
import torch

import divkit
from divkit.torch import KERNELS, exact_ot_cost, get_f_divergence, mmd2, wasserstein

torch.set_num_threads(1)

ENTRIES = [
    ("tv", {}),
    ("kl", {}),
    ("reverse_kl", {}),
    ("pearson_chi2", {}),
    ("neyman_chi2", {}),
    ("squared_hellinger", {}),
    ("jeffreys", {}),
    ("js", {}),
    ("weighted_js", {}),
    ("weighted_js", {"pi": 0.3}),
    ("gan", {}),
    ("alpha", {"alpha": -1.5}),
    ("alpha", {"alpha": 0.0}),
    ("alpha", {"alpha": 0.5}),
    ("alpha", {"alpha": 1.0}),
    ("alpha", {"alpha": 2.0}),
]
IDS = [f"{n}{p}" if p else n for n, p in ENTRIES]
T_GRID = np.concatenate([np.linspace(-20, 20, 161), [-0.5, 0.5, 0.5 * math.log(2), 1.0, 0.0, -1e-300]])
U_GRID = np.concatenate([np.logspace(-6, 6, 49), [1.0]])
V_GRID = np.linspace(-30, 30, 121)


def numpy_eval(method, values):
    return np.asarray(method(np.asarray(values, dtype=np.float64)), dtype=np.float64)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_domains_equal(name, params):
    ours = get_f_divergence(name, **params).conjugate_domain
    theirs = divkit.get_f_divergence(name, **params).conjugate_domain
    assert (ours.low, ours.high, ours.low_closed, ours.high_closed) == (
        theirs.low,
        theirs.high,
        theirs.low_closed,
        theirs.high_closed,
    )
    for t in T_GRID:
        assert ours.contains(float(t)) == bool(theirs.contains(float(t)))


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_conjugate_activation_f_and_f_prime_equal_numpy_registry(name, params):
    ours = get_f_divergence(name, **params)
    theirs = divkit.get_f_divergence(name, **params)
    t64 = lambda a: torch.tensor(a, dtype=torch.float64)
    np.testing.assert_allclose(
        ours.conjugate(t64(T_GRID)).numpy(), numpy_eval(theirs.conjugate, T_GRID), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        ours.activation(t64(V_GRID)).numpy(), numpy_eval(theirs.activation, V_GRID), rtol=1e-12, atol=1e-14
    )
    if name == "gan":
        # numpy's u log u - (u+1) log(u+1) loses ~1e-10 to cancellation at large u; torch uses the
        # cancellation-free form: check it against mpmath instead
        mpmath = pytest.importorskip("mpmath")
        with mpmath.workdps(40):
            exact = [float(mpmath.mpf(u) * mpmath.log(u) - (mpmath.mpf(u) + 1) * mpmath.log(mpmath.mpf(u) + 1)) for u in U_GRID]
        np.testing.assert_allclose(ours.f(t64(U_GRID)).numpy(), exact, rtol=1e-14, atol=0)
    else:
        np.testing.assert_allclose(ours.f(t64(U_GRID)).numpy(), numpy_eval(theirs.f, U_GRID), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        ours.f_prime(t64(U_GRID)).numpy(), numpy_eval(theirs.f_prime, U_GRID), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_mmd2_equals_numpy_mmd2(kernel, estimator, rng):
    n = 40
    m = 40 if estimator == "linear" else 33
    x, y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3)) + 0.4
    for bandwidth in (0.7, [0.5, 2.0]):
        if kernel in ("polynomial", "linear", "energy") and isinstance(bandwidth, list):
            # bandwidth-free kernels refuse a list of bandwidths on both sides
            for fn, args in ((mmd2, (torch.tensor(x), torch.tensor(y))), (divkit.mmd2, (x, y))):
                with pytest.raises(ValueError, match=f"kernel '{kernel}' takes no bandwidth"):
                    fn(*args, kernel, bandwidth, estimator=estimator)
            continue
        got = mmd2(torch.tensor(x), torch.tensor(y), kernel, bandwidth, estimator=estimator).item()
        want = divkit.mmd2(x, y, kernel, bandwidth, estimator=estimator)
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_exact_cost_with_real_solver_matches_linprog_and_gradients(rng):
    C = rng.uniform(size=(6, 5))
    a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(5))
    ref = naive.linprog_emd(a, b, C)
    res = divkit.emd(a, b, C)
    Ct, at, bt = (torch.tensor(v).requires_grad_() for v in (C, a, b))
    cost = exact_ot_cost(Ct, at, bt)
    assert cost.item() == pytest.approx(ref.cost, rel=1e-10)
    gC, ga, gb = torch.autograd.grad(cost, (Ct, at, bt))
    np.testing.assert_allclose(gC.numpy(), res.dense_plan(), atol=1e-12)
    np.testing.assert_allclose(ga.numpy(), res.f, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), res.g, atol=1e-12)
    np.testing.assert_allclose(ga.numpy(), ref.f, atol=1e-8)  # non-degenerate: unique once centred


def test_gradcheck_with_real_solver(rng):
    x = torch.tensor(rng.normal(size=(5, 2))).requires_grad_()
    y = torch.tensor(rng.normal(size=(4, 2)) + 1).requires_grad_()
    la = torch.tensor(rng.normal(size=5)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda u, v, w: wasserstein(u, v, torch.softmax(w, 0), p=2), (x, y, la), eps=1e-7, atol=1e-6
    )


@pytest.mark.parametrize("p", [1, 2])
def test_torch_wasserstein_equals_numpy_wasserstein(p, rng):
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(25, 3)) + 0.5
    got = wasserstein(torch.tensor(x), torch.tensor(y), p=p).item()
    assert got == pytest.approx(divkit.wasserstein(x, y, p=p), rel=1e-9)


def test_linear_estimator_with_unequal_sizes_matches_numpy(rng):
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(14, 2)) + 0.3
    got = mmd2(torch.tensor(x), torch.tensor(y), "gaussian", 0.8, estimator="linear").item()
    assert got == pytest.approx(divkit.mmd2(x, y, "gaussian", 0.8, estimator="linear"), rel=1e-12)


def test_weights_are_normalised_like_numpy_wasserstein(rng):
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(7, 2))
    a, b = np.arange(1.0, 10.0), np.full(7, 45 / 7)
    for p in (1, 2):
        got = wasserstein(torch.tensor(x), torch.tensor(y), torch.tensor(a), torch.tensor(b), p=p).item()
        assert got == pytest.approx(divkit.wasserstein(x, y, a, b, p=p, normalize=True), rel=1e-9)


def test_saturated_activations_stay_inside_the_domain_like_numpy():
    v = np.array([-1000.0, -40.0, 0.0, 20.0, 40.0, 1000.0])
    for name in ("js", "weighted_js", "squared_hellinger", "alpha", "reverse_kl", "neyman_chi2", "gan"):
        ours, theirs = get_f_divergence(name), divkit.get_f_divergence(name)
        act = ours.activation(torch.tensor(v, dtype=torch.float64))
        assert torch.isfinite(ours.conjugate(act)).all(), name
        np.testing.assert_allclose(act.numpy(), theirs.activation(v), rtol=1e-12, atol=0)
