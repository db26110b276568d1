"""The round's commit-reveal of score vectors (the ScoreBoard contract), a validator's side and the
coordinator's.

Each validator commits the hash of its scores before anyone reveals, then
reveals once the commit phase has closed; the coordinator passes on only
reports whose vector hashes to what their sender revealed on chain. So no
validator can copy this round's scores of another: one that waits to see
them has missed the commit phase, and one that commits something else
cannot reveal the copy. A validator with no matching reveal is left out of
the round's consensus: no pay this round, and its agreement bond decays as
if it had agreed with nothing (`econ.rewards.agreement_bonds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from eth_abi import encode
from eth_utils import keccak

from fedstake.chain.accounts import Account
from fedstake.chain.scoreboard import ScoreBoard, score_commitment
from fedstake.errors import ContractRevert
from fedstake.protocol.clock import Clock
from fedstake.protocol.messages import RoundTask
from fedstake.protocol.scoring import scores_hash


def board_salt(account: Account, task: RoundTask) -> bytes:
    """A salt only this validator can compute (keyed by its private key), fixed per round, so
    nobody can test guesses of its scores against its commitment before it reveals."""
    return keccak(b"fedstake:board-salt:" + account.private_key + encode(["uint256", "uint256"],
                                                                        [task.task_id, task.round]))


def report_hash(task: RoundTask, trainers: tuple[str, ...], scores: Mapping[str, float]) -> bytes:
    """The hash a report's scores are committed under (the scores root's leaf hash)."""
    return scores_hash(task.round, trainers, [scores[t] for t in trainers])


@dataclass
class Sealed:
    """What a validator committed this round: its scores (in trainer order) and the salt."""

    trainers: tuple[str, ...]
    scores: dict[str, float]
    salt: bytes


def commit(board: ScoreBoard, account: Account, task: RoundTask, trainers: tuple[str, ...],
           scores: Mapping[str, float]) -> Sealed | None:
    """Commit `scores`; None when the board refuses (the commit phase is over, say)."""
    sealed = Sealed(trainers, dict(scores), board_salt(account, task))
    commitment = score_commitment(task.task_id, task.round, account.address, report_hash(task, trainers, scores),
                                  sealed.salt)
    try:
        board.commit(task.task_id, task.round, commitment, sender=account)
    except ContractRevert:
        return None
    return sealed


def reveal(board: ScoreBoard, account: Account, task: RoundTask, sealed: Sealed) -> bool:
    """Open the commitment; False when the board refuses it."""
    try:
        board.reveal(task.task_id, task.round, report_hash(task, sealed.trainers, sealed.scores), sealed.salt,
                     sender=account)
    except ContractRevert:
        return False
    return True


def wait_for_reveals(board: ScoreBoard, clock: Clock, task: RoundTask) -> None:
    """Wait until the round's reveal phase opens (the commit phase closed)."""
    if board.opened_at(task.task_id, task.round):
        clock.wait_until(board.reveal_from(task.task_id, task.round))


def matches_reveal(board: ScoreBoard, task: RoundTask, validator: str, trainers: tuple[str, ...],
                   scores: Mapping[str, float]) -> bool:
    """Whether `scores` hash to what `validator` revealed on chain this round."""
    revealed = board.revealed(task.task_id, task.round, validator)
    return revealed is not None and set(scores) == set(trainers) and revealed == report_hash(task, trainers, scores)
