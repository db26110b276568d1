"""A cohort's training: one by one (each device's own path) or in one vectorised batch."""

import torch

from fedstake.protocol.participation import train_one_by_one, train_vectorised


def test_vectorised_training_gives_the_reference_updates(make_trainer, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(3)]
    batched, reference = train_vectorised(trainers, round_task), train_one_by_one(trainers, round_task)
    assert all(torch.allclose(b.update, r.update, atol=1e-5) for b, r in zip(batched, reference))
    assert all(b.checkpoints is None for b in batched)


def test_vectorised_checkpoints_match_each_devices_own(make_trainer, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(2)]
    batched, reference = train_vectorised(trainers, round_task, 2), train_one_by_one(trainers, round_task, 2)
    for b, r in zip(batched, reference):
        assert len(b.checkpoints) == len(r.checkpoints) and torch.equal(b.checkpoints[0], round_task.global_params)
        assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(b.checkpoints, r.checkpoints))
        assert torch.equal(b.checkpoints[-1] - round_task.global_params, b.update)


def test_one_by_one_is_each_trainers_own_training(make_trainer, round_task):
    trainer = make_trainer("t")
    assert torch.equal(train_one_by_one([trainer], round_task)[0].update, trainer.train(round_task).update)
