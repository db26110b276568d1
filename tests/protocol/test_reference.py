"""A validator's reference update: the cohort engine's, equal to the per-client `local_train` path
within 1e-5, trained once per round and length however often the round uses it."""

import dataclasses

import pytest
import torch

from fedstake.learn.train import local_train
from fedstake.protocol.validator import Reference, train_references
from role_kit import TRAINING


def _per_client(reference, task, epochs):
    """The reference path: `local_train` on the validator's data with the round's seed."""
    training = dataclasses.replace(reference.training, epochs=epochs)
    seed = int.from_bytes(task.round_seed[:8], "big")
    return local_train(reference.module, reference.spec, task.global_params, reference.x, reference.y, training,
                       seed=seed) - task.global_params


@pytest.mark.parametrize("epochs", [1, 3, 20])
@pytest.mark.parametrize("seed_byte", [1, 5, 200])
def test_the_reference_update_is_local_trains_within_1e_5(reference, round_task, epochs, seed_byte):
    task = dataclasses.replace(round_task, round_seed=bytes([seed_byte]) * 32)
    got = reference.update(task, epochs=epochs)
    assert torch.allclose(got, _per_client(reference, task, epochs), atol=1e-5, rtol=0)


def test_a_second_use_in_the_round_gets_the_same_update_and_cannot_spoil_it(reference, round_task):
    first = reference.update(round_task, epochs=3)
    first.add_(1.0)  # a caller that writes into what it was given
    again = reference.update(round_task, epochs=3)
    assert torch.allclose(again, _per_client(reference, round_task, 3), atol=1e-5, rtol=0)
    assert len(reference._trained) == 1


def test_another_model_or_round_or_length_is_trained_anew(reference, round_task):
    base = reference.update(round_task, epochs=2)
    moved = dataclasses.replace(round_task, global_params=round_task.global_params + 0.01)
    assert not torch.equal(reference.update(moved, epochs=2), base)
    assert not torch.equal(reference.update(round_task, epochs=1), base)
    later = dataclasses.replace(round_task, round=2, round_seed=b"\x06" * 32)
    assert not torch.equal(reference.update(later, epochs=2), base)
    assert {seed for seed, _ in reference._trained} == {later.round_seed}  # last round's are dropped


def _references(kit, sizes):
    data, module, spec, _ = kit
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [Reference(data.x_val[s:s + n], data.y_val[s:s + n], module, spec, TRAINING) for s, n in zip(starts, sizes)]


@pytest.mark.parametrize("sizes", [(40, 40, 40), (17, 64, 33, 50)])
def test_references_trained_together_are_each_the_one_trained_alone_within_1e_5(kit, round_task, sizes):
    together, alone = _references(kit, sizes), _references(kit, sizes)
    train_references(together, round_task, epochs=4)
    for mine, own in zip(together, alone):
        assert len(mine._trained) == 1  # trained in the batch: its first use finds it
        assert torch.allclose(mine.update(round_task, epochs=4), _per_client(own, round_task, 4), atol=1e-5, rtol=0)


def test_references_that_train_differently_are_left_to_train_alone(kit, round_task):
    first, second = _references(kit, (30, 30))
    other = Reference(second.x, second.y, second.module, second.spec, dataclasses.replace(TRAINING, batch_size=8))
    train_references([first, other], round_task, epochs=2)
    assert not first._trained and not other._trained
    assert torch.allclose(other.update(round_task, epochs=2), _per_client(other, round_task, 2), atol=1e-5, rtol=0)
