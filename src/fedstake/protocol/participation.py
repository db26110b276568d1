"""How a cohort trains: one device at a time, or the whole cohort in one batch.

Training and submitting are separate steps (`Trainer.train`, then
`Trainer.submit`), so whoever holds many trainers can train them together
and let each finish its own submission. A deployment trains a cohort of
one (`Trainer.respond`); the simulator trains every selected trainer in
one vectorised call. Both give the same updates within 1e-5.
"""

from __future__ import annotations

from typing import Callable, Sequence

from fedstake.protocol.messages import RoundTask
from fedstake.protocol.trainer import Trained, Trainer

# (trainers, task, interval) -> each trainer's run, in order (with checkpoints when an interval is given)
BatchTrainer = Callable[[Sequence[Trainer], RoundTask, "int | None"], list[Trained]]


def train_one_by_one(trainers: Sequence[Trainer], task: RoundTask, interval: int | None = None) -> list[Trained]:
    """The reference path: each trainer's own `train` in turn."""
    return [t.train(task, interval=interval) for t in trainers]


def train_vectorised(trainers: Sequence[Trainer], task: RoundTask, interval: int | None = None) -> list[Trained]:
    """The simulator's path: the whole batch at once with torch.func. A trainer's last bits can
    depend on its batch companions, so a batch is reproducible only with the same members."""
    from fedstake.learn.cohort import train_cohort

    first = trainers[0]
    kept: list[list] = [[task.global_params.clone()] for _ in trainers]
    options = {}
    if interval is not None:
        options = {"checkpoint_every": interval, "on_checkpoint": lambda c, step, p: step and kept[c].append(p)}
    trained = train_cohort(first.module, first.spec, task.global_params, [(t.x, t.y) for t in trainers],
                           first.training, seeds=[t.data_seed(task) for t in trainers], **options)
    return [Trained(trained[i] - task.global_params, kept[i] if interval is not None else None)
            for i in range(len(trainers))]
