"""FedAvg, the canonical sums every rule relies on, and byte determinism of every rule."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fedstake.errors import LearningError
from fedstake.learn.aggregators import AGGREGATOR_NAMES, fedavg, make_aggregator
from fedstake.learn.aggregators.numerics import tree_sum

finite = st.floats(-100, 100, allow_nan=False, width=32)


@given(
    updates=st.integers(1, 8).flatmap(lambda n: arrays("float32", (n, 5), elements=finite)),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_fedavg_is_the_weighted_mean(updates, data):
    n = len(updates)
    weights = data.draw(arrays("float32", (n,), elements=st.floats(1, 1000, width=32)))
    u, w = torch.from_numpy(updates), torch.from_numpy(weights)
    expected = (u.double() * w.double()[:, None]).sum(0) / w.double().sum()
    assert torch.allclose(fedavg(u, w).double(), expected, atol=1e-4)


@given(arrays("float32", (4, 6), elements=finite))
@settings(max_examples=30, deadline=None)
def test_fedavg_of_identical_updates_is_that_update(row):
    same = torch.from_numpy(row[:1]).repeat(5, 1)
    assert torch.allclose(fedavg(same, torch.arange(1.0, 6.0)), same[0], atol=1e-5)


@pytest.mark.parametrize("updates, weights", [
    (torch.zeros(0, 3), torch.zeros(0)),
    (torch.zeros(3), torch.ones(3)),
    (torch.zeros(2, 3, dtype=torch.int64), torch.ones(2)),
    (torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), torch.ones(2)),
    (torch.zeros(2, 3), torch.zeros(2)),
    (torch.zeros(2, 3), torch.tensor([1.0, -1.0])),
    (torch.zeros(2, 3), torch.tensor([1.0, float("inf")])),
    (torch.zeros(2, 3), torch.ones(3)),
])
def test_fedavg_refuses_bad_inputs(updates, weights):
    with pytest.raises(LearningError, match="fedavg"):
        fedavg(updates, weights)


def test_tree_sum_folds_in_halves():
    # (a0 + a2) + (a1 + a3) is exact here; left to right gives 1, adjacent pairs give 0.
    x = torch.tensor([1e16, 1.0, -1e16, 1.0], dtype=torch.float64)
    assert float(tree_sum(x)) == 2.0
    assert float(((x[0] + x[1]) + x[2]) + x[3]) == 1.0
    assert float((x[0] + x[1]) + (x[2] + x[3])) == 0.0


@given(st.lists(st.integers(-(2**40), 2**40), min_size=0, max_size=40))
@settings(max_examples=60, deadline=None)
def test_tree_sum_is_exact_on_integers_along_either_dim(values):
    x = torch.tensor(values, dtype=torch.float64).reshape(-1, 1)
    assert float(tree_sum(x)[0]) == sum(values)
    assert float(tree_sum(x.T, dim=1)[0]) == sum(values)


@pytest.mark.parametrize("name", AGGREGATOR_NAMES)
def test_every_rule_is_byte_deterministic_and_ignores_memory_layout(name):
    g = torch.Generator().manual_seed(1)
    updates, weights, root = torch.randn(15, 333, generator=g), torch.rand(15, generator=g) + 0.1, torch.randn(333)
    column_major = updates.T.contiguous().T
    first = make_aggregator(name)(updates, weights, root_update=root)
    again = make_aggregator(name)(column_major.clone(), weights.clone(), root_update=root.clone())
    assert first.dtype == torch.float32 and first.shape == (333,)
    assert first.numpy().tobytes() == again.numpy().tobytes()
