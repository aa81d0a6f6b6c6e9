"""fgan_losses: finite values and gradients for every registry entry at saturated critics, and the
torch table against the numpy registry at the hard parameters and domain edges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import divkit
from divkit.torch import fgan_losses, get_f_divergence

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
    ("weighted_js", {"pi": 0.01}),
    ("weighted_js", {"pi": 0.99}),
    ("gan", {}),
    ("alpha", {"alpha": -1.5}),
    ("alpha", {"alpha": 0.0}),
    ("alpha", {"alpha": 1e-9}),
    ("alpha", {"alpha": 0.5}),
    ("alpha", {"alpha": 0.999}),
    ("alpha", {"alpha": 1.0}),
    ("alpha", {"alpha": 1.001}),
    ("alpha", {"alpha": 3.0}),
]
IDS = [f"{n}{p}" if p else n for n, p in ENTRIES]


def _losses_and_grads(name, params, values, dtype, generator):
    v_real = torch.tensor(values, dtype=dtype, requires_grad=True)
    v_fake = torch.tensor(values[::-1], dtype=dtype, requires_grad=True)
    d_loss, g_loss = fgan_losses(name, v_real, v_fake, generator=generator, f_params=params)
    gr, gf = torch.autograd.grad(d_loss, [v_real, v_fake], retain_graph=True)
    (gg,) = torch.autograd.grad(g_loss, [v_fake])
    return d_loss, g_loss, gr, gf, gg


SATURATED = [-1e4, -1e3, -100.0, -89.0, -20.0, 0.0, 20.0, 89.0, 100.0, 710.0, 1e4, 1e8, 1e20]


@pytest.mark.parametrize("generator", ["saddle", "alternative"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_fgan_losses_finite_at_saturated_critics(name, params, dtype, generator):
    for out in _losses_and_grads(name, params, SATURATED, dtype, generator):
        assert torch.isfinite(out).all(), (name, params, out)


@settings(max_examples=40, deadline=None)
@given(
    entry=st.sampled_from(ENTRIES),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    values=st.lists(st.floats(min_value=-1e4, max_value=1e20, allow_nan=False), min_size=1, max_size=8),
)
def test_fgan_losses_and_gradients_finite_hypothesis(entry, dtype, values):
    name, params = entry
    for generator in ("saddle", "alternative"):
        for out in _losses_and_grads(name, params, values, dtype, generator):
            assert torch.isfinite(out).all(), (name, params, values, out)


def test_issue_reproducer_reverse_kl_gradient_is_finite():
    f = get_f_divergence("reverse_kl")
    v = torch.tensor([-100.0], requires_grad=True)
    f.conjugate_of_activation(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    d_loss, _ = fgan_losses(f, torch.tensor([-100.0]), v)
    assert torch.isfinite(d_loss)


V_MODERATE = np.linspace(-30.0, 30.0, 241)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_conjugate_of_activation_equals_numpy_composition(name, params):
    """f*(g_f(v)) in closed form equals the numpy registry's conjugate(activation(v)) where the
    latter is not saturated."""
    ours = get_f_divergence(name, **params)
    theirs = divkit.get_f_divergence(name, **params)
    v = V_MODERATE
    t = np.asarray(theirs.activation(v))
    ref = np.asarray(theirs.conjugate(t))
    dom = theirs.conjugate_domain
    # keep v where g_f(v) is not rounded onto or next to an open end of dom f*
    keep = np.isfinite(ref)
    if math.isfinite(dom.high):
        keep &= np.abs(t - dom.high) > 1e-6 * max(1.0, abs(dom.high))
    got = ours.conjugate_of_activation(torch.tensor(v, dtype=torch.float64)).numpy()
    # the round trip through t = g_f(v) is itself ill-conditioned where f* is steep (t near the
    # end of dom f*): the rounding of t moves f*(t) by ~eps |t| |f*'(t)|; allow that, no more
    tt = torch.tensor(t, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(ours.conjugate(tt).sum(), tt)
    roundtrip = 4 * np.finfo(np.float64).eps * (np.abs(t) + 1.0) * np.abs(slope.numpy())
    err = np.abs(got - ref)
    assert np.all(err[keep] <= 1e-12 * np.abs(ref[keep]) + 1e-13 + roundtrip[keep])
    # float32: a few ulp of the float32 result (plus the rounding of v itself)
    got32 = ours.conjugate_of_activation(torch.tensor(v, dtype=torch.float32)).double().numpy()
    ref32 = ours.conjugate_of_activation(torch.tensor(v.astype(np.float32), dtype=torch.float64)).numpy()
    small = np.abs(ref32) < 1e30
    np.testing.assert_allclose(got32[small], ref32[small], rtol=64 * 2.0**-24, atol=1e-6)


def _edge_grid(dom):
    pts = [-1e3, -10.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 10.0, 700.0]
    for edge in (dom.low, dom.high):
        if math.isfinite(edge):
            pts += [edge, np.nextafter(edge, -np.inf), np.nextafter(edge, np.inf),
                    edge - 1e-12, edge + 1e-12, edge - 1e-6, edge - 1e-3]
    return np.array(pts)


@pytest.mark.parametrize("name,params", ENTRIES, ids=IDS)
def test_table_matches_numpy_registry_including_domain_edges(name, params):
    ours = get_f_divergence(name, **params)
    theirs = divkit.get_f_divergence(name, **params)
    t = _edge_grid(theirs.conjugate_domain)
    ref = np.asarray(theirs.conjugate(t))
    got = ours.conjugate(torch.tensor(t, dtype=torch.float64)).numpy()
    assert np.array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-12, atol=1e-14)
    v = np.array([-800.0, -50.0, -1.0, 0.0, 1.0, 37.0, 50.0, 800.0])
    np.testing.assert_allclose(
        ours.activation(torch.tensor(v, dtype=torch.float64)).numpy(), theirs.activation(v), rtol=1e-12, atol=1e-14
    )


def test_numpy_entry_accepted_and_user_defined_refused():
    entry = get_f_divergence(divkit.get_f_divergence("alpha", alpha=0.999))
    assert entry.name == "alpha" and entry.params == {"alpha": 0.999}
    custom = divkit.FDivergence.from_function(lambda u: (u - 1.0) ** 4)
    with pytest.raises(TypeError, match="not a registry entry"):
        get_f_divergence(custom)
    with pytest.raises(ValueError, match="unknown generator loss"):
        fgan_losses("kl", torch.zeros(2), torch.zeros(2), generator="minimax")


def test_activation_has_no_host_sync():
    # activation on the meta device (no values): would fail on any .item()/bool() of a tensor
    for name, params in ENTRIES:
        entry = get_f_divergence(name, **params)
        out = entry.activation(torch.empty(3, device="meta"))
        assert out.device.type == "meta"
        assert entry.conjugate_of_activation(torch.empty(3, device="meta")).device.type == "meta"
