"""What roles send each other during a round, whatever carries it."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fedstake.chain.eip712 import Domain
from fedstake.proof.commitment import SignedCommitment
from fedstake.proof.sealing import Sealed
from fedstake.proof.transcript import Transcript
from fedstake.protocol.asks import SignedAsk


@dataclass(frozen=True)
class RoundTask:
    """The coordinator's call to a selected trainer: train from this model."""

    task_id: int
    round: int
    round_seed: bytes
    global_params: torch.Tensor
    model_hash: bytes
    domain: Domain
    previous_change: torch.Tensor | None = None  # last round's global change: public, and what free-riders copy
    asks: tuple[SignedAsk, ...] = ()  # a reverse-auction round: the asks that bid, for the validators to re-run it


@dataclass(frozen=True)
class Submission:
    """A trainer's answer: the update bytes, its signed commitment and, under
    proof-of-learning, the transcript the commitment's root opens. Across a
    relay the bytes travel `sealed` for the task's validators (`payload` is
    then empty) and each validator opens them with its own key."""

    signed: SignedCommitment
    payload: bytes
    transcript: Transcript | None = None
    sealed: Sealed | None = None

    @property
    def trainer(self) -> str:
        return self.signed.commitment.trainer
