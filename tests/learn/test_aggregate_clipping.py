"""Centered clipping (Karimireddy, He and Jaggi 2021): the authors' loop, history, and its properties."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.errors import LearningError
from fedstake.learn.aggregators import centered_clipping, make_aggregator
from fedstake.learn.aggregators.clipping import share_radius

seeds = st.integers(0, 2**32 - 1)


def _random(seed: int, clients: int, params: int = 6) -> torch.Tensor:
    return torch.randn(clients, params, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


class AuthorsLoop:
    """The authors' `Centeredclipping` (epfml/byzantine-robust-optimizer): momentum starts at zero,
    then n_iter times momentum += mean_i clip(v_i - momentum), clip(v) = v * min(1, tau / |v|)."""

    def __init__(self, tau: float, n_iter: int) -> None:
        self.tau, self.n_iter, self.momentum = tau, n_iter, None

    def clip(self, v: torch.Tensor) -> torch.Tensor:
        return v * min(1.0, self.tau / float(torch.norm(v)))

    def __call__(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        if self.momentum is None:
            self.momentum = torch.zeros_like(inputs[0])
        for _ in range(self.n_iter):
            self.momentum = sum(self.clip(v - self.momentum) for v in inputs) / len(inputs) + self.momentum
        return self.momentum.clone()


@given(seed=seeds, tau=st.floats(0.05, 5.0), iterations=st.integers(1, 5))
@settings(max_examples=40)
def test_equals_the_authors_loop_over_several_rounds(seed, tau, iterations):
    ours = make_aggregator("centered-clipping", {"clip-radius": tau, "iterations": iterations})
    theirs = AuthorsLoop(tau, iterations)
    for r in range(3):
        x = _random(seed + r, 7) + 3 * r  # the rounds drift: history matters
        got = ours(x.float(), torch.ones(7))
        assert torch.allclose(got.double(), theirs(list(x.float().double())), rtol=0, atol=1e-5)


def test_a_worked_case():
    """Two points at 0 and 4 on a line, tau = 1, from 0: step 1 moves by (0 + 1) / 2 = 0.5 (4 is clipped
    to 1); step 2 by (-0.5 + 1) / 2 = 0.25 (0 is 0.5 away, inside; 4 is 3.5 away, clipped): 0.75."""
    x = torch.tensor([[0.0], [4.0]])
    assert centered_clipping(x, center=None, iterations=2, radius=1.0, attacker_share=0.3).item() == 0.75


def test_the_share_radius_sets_the_assumed_attackers_aside():
    d = torch.tensor([5.0, 1.0, 9.0, 2.0, 3.0, 100.0, 4.0, 6.0, 7.0, 8.0], dtype=torch.float64)
    assert share_radius(d, attacker_share=0.3).item() == 7.0  # 100, 9, 8 set aside
    assert share_radius(d, attacker_share=0.0).item() == 100.0


@given(seed=seeds, clients=st.integers(3, 12), data=st.data())
@settings(max_examples=40)
def test_client_order_does_not_matter(seed, clients, data):
    x = _random(seed, clients).float()
    order = torch.tensor(data.draw(st.permutations(range(clients))))
    a = make_aggregator("centered-clipping")(x, torch.ones(clients))
    b = make_aggregator("centered-clipping")(x[order], torch.ones(clients))
    assert torch.allclose(a, b, rtol=0, atol=1e-6)


@given(seed=seeds, clients=st.integers(2, 12))
@settings(max_examples=40)
def test_a_radius_no_update_reaches_returns_the_mean(seed, clients):
    x = _random(seed, clients).float()
    out = make_aggregator("centered-clipping", {"clip-radius": 1e6, "iterations": 1})(x, torch.ones(clients))
    assert torch.allclose(out, x.double().mean(0).float(), rtol=0, atol=1e-5)


@given(seed=seeds, scale=st.floats(1e2, 1e8))
@settings(max_examples=40)
def test_one_outlier_moves_the_result_by_a_bounded_amount_however_large(seed, scale):
    honest = _random(seed, 9).float()
    outlier = torch.cat([honest, scale * torch.ones(1, 6)])
    clean = make_aggregator("centered-clipping")(honest, torch.ones(9))
    hit = make_aggregator("centered-clipping")(outlier, torch.ones(10))
    spread = float((honest.double() - honest.double().mean(0)).norm(dim=1).max())
    assert float((hit - clean).norm()) < 2 * spread  # the outlier weighs no more than the farthest honest one


@given(seed=seeds)
@settings(max_examples=20)
def test_same_inputs_same_bytes_and_history_advances(seed):
    x = _random(seed, 8).float()
    a, b = make_aggregator("centered-clipping"), make_aggregator("centered-clipping")
    assert a(x, torch.ones(8)).numpy().tobytes() == b(x, torch.ones(8)).numpy().tobytes()
    assert a.state is not None and torch.equal(a.state, b.state)


def test_bad_settings_and_history_are_refused():
    with pytest.raises(LearningError, match="at least one iteration"):
        centered_clipping(torch.ones(2, 2), center=None, iterations=0, attacker_share=0.3)
    with pytest.raises(LearningError, match="center"):
        centered_clipping(torch.ones(2, 2), center=torch.ones(3), iterations=1, attacker_share=0.3)
