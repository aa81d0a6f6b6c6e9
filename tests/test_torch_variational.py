"""f-GAN variational lower bounds for N(0, 1) vs N(1, 1), whose divergences have closed forms."""

import math

import pytest
import scipy.integrate
import scipy.stats
import torch

from divkit.torch import F_DIVERGENCES, get_f_divergence, variational_f_divergence

torch.set_num_threads(1)

# D_f(N(0,1) || N(1,1)); each verified by quadrature in test_closed_forms
CLOSED_FORMS = {
    "kl": 0.5,  # mu^2 / 2
    "reverse_kl": 0.5,
    "squared_hellinger": 2 * (1 - math.exp(-1 / 8)),  # 2(1 - BC), BC = exp(-mu^2 / 8)
    "pearson_chi2": math.e - 1,  # exp(mu^2) - 1
    "jeffreys": 1.0,
    "tv": 2 * scipy.stats.norm.cdf(0.5) - 1,
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_closed_forms(name):
    p = scipy.stats.norm(0, 1).pdf
    q = scipy.stats.norm(1, 1).pdf
    entry = get_f_divergence(name)
    integrand = lambda t: q(t) * entry.f(torch.tensor(p(t) / q(t), dtype=torch.float64)).item()  # noqa: E731
    value, _ = scipy.integrate.quad(integrand, -12, 13, limit=200)
    assert value == pytest.approx(CLOSED_FORMS[name], rel=1e-8)


def gaussian_pair(n=4096, seed=100):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, generator=g), torch.randn(n, 1, generator=g) + 1.0


@pytest.mark.parametrize("name", ["kl", "squared_hellinger", "reverse_kl"])
def test_fgan_bound_within_ten_percent_and_not_above_beyond_sampling_error(name):
    x, y = gaussian_pair()
    truth = CLOSED_FORMS[name]
    res = variational_f_divergence(x, y, name, n_steps=500)
    estimate, se = res.estimate.item(), res.standard_error.item()
    assert abs(estimate - truth) <= 0.1 * truth
    assert estimate <= truth + 3 * se
    assert res.trace.shape == (500,) and torch.all(torch.isfinite(res.trace))


def test_kl_bound_matches_the_optimal_critic_on_the_same_sample():
    # T* = f'(p/q) = log(p/q) + 1 = 3/2 - x: the trained critic should be as good on this sample
    x, y = gaussian_pair()
    res = variational_f_divergence(x, y, "kl", n_steps=500)
    t_x, t_y = 1.5 - x.double(), 1.5 - y.double()
    optimal = (t_x.mean() - torch.exp(t_y - 1).mean()).item()
    assert res.estimate.item() == pytest.approx(optimal, abs=0.03)


@pytest.mark.parametrize(
    "name,params",
    [(n, {}) for n in sorted(F_DIVERGENCES) if n not in ("weighted_js", "alpha")]
    + [("weighted_js", {"pi": 0.3}), ("alpha", {"alpha": 2.0}), ("alpha", {"alpha": -1.0})],
)
def test_every_registry_entry_trains_to_a_finite_bound(name, params):
    x, y = gaussian_pair(n=256, seed=1)
    res = variational_f_divergence(x, y, name, f_params=params, n_steps=30, hidden=(16,))
    assert math.isfinite(res.estimate.item()) and torch.all(torch.isfinite(res.trace))
    assert res.divergence.name == name


def test_same_distribution_gives_a_bound_near_zero():
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(2048, 2, generator=g), torch.randn(2048, 2, generator=g)
    res = variational_f_divergence(x, y, "squared_hellinger", n_steps=200)
    assert abs(res.estimate.item()) <= 3 * res.standard_error.item() + 0.01


def test_holdout_estimate_is_a_lower_bound_where_in_sample_overfits():
    # 8-D, 256 samples: a wide critic overfits; the held-out value stays below KL, the in-sample
    # value need not (KL(N(0, I) || N(m, I)) = ||m||^2 / 2 = 0.5)
    g = torch.Generator().manual_seed(11)
    m = torch.full((8,), 1 / math.sqrt(8))
    x, y = torch.randn(512, 8, generator=g), torch.randn(512, 8, generator=g) + m
    res = variational_f_divergence(x, y, "kl", n_steps=300, holdout=0.5, hidden=(256, 256))
    assert res.train_estimate.item() > 1.0  # far above KL: in-sample values are no bound
    assert res.estimate.item() < 0.5  # held out: a valid (here very loose) lower bound
    assert not math.isnan(res.standard_error.item())


def test_float64_preserved_and_seeded():
    x, y = gaussian_pair(n=128)
    a = variational_f_divergence(x.double(), y.double(), "js", n_steps=10, hidden=(8,), rng=3)
    b = variational_f_divergence(x.double(), y.double(), "js", n_steps=10, hidden=(8,), rng=3)
    assert a.estimate.dtype == torch.float64
    assert torch.equal(a.trace, b.trace)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"f": "renyi"}, ValueError, "unknown f-divergence name 'renyi'"),
        ({"f": "weighted_js", "f_params": {"pi": 2.0}}, ValueError, "pi must be < 1"),
        ({"n_steps": -1}, ValueError, "n_steps must be >= 1"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"holdout": 1.0}, ValueError, "holdout must be < 1"),
        ({"holdout": 0.01}, ValueError, "leaves no held-out"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    x, y = gaussian_pair(n=8)
    with pytest.raises(error, match=match):
        variational_f_divergence(x, y, **kwargs)


@pytest.mark.parametrize(
    "x,y,error,match",
    [
        (torch.zeros(4, 1), torch.empty(4, 1, device="meta"), ValueError, "same device"),
        (torch.zeros(4, 1), torch.zeros(4, 2), ValueError, "same dimension"),
        (torch.tensor([[float("nan")]]), torch.zeros(1, 1), ValueError, "x contains 1 NaN"),
    ],
)
def test_bad_samples(x, y, error, match):
    with pytest.raises(error, match=match):
        variational_f_divergence(x, y, n_steps=1)
