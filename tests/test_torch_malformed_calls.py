"""Malformed calls across divkit.torch: each raises, and its message names the offending
argument (issue 14 point 5). A critic whose output has the wrong shape must raise instead of
training on a silently flattened objective."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import divkit.torch as dt  # noqa: E402

G = torch.Generator().manual_seed(0)
X = torch.randn(40, 2, generator=G, dtype=torch.float64)
Y = torch.randn(30, 2, generator=G, dtype=torch.float64) + 1.0
C = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)


class TwoOutputs(torch.nn.Module):
    """A critic with two outputs per row: (B, 2) instead of (B,) or (B, 1)."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2, dtype=torch.float64)

    def forward(self, z):
        return self.lin(z)


class Reduces(torch.nn.Module):
    """A critic that averages over the batch: one number instead of one per row."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1, dtype=torch.float64)

    def forward(self, z):
        return self.lin(z).mean()


def _lin():
    """A fixed linear critic (its initialisation does not consume the global RNG)."""
    lin = torch.nn.Linear(2, 1, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -2.0]]))
        lin.bias.zero_()
    return lin


SHAPE = r"^critic must map a batch of shape \(\d+, 2\) to shape \(\d+,\) or \(\d+, 1\).*got shape"

CASES = [
    # wrong critic output shapes: raise, never train silently
    ("critic_wasserstein (B, 2) critic", lambda: dt.critic_wasserstein(X, Y, critic=TwoOutputs(), n_steps=2), ValueError, SHAPE),
    ("critic_wasserstein reducing critic", lambda: dt.critic_wasserstein(X, Y, critic=Reduces(), n_steps=2), ValueError, SHAPE),
    ("variational (B, 2) critic", lambda: dt.variational_f_divergence(X, Y, critic=TwoOutputs(), n_steps=2), ValueError, SHAPE),
    ("gradient_penalty (B, 2) critic", lambda: dt.gradient_penalty(TwoOutputs(), X[:8], Y[:8]), ValueError, SHAPE),
    ("wgan_critic_loss reducing critic", lambda: dt.wgan_critic_loss(Reduces(), X[:8], Y[:8], penalty=None), ValueError, SHAPE),
    ("critic returns a list", lambda: dt.wgan_critic_loss(lambda z: [1.0], X[:8], Y[:8], penalty=None), TypeError,
     r"^critic must return a torch.Tensor"),
    # the trainers' options
    ("critic_wasserstein constraint", lambda: dt.critic_wasserstein(X, Y, constraint="spectral"), ValueError, r"constraint"),
    ("critic_wasserstein n_steps 0", lambda: dt.critic_wasserstein(X, Y, n_steps=0), ValueError, r"^n_steps must be >= 1"),
    ("critic_wasserstein lr negative", lambda: dt.critic_wasserstein(X, Y, lr=-1.0, n_steps=1), ValueError, r"^lr must be > 0"),
    ("critic_wasserstein x numpy", lambda: dt.critic_wasserstein(X.numpy(), Y, n_steps=1), TypeError, r"^x must be a torch.Tensor"),
    ("critic_wasserstein x NaN", lambda: dt.critic_wasserstein(torch.full((3, 2), float("nan")), Y, n_steps=1), ValueError,
     r"^x contains 6 NaN"),
    ("critic_wasserstein dims", lambda: dt.critic_wasserstein(X, torch.zeros(3, 3, dtype=torch.float64), n_steps=1), ValueError,
     r"^x and y must have points of the same dimension"),
    ("critic_wasserstein critic not a module", lambda: dt.critic_wasserstein(X, Y, critic=3, n_steps=1), TypeError,
     r"^critic must be a torch.nn.Module"),
    ("variational f unknown", lambda: dt.variational_f_divergence(X, Y, "nope", n_steps=1), ValueError, r"nope"),
    ("variational holdout 1", lambda: dt.variational_f_divergence(X, Y, holdout=1.0, n_steps=1), ValueError, r"^holdout must be < 1"),
    ("variational batch_size 0", lambda: dt.variational_f_divergence(X, Y, batch_size=0, n_steps=1), ValueError,
     r"^batch_size must be >= 1"),
    ("gradient_penalty shapes", lambda: dt.gradient_penalty(_lin(), X[:8], Y[:7]), ValueError,
     r"^real and fake must have the same shape"),
    ("gradient_penalty weight negative", lambda: dt.gradient_penalty(_lin(), X[:8], Y[:8],
                                                                     weight=-1.0), ValueError, r"^weight must be >= 0"),
    ("wgan_critic_loss penalty", lambda: dt.wgan_critic_loss(torch.nn.Linear(2, 1), X, Y, penalty="l2"), ValueError, r"penalty"),
    # losses
    ("wasserstein p < 1", lambda: dt.wasserstein(X, Y, p=0.5), ValueError, r"^p must be >= 1"),
    ("wasserstein a negative", lambda: dt.wasserstein(X[:2], Y[:2], a=torch.tensor([-1.0, 2.0], dtype=torch.float64)), ValueError,
     r"^a contains negative"),
    ("wasserstein x 3-D", lambda: dt.wasserstein(torch.zeros(2, 2, 2), Y), ValueError, r"^x must be 1-D or 2-D"),
    ("exact_ot_cost C 1-D", lambda: dt.exact_ot_cost(torch.zeros(3)), ValueError, r"^C must be 2-D"),
    ("mmd2 kernel unknown", lambda: dt.mmd2(X, Y, "rbf"), ValueError, r"kernel"),
    ("mmd2 estimator unknown", lambda: dt.mmd2(X, Y, estimator="v"), ValueError, r"estimator"),
    ("mmd2 bandwidth word", lambda: dt.mmd2(X, Y, bandwidth="mean"), TypeError, r"^bandwidth must be"),
    ("mmd2 block_elements 0", lambda: dt.mmd2(X, Y, block_elements=0), ValueError, r"^block_elements must be >= 1"),
    ("mmd2 expansion string", lambda: dt.mmd2(X, Y, expansion="yes"), TypeError, r"expansion"),
    ("kid subset_size too large", lambda: dt.kid(X, Y, n_subsets=2, subset_size=100), ValueError, r"^subset_size=100 exceeds"),
    ("kid n_subsets 0", lambda: dt.kid(X, Y, n_subsets=0, subset_size=5), ValueError, r"^n_subsets must be >= 1"),
    ("frechet dims", lambda: dt.frechet_distance(X, torch.zeros(5, 3)), ValueError, r"\bx\b.*\by\b"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_torch_call_names_the_argument(case):
    _, call, exc_type, pattern = case
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(exc_type) as info:
            call()
    assert re.search(pattern, str(info.value)), f"message {str(info.value)!r} does not match {pattern!r}"


BOOL_FLAGS = [
    ("critic_wasserstein c_transform", lambda v: dt.critic_wasserstein(X, Y, n_steps=1, c_transform=v), "c_transform"),
    ("critic_wasserstein evaluate", lambda v: dt.critic_wasserstein(X, Y, n_steps=1, evaluate=v), "evaluate"),
    ("critic_wasserstein check_inputs", lambda v: dt.critic_wasserstein(X, Y, n_steps=1, check_inputs=v), "check_inputs"),
    ("variational check_inputs", lambda v: dt.variational_f_divergence(X, Y, n_steps=1, check_inputs=v), "check_inputs"),
    ("gradient_penalty one_sided", lambda v: dt.gradient_penalty(_lin(), X[:4], Y[:4],
                                                                 one_sided=v), "one_sided"),
    ("gradient_penalty create_graph", lambda v: dt.gradient_penalty(_lin(), X[:4], Y[:4],
                                                                    create_graph=v), "create_graph"),
    ("wasserstein check_inputs", lambda v: dt.wasserstein(X[:3], Y[:3], check_inputs=v), "check_inputs"),
    ("exact_ot_cost check_inputs", lambda v: dt.exact_ot_cost(C, check_inputs=v), "check_inputs"),
    ("mmd2 check_inputs", lambda v: dt.mmd2(X, Y, check_inputs=v), "check_inputs"),
]


@pytest.mark.parametrize("case", BOOL_FLAGS, ids=[c[0] for c in BOOL_FLAGS])
@pytest.mark.parametrize("bad", ["no", 1], ids=repr)
def test_strict_booleans(case, bad):
    _, call, flag = case
    with pytest.raises(TypeError, match=rf"^{flag} must be True or False"):
        call(bad)


RNG_FUNCTIONS = {
    "critic_wasserstein": lambda rng: dt.critic_wasserstein(X, Y, n_steps=3, hidden=(4,), rng=rng).estimate.item(),
    "variational_f_divergence": lambda rng: dt.variational_f_divergence(X, Y, n_steps=3, hidden=(4,), rng=rng).estimate.item(),
    "kid": lambda rng: dt.kid(X, Y, n_subsets=3, subset_size=5, rng=rng).mean.item(),
    "default_critic": lambda rng: float(dt.default_critic(2, hidden=(4,), rng=rng)[0].weight.detach().sum()),
    "gradient_penalty": lambda rng: dt.gradient_penalty(_lin(), X[:4], Y[:4], rng=rng).item(),
    "mmd2": lambda rng: dt.mmd2(X, Y, bandwidth="median", median_max_points=10, rng=rng).item(),
}


@pytest.mark.parametrize("name", sorted(RNG_FUNCTIONS))
@pytest.mark.parametrize("bad", [-1, 1.5, "seed", True], ids=repr)
def test_bad_rng_names_rng(name, bad):
    with pytest.raises((TypeError, ValueError), match=r"^rng (must be None, an int >= 0|is a torch.Generator)"):
        RNG_FUNCTIONS[name](bad)


@pytest.mark.parametrize("name", sorted(RNG_FUNCTIONS))
def test_rng_accepts_numpy_seeds(name):
    """SPEC 7 on the torch side: an int, a SeedSequence, a BitGenerator and a Generator built
    from the same seed material give the same value as each other (the last three), and an int
    reproduces itself."""
    call = RNG_FUNCTIONS[name]
    assert call(5) == call(5)
    same = [call(np.random.SeedSequence(5)), call(np.random.PCG64(5)), call(np.random.default_rng(5))]
    assert same[0] == same[1] == same[2]
    call(None)


def test_int_rng_reproduces_the_former_seed():
    """rng=s for an int s gives what seed=s gave (same critic initialisation and batches)."""
    with pytest.warns(DeprecationWarning, match=r"the keyword seed= is deprecated, use rng= instead"):
        old = dt.critic_wasserstein(X, Y, n_steps=3, hidden=(4,), seed=7).estimate.item()
    assert dt.critic_wasserstein(X, Y, n_steps=3, hidden=(4,), rng=7).estimate.item() == old
    with pytest.warns(DeprecationWarning, match=r"generator= is deprecated, use rng="):
        dt.gradient_penalty(_lin(), X[:4], Y[:4], generator=torch.Generator())
    with pytest.warns(DeprecationWarning, match=r"median_seed= is deprecated, use rng="):
        dt.mmd2(X, Y, bandwidth="median", median_seed=3)
    with pytest.warns(DeprecationWarning, match=r"seed= is deprecated, use rng="):
        dt.kid(X, Y, n_subsets=2, subset_size=5, seed=1)
    with pytest.warns(DeprecationWarning, match=r"seed= is deprecated, use rng="):
        dt.variational_f_divergence(X, Y, n_steps=1, hidden=(4,), seed=1)
