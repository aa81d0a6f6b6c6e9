"""The torch f-divergence table against literal numpy oracles (tests/naive.py, torch section)."""

import math

import naive
import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from divkit.torch import Interval, get_f_divergence, wright_omega

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
    ("alpha", {"alpha": 3.0}),
]
IDS = [f"{n}{p}" if p else n for n, p in ENTRIES]
U_GRID = np.concatenate([np.logspace(-4, 4, 41), [1.0, 0.5, 2.0]])


def t64(values):
    return torch.tensor(values, dtype=torch.float64)


def inside_points(domain: Interval, n=25, name=None):
    """Points strictly inside dom f*, spread over a bounded window."""
    low = domain.low if math.isfinite(domain.low) else -6.0
    if name == "pearson_chi2":
        # t^2/4 + t is the conjugate of (u-1)^2 on all of R; it equals the sup over u >= 0
        # only for t >= -2 (CONVENTIONS.md §2), the range the optimal critic 2(p/q - 1) uses
        low = -2.0
    high = domain.high if math.isfinite(domain.high) else 3.0
    span = high - low
    return np.linspace(low + 0.02 * span, high - 0.02 * span, n)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_f_matches_literal_formula(name, params):
    entry = get_f_divergence(name, **params)
    got = entry.f(t64(np.concatenate([[0.0], U_GRID]))).numpy()
    want = [naive.naive_f(name, u, **params) for u in np.concatenate([[0.0], U_GRID])]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # f(1) = 0, except GAN whose f gives 2 JS - log 4 (CONVENTIONS.md §2)
    f_at_one = -math.log(4.0) if name == "gan" else 0.0
    assert entry.f(t64([1.0])).item() == pytest.approx(f_at_one, abs=1e-15)
    assert entry.f(t64([-1.0])).item() == math.inf


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_fenchel_young_equality(name, params):
    # f(u) + f*(f'(u)) = u f'(u) at every u > 0: f'(u) is where the supremum is attained.
    entry = get_f_divergence(name, **params)
    u = t64(U_GRID)
    slope = entry.f_prime(u)
    lhs = entry.f(u) + entry.conjugate(slope)
    np.testing.assert_allclose(lhs.numpy(), (u * slope).numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_conjugate_equals_brute_force_supremum(name, params):
    entry = get_f_divergence(name, **params)
    ts = inside_points(entry.conjugate_domain, n=9, name=name)
    got = entry.conjugate(t64(ts)).numpy()
    want = [naive.brute_force_conjugate(name, t, **params) for t in ts]
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_conjugate_is_inf_outside_domain_with_zero_gradient(name, params):
    entry = get_f_divergence(name, **params)
    dom = entry.conjugate_domain
    outside = []
    if math.isfinite(dom.high):
        outside += [dom.high + 1e-9, dom.high + 1.0, 1e6]
        if not dom.high_closed:
            outside.append(dom.high)
    if math.isfinite(dom.low):
        outside += [dom.low - 1.0, -1e6]
        if not dom.low_closed:
            outside.append(dom.low)
    if not outside:
        assert dom.low == -math.inf and dom.high == math.inf
        return
    t = t64(outside).requires_grad_()
    value = entry.conjugate(t)
    assert torch.all(value == math.inf)
    # the +inf branch is constant: its gradient is 0, never NaN
    (grad,) = torch.autograd.grad(torch.where(torch.isinf(value), 0.0, value).sum(), t)
    assert torch.all(torch.isfinite(grad))
    assert not dom.contains(float(outside[0]))


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_conjugate_gradients_inside_domain(name, params):
    entry = get_f_divergence(name, **params)
    t = t64(inside_points(entry.conjugate_domain, n=7, name=name)).requires_grad_()
    assert torch.autograd.gradcheck(entry.conjugate, (t,))
    # f*'(t) is the maximiser u(t) >= 0 (Danskin); check the gradient has that sign
    (grad,) = torch.autograd.grad(entry.conjugate(t).sum(), t)
    assert torch.all(grad >= -1e-12)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_activation_maps_into_domain(name, params):
    entry = get_f_divergence(name, **params)
    v = t64(np.linspace(-30, 30, 121)).requires_grad_()
    t = entry.activation(v)
    assert torch.all(entry.conjugate_domain.contains(t))
    value = entry.conjugate(t)
    assert torch.all(torch.isfinite(value))
    (grad,) = torch.autograd.grad(value.sum(), v)
    assert torch.all(torch.isfinite(grad))


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_float32_preserved(name, params):
    entry = get_f_divergence(name, **params)
    t = torch.tensor(inside_points(entry.conjugate_domain, n=5), dtype=torch.float32)
    assert entry.conjugate(t).dtype == torch.float32
    assert entry.activation(t).dtype == torch.float32
    np.testing.assert_allclose(
        entry.conjugate(t).numpy(), entry.conjugate(t.double()).numpy(), rtol=1e-4, atol=1e-5
    )


def test_alpha_family_limits_are_kl_and_reverse_kl(rng):
    p = rng.dirichlet(np.ones(6))
    q = rng.dirichlet(np.ones(6))
    kl = float(np.sum(p * np.log(p / q)))
    rkl = float(np.sum(q * np.log(q / p)))

    def d_f(entry):
        return float(torch.sum(t64(q) * entry.f(t64(p / q))))

    assert d_f(get_f_divergence("alpha", alpha=1.0)) == pytest.approx(kl, rel=1e-12)
    assert d_f(get_f_divergence("alpha", alpha=0.0)) == pytest.approx(rkl, rel=1e-12)
    # continuity of the family at the two limits
    assert d_f(get_f_divergence("alpha", alpha=1.0 + 1e-7)) == pytest.approx(kl, rel=1e-5)
    assert d_f(get_f_divergence("alpha", alpha=1e-7)) == pytest.approx(rkl, rel=1e-5)
    # alpha = 2 is half Pearson chi^2
    chi2 = float(np.sum((p - q) ** 2 / q))
    assert d_f(get_f_divergence("alpha", alpha=2.0)) == pytest.approx(chi2 / 2, rel=1e-12)


def test_alpha_conjugate_is_flat_below_kink_when_alpha_above_one():
    entry = get_f_divergence("alpha", alpha=3.0)  # kink at t = -1/(alpha-1) = -0.5
    values = entry.conjugate(t64([-0.5, -1.0, -100.0])).numpy()
    np.testing.assert_allclose(values, [-1 / 3] * 3, rtol=1e-15)
    assert naive.brute_force_conjugate("alpha", -1.0, alpha=3.0) == pytest.approx(-1 / 3, abs=1e-9)


def test_alpha_negative_conjugate_finite_at_closed_end():
    a = -1.5
    entry = get_f_divergence("alpha", alpha=a)
    high = 1 / (1 - a)
    assert entry.conjugate_domain.high_closed
    assert entry.conjugate(t64([high])).item() == pytest.approx(-1 / a, rel=1e-12)
    assert naive.brute_force_conjugate("alpha", high, u_max=1e12, alpha=a) == pytest.approx(-1 / a, rel=2e-4)


def test_weighted_js_at_one_half_is_js():
    t = t64(np.linspace(-5, 0.34, 13))
    np.testing.assert_allclose(
        get_f_divergence("weighted_js").conjugate(t).numpy(),
        get_f_divergence("js").conjugate(t).numpy(),
        rtol=1e-13,
    )


def test_wright_omega_matches_scipy_including_overflow_range():
    z = np.concatenate([np.linspace(-50, 50, 201), [-745.0, -700.0, 709.0, 800.0, 1e5, 1e10]])
    got = wright_omega(t64(z)).numpy()
    np.testing.assert_allclose(got, scipy.special.wrightomega(z), rtol=1e-14, atol=1e-300)
    assert wright_omega(t64([1.0])).item() == 1.0


def test_wright_omega_gradient():
    z = t64(np.linspace(-8, 12, 9)).requires_grad_()
    assert torch.autograd.gradcheck(wright_omega, (z,))
    w = wright_omega(z)
    (grad,) = torch.autograd.grad(w.sum(), z)
    np.testing.assert_allclose(grad.numpy(), (w / (1 + w)).detach().numpy(), rtol=1e-14)


@given(st.floats(min_value=-700, max_value=700))
@settings(max_examples=40)
def test_jeffreys_conjugate_finite_and_above_affine_minorant(t):
    # f*(t) >= t u - f(u) at u = 1 gives f*(t) >= t; finite everywhere on R (no overflow)
    value = get_f_divergence("jeffreys").conjugate(t64([t])).item()
    assert math.isfinite(value)
    assert value >= t - 1e-12 - 1e-12 * abs(t)


def test_domain_contains_scalar_and_tensor():
    dom = Interval(-1.0, 2.0, True, False)
    assert dom.contains(-1.0) and not dom.contains(2.0)
    assert dom.contains(t64([-1.0, 2.0, 0.0])).tolist() == [True, False, True]


@pytest.mark.parametrize(
    "name,params,error,match",
    [
        ("nope", {}, ValueError, "unknown f-divergence name 'nope'"),
        ("weighted_js", {"pi": 0.0}, ValueError, "pi must be > 0"),
        ("weighted_js", {"pi": 1.0}, ValueError, "pi must be < 1"),
        ("weighted_js", {"pi": "a"}, TypeError, "pi must be a real number"),
        ("alpha", {"alpha": float("nan")}, ValueError, "alpha must be finite"),
        ("kl", {"pi": 0.5}, TypeError, "invalid parameters"),
        (3, {}, TypeError, "name must be a registry name"),
    ],
)
def test_bad_registry_arguments(name, params, error, match):
    with pytest.raises(error, match=match):
        get_f_divergence(name, **params)


@given(
    st.sampled_from(range(len(ENTRIES))),
    st.floats(min_value=1e-6, max_value=1e6),
    st.floats(min_value=-50.0, max_value=50.0),
)
@settings(max_examples=200)
def test_fenchel_young_inequality(index, u, t):
    # f(u) + f*(t) >= u t for every u >= 0 and t (equality iff t = f'(u)); +inf outside dom f*
    name, params = ENTRIES[index]
    entry = get_f_divergence(name, **params)
    lhs = entry.f(t64([u])).item() + entry.conjugate(t64([t])).item()
    assert lhs >= u * t - 1e-9 * (1 + abs(u * t) + abs(lhs))
