"""Simulated dishonest trainers, wrapping the honest device (`protocol.trainer.Trainer`).

A scenario's trainer group names a behaviour (`learn.attacks`): a poisoning
or Byzantine attack, a free-rider, a Sybil, a proof-of-learning cheat or a
sender of malformed updates. Its trainers are the honest device with that
behaviour on top, and differ from it only where the behaviour says:

- what they train on: poisoners' labels are flipped, the wrong-data cheat
  trains on garbage labels while committing to its own;
- what they send: `craft` turns what the trainer may know (its own run, its
  colluders' runs, the last global change) into its update; the cohort
  play (`sim.cohort_play`) gathers that knowledge;
- their transcript: an update that is not what their training produced gets
  a fabricated one (`learn.cheats.interpolated`);
- its bytes: malformed behaviours break the update's structure;
- no client-level DP: an attacker would not clip or noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import nn

from fedstake.chain.accounts import Account
from fedstake.learn.attacks import AttackContext, Behaviour, craft, flip_labels, make_behaviour, malform
from fedstake.learn.cheats import interpolated, random_labels
from fedstake.learn.models import ParamSpec
from fedstake.learn.privacy import ClientPrivacy
from fedstake.learn.train import LocalTraining, num_steps
from fedstake.proof.codec import encode_update
from fedstake.proof.data_root import CommittedData
from fedstake.proof.pol import PolRules
from fedstake.proof.recording import Recording
from fedstake.protocol.messages import RoundTask
from fedstake.protocol.trainer import Trained, Trainer

HONEST = make_behaviour("honest")


@dataclass
class DishonestTrainer(Trainer):
    """The honest device playing `behaviour`: the same key, data handling, signing and reveals,
    with the behaviour's update, transcript and bytes."""

    behaviour: Behaviour = field(kw_only=True)

    def play(self, run: Trained | None, context: AttackContext) -> Trained:
        """What it sends, crafted from its own run (None when it did not train) and what it may
        know, with that run's checkpoints (which `record` uses only if they lead to it)."""
        if run is None:
            return Trained(craft(self.behaviour, own_honest=None, context=context))
        return Trained(craft(self.behaviour, own_honest=run.update, context=context), run.checkpoints)

    def record(self, task: RoundTask, trained: Trained, pol: PolRules) -> Recording:
        """Its real checkpoints if what it sends is what they lead to, else a transcript
        fabricated along the line from the global model to what it sends."""
        checkpoints = trained.checkpoints
        if checkpoints is None or not torch.equal(checkpoints[-1] - task.global_params, trained.update):
            steps = num_steps(self.samples, self.training)
            fabricated = interpolated(task.global_params, trained.update, steps=steps, interval=pol.interval)
            trained = Trained(trained.update, fabricated)
        return super().record(task, trained, pol)

    def encode(self, flat: torch.Tensor) -> bytes:
        """Canonical bytes, after the structural break of a malformed behaviour (NaN, shape, norm)."""
        return encode_update(malform(self.behaviour, self.spec.unflatten(flat)))


@dataclass
class WrongDataTrainer(DishonestTrainer):
    """The wrong-data cheat: trains on garbage labels (its `y`) in the order committed for its
    own data, and commits to its own labels, which it must reveal when spot-checked."""

    own_labels: torch.Tensor = field(kw_only=True)

    @cached_property
    def committed_data(self) -> CommittedData:
        return CommittedData(self.x, self.own_labels, self.data_secret)


def behaviour_of(trainer: Trainer) -> Behaviour:
    """What a trainer plays: its wrapper's behaviour, or honest for the honest device."""
    return trainer.behaviour if isinstance(trainer, DishonestTrainer) else HONEST


def make_trainer(behaviour: Behaviour, *, account: Account, x: torch.Tensor, y: torch.Tensor, module: nn.Module,
                 spec: ParamSpec, training: LocalTraining, num_classes: int,
                 privacy: ClientPrivacy | None = None) -> Trainer:
    """A scenario trainer: the honest device (with the task's DP, if any) or its wrapper for `behaviour`."""
    if behaviour.name == HONEST.name:
        return Trainer(account, x, y, module, spec, training, privacy)
    if behaviour.cheat == "wrong-data":
        garbage = random_labels(y, num_classes, generator=torch.Generator().manual_seed(len(y)))
        return WrongDataTrainer(account, x, garbage, module, spec, training, behaviour=behaviour, own_labels=y)
    labels = flip_labels(y, num_classes) if behaviour.poisons_labels else y
    return DishonestTrainer(account, x, labels, module, spec, training, behaviour=behaviour)
