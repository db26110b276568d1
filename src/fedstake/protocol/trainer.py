"""The trainer: an edge device that stakes, trains, commits and claims.

A trainer's behaviour (honest, an attack, a free-rider, a clone) decides
what it trains on and what it sends; `participation` plays a whole cohort,
since colluding attackers see each other's updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import torch
from eth_utils import keccak, to_canonical_address
from torch import nn

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.market import TaskMarket
from fedstake.chain.staking import Role, StakeRegistry
from fedstake.chain.stopwatch import Stopwatch
from fedstake.chain.token import FedToken
from fedstake.errors import ProtocolError
from fedstake.learn.attacks import Behaviour, flip_labels, malform
from fedstake.learn.cheats import random_labels
from fedstake.learn.models import ParamSpec
from fedstake.learn.privacy import ClientPrivacy
from fedstake.learn.train import LocalTraining
from fedstake.proof.codec import encode_update, update_hash
from fedstake.proof.commitment import ZERO_ROOT, Commitment, sign_commitment
from fedstake.proof.data_root import CommittedData
from fedstake.proof.recording import Recording
from fedstake.proof.reveal import SegmentReveal, reveal_segment
from fedstake.protocol.messages import RoundTask, Submission


def data_order_seed(round_seed: bytes, address: str) -> int:
    """The seed of a trainer's batch order: fixed by the chain's round seed and its
    address, so the trainer cannot choose a favourable order after the fact."""
    return int.from_bytes(keccak(round_seed + to_canonical_address(address))[:8], "big")


@dataclass
class Trainer:
    account: Account
    x: torch.Tensor
    y: torch.Tensor
    module: nn.Module
    spec: ParamSpec
    training: LocalTraining
    behaviour: Behaviour
    num_classes: int
    privacy: ClientPrivacy | None = None
    stopwatch: Stopwatch = field(default_factory=Stopwatch, repr=False)
    recording: Recording | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def samples(self) -> int:
        return len(self.y)

    def stake(self, token: FedToken, registry: StakeRegistry, amount: int) -> Receipt:
        token.approve(registry.address, amount, sender=self.account)
        return registry.stake(amount, Role.TRAINER, sender=self.account)

    def register(self, market: TaskMarket) -> Receipt:
        return market.register(sender=self.account)

    def join(self, market: TaskMarket, task_id: int, amount: int) -> Receipt:
        """Bond `amount` of its stake to the task: cohorts are drawn among bonded trainers, weighted
        by their bonds, and the bond is what a dispute over its updates there can take."""
        return market.join_task(task_id, amount, sender=self.account)

    def labels(self) -> torch.Tensor:
        """The labels it trains on: its own, flipped by a poisoning behaviour, or garbage
        for the wrong-data cheat (which still commits to its real data)."""
        if self.behaviour.cheat == "wrong-data":
            return random_labels(self.y, self.num_classes, generator=torch.Generator().manual_seed(len(self.y)))
        return flip_labels(self.y, self.num_classes) if self.behaviour.poisons_labels else self.y

    @cached_property
    def committed_data(self) -> CommittedData:
        """The data its transcripts commit to: what it trains on (a poisoner commits to its
        poisoned labels: proof-of-learning proves training, not data quality), salted with a
        secret only it can derive."""
        labels = self.y if self.behaviour.cheat == "wrong-data" else self.labels()
        return CommittedData(self.x, labels, keccak(self.account.private_key + b"fedstake:data"))

    def data_seed(self, task: RoundTask) -> int:
        return data_order_seed(task.round_seed, self.address)

    def generator(self, task: RoundTask) -> torch.Generator:
        """Noise for attacks and DP, seeded apart from the data order."""
        return torch.Generator().manual_seed(self.data_seed(task) ^ 0x5EED)

    def finish(self, task: RoundTask, flat: torch.Tensor, recording: Recording | None = None) -> Submission:
        """DP (honest trainers only: an attacker would not clip), malformation, bytes, hash, signature;
        under proof-of-learning the commitment carries the recording's transcript root, and the
        recording is kept to answer this round's spot checks."""
        if self.privacy is not None and self.behaviour.name == "honest":
            flat = self.privacy.privatise(flat, generator=self.generator(task))
        payload = encode_update(malform(self.behaviour, self.spec.unflatten(flat)))
        self.recording = recording
        root = recording.transcript.root if recording is not None else ZERO_ROOT
        commitment = Commitment(task.task_id, task.round, self.address, update_hash(payload), self.samples, root)
        with self.stopwatch.measure("sign"):
            signed = sign_commitment(commitment, task.domain, self.account)
        return Submission(signed, payload, recording.transcript if recording is not None else None)

    def reveal(self, task: RoundTask, segments: Sequence[int]) -> list[SegmentReveal]:
        """Open the checked segments of this round's transcript (the spot check's answer)."""
        if self.recording is None:
            raise ProtocolError(f"{self.address} kept no transcript for round {task.round}")
        return [reveal_segment(self.recording.transcript, self.recording.checkpoints, self.committed_data,
                               cfg=self.training, data_seed=self.data_seed(task), segment=s) for s in segments]
