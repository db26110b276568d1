"""The trainer: an edge device that stakes, trains, commits and claims.

This is the honest device, the code a participant runs: it trains from the
task's global model on its own data (recording a proof-of-learning
transcript when the task asks for one), applies client-level differential
privacy, encodes its update canonically, hashes it, signs the EIP-712
commitment, keeps what a spot check needs and answers reveals.

Training and finishing are separate steps so that the simulator can train
a whole cohort in one vectorised batch (`participation.train_vectorised`)
and let each trainer finish its own submission; a device trains a cohort
of one (`respond`). The simulated misbehaviours wrap this class in
`fedstake.sim`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple, Sequence

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
from fedstake.learn.models import ParamSpec
from fedstake.learn.privacy import ClientPrivacy
from fedstake.learn.train import LocalTraining, local_checkpoints, local_train, num_steps
from fedstake.proof.codec import encode_update, update_hash
from fedstake.proof.commitment import ZERO_ROOT, Commitment, sign_commitment
from fedstake.proof.data_root import CommittedData
from fedstake.proof.pol import PolRules
from fedstake.proof.recording import Recording, recording_of
from fedstake.proof.reveal import SegmentReveal, reveal_segment
from fedstake.protocol.messages import RoundTask, Submission


def data_order_seed(round_seed: bytes, address: str) -> int:
    """The seed of a trainer's batch order: fixed by the chain's round seed and its
    address, so the trainer cannot choose a favourable order after the fact."""
    return int.from_bytes(keccak(round_seed + to_canonical_address(address))[:8], "big")


class Trained(NamedTuple):
    """A training run's result: the flat update (trained - global) and, when recorded for
    proof-of-learning, the checkpoints every `interval` steps (the last is global + update)."""

    update: torch.Tensor
    checkpoints: list[torch.Tensor] | None = None


@dataclass
class Trainer:
    account: Account
    x: torch.Tensor
    y: torch.Tensor
    module: nn.Module
    spec: ParamSpec
    training: LocalTraining
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

    def trust(self, registry: StakeRegistry, market: TaskMarket) -> Receipt:
        """Consent to the market bonding its stake when it joins the market's tasks: an authorised
        slasher bonds only accounts that trust it, so the registry's owner alone slashes nobody."""
        return registry.set_trust(market.address, True, sender=self.account)

    def register(self, market: TaskMarket) -> Receipt:
        return market.register(sender=self.account)

    def join(self, market: TaskMarket, task_id: int, amount: int) -> Receipt:
        """Bond `amount` of its stake to the task: cohorts are drawn among bonded trainers, weighted
        by their bonds, and the bond is what a dispute over its updates there can take."""
        return market.join_task(task_id, amount, sender=self.account)

    @property
    def data_secret(self) -> bytes:
        """The secret its data commitment is salted with: only the key holder can derive it."""
        return keccak(self.account.private_key + b"fedstake:data")

    @cached_property
    def committed_data(self) -> CommittedData:
        """The data its transcripts commit to: what it trains on, salted (see `proof.data_root`)."""
        return CommittedData(self.x, self.y, self.data_secret)

    def data_seed(self, task: RoundTask) -> int:
        return data_order_seed(task.round_seed, self.address)

    def generator(self, task: RoundTask) -> torch.Generator:
        """Its noise this round (the DP noise), seeded apart from the data order."""
        return torch.Generator().manual_seed(self.data_seed(task) ^ 0x5EED)

    def train(self, task: RoundTask, *, interval: int | None = None) -> Trained:
        """Local SGD from the task's global model on its own data, in the order the round seed fixes;
        with an `interval`, the checkpoints a transcript needs. The reference training path."""
        args = (self.module, self.spec, task.global_params, self.x, self.y, self.training)
        if interval is None:
            return Trained(local_train(*args, seed=self.data_seed(task)) - task.global_params)
        checkpoints = local_checkpoints(*args, seed=self.data_seed(task), interval=interval)
        return Trained(checkpoints[-1] - task.global_params, checkpoints)

    def record(self, task: RoundTask, trained: Trained, pol: PolRules) -> Recording:
        """The transcript of its training run, committed to its data."""
        if trained.checkpoints is None:
            raise ProtocolError(f"{self.address}: proof-of-learning needs the training run's checkpoints")
        return recording_of(trained.checkpoints, task.global_params, interval=pol.interval,
                            steps=num_steps(self.samples, self.training), data_root=self.committed_data.root)

    def submit(self, task: RoundTask, trained: Trained, *, pol: PolRules | None = None) -> Submission:
        """Its submission from a training run: under proof-of-learning the transcript first (the
        update sent is then exactly its last checkpoint minus the global model), then `finish`."""
        if pol is None:
            return self.finish(task, trained.update)
        recording = self.record(task, trained, pol)
        return self.finish(task, recording.update, recording)

    def respond(self, task: RoundTask, *, pol: PolRules | None = None) -> Submission:
        """A device's whole answer to a round: train (a cohort of one), then submit."""
        return self.submit(task, self.train(task, interval=pol.interval if pol else None), pol=pol)

    def encode(self, flat: torch.Tensor) -> bytes:
        """The update's canonical bytes (safetensors, sorted names)."""
        return encode_update(self.spec.unflatten(flat))

    def finish(self, task: RoundTask, flat: torch.Tensor, recording: Recording | None = None) -> Submission:
        """Client-level DP (when the task asks for it), bytes, hash, signature; under proof-of-learning
        the commitment carries the recording's transcript root, and the recording is kept to answer
        this round's spot checks."""
        if self.privacy is not None:
            flat = self.privacy.privatise(flat, generator=self.generator(task))
        payload = self.encode(flat)
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
