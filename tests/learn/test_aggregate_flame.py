"""The FLAME-style rule: the cluster it keeps on separated rounds, a worked case, and its properties."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.learn.aggregators import flame, majority_cluster
from fedstake.learn.aggregators.flame import cosine_distances

seeds = st.integers(0, 2**32 - 1)


def _round(seed: int, honest: int, outliers: int, params: int = 8) -> torch.Tensor:
    """Honest updates around one direction, outliers pointing anywhere else (random signs, larger)."""
    g = torch.Generator().manual_seed(seed)
    direction = torch.randn(params, generator=g, dtype=torch.float64)
    good = direction + 0.3 * torch.randn(honest, params, generator=g, dtype=torch.float64)
    bad = -direction * (1 + torch.rand(outliers, 1, generator=g, dtype=torch.float64)) + \
        0.3 * torch.randn(outliers, params, generator=g, dtype=torch.float64)
    return torch.cat([good, bad])


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("honest, outliers", [(7, 3), (14, 6), (11, 1)])
def test_the_cluster_is_a_majority_of_honest_updates_only(seed, honest, outliers):
    """HDBSCAN may call a straggling honest update noise too (as in FLAME); never an outlier."""
    x = _round(seed, honest, outliers)
    kept = majority_cluster(cosine_distances(x))
    assert set(kept) <= set(range(honest)) and len(kept) > len(x) // 2


def test_a_worked_case():
    """Three updates along +e1 of norms 1, 2, 4 and one of norm 3 along -e1: the -e1 one is dropped,
    the median norm of all four is 2.5, so the kept ones become 1, 2, 2.5: mean 11/6 along e1."""
    x = torch.tensor([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0], [-3.0, 0.0]])
    assert torch.allclose(flame(x), torch.tensor([11 / 6, 0.0]), rtol=0, atol=1e-6)


@given(seed=seeds, honest=st.integers(4, 12), outliers=st.integers(0, 3), data=st.data())
@settings(max_examples=40)
def test_client_order_leaves_no_trace(seed, honest, outliers, data):
    x = _round(seed, honest, outliers).float()
    order = torch.tensor(data.draw(st.permutations(range(len(x)))))
    assert torch.allclose(flame(x[order]), flame(x), rtol=0, atol=1e-6)


@given(seed=seeds, clients=st.integers(3, 12))
@settings(max_examples=40)
def test_honest_only_rounds_give_close_to_the_mean(seed, clients):
    x = _round(seed, clients, 0).float()
    mean = x.double().mean(0)
    assert float((flame(x).double() - mean).norm()) < 0.5 * float(mean.norm())


@given(seed=seeds, scale=st.floats(1e2, 1e8))
@settings(max_examples=40)
def test_one_huge_update_weighs_no_more_than_the_median_norm(seed, scale):
    x = _round(seed, 9, 0).float()
    hit = torch.cat([x, scale * x[:1]])  # points the honest way: kept, but clipped
    bound = float(x.double().norm(dim=1).median())
    assert float((flame(hit).double() - flame(x).double()).norm()) < 2 * bound


@given(seed=seeds)
@settings(max_examples=20)
def test_same_inputs_same_bytes(seed):
    x = _round(seed, 8, 2).float()
    assert flame(x).numpy().tobytes() == flame(x.clone()).numpy().tobytes()
