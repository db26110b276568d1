"""Proof-of-learning spot checks after a round's result has its quorum.

The round's proposer acts as challenger: for every accepted update it
picks segments from a seed fixed only now (the quorum result's hash, its
own address and the trainer's), asks the trainer to reveal them, and
re-executes them. A segment that does not reproduce its committed end
checkpoint (or a trainer that does not answer) becomes an update dispute
on chain, with the failing segment as evidence; every validator re-runs
the same check and votes, and an upheld dispute slashes the trainer and
forfeits its rewards in the task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from eth_utils import keccak

from fedstake.chain.merkle import MerkleTree
from fedstake.errors import ContractRevert
from fedstake.proof.pol import PolRules, SegmentVerdict, check_segment, segment_seed
from fedstake.proof.reveal import SegmentReveal
from fedstake.protocol.messages import RoundTask
from fedstake.protocol.settlement import DisputeRecord, RoundSettler
from fedstake.protocol.trainer import data_order_seed
from fedstake.protocol.validator import Accepted, Reference, Validator

# (trainer, task, segments) -> the trainer's reveals, or None if it does not answer
Reveal = Callable[[str, RoundTask, Sequence[int]], "list[SegmentReveal] | None"]


@dataclass
class AuditRecord:
    trainer: str
    segments: tuple[int, ...]
    distance: float
    reason: str | None
    dispute: DisputeRecord | None = None

    @property
    def passed(self) -> bool:
        return self.reason is None


class Auditor:
    """Spot-checks a round's accepted updates and disputes the ones that fail."""

    def __init__(self, settler: RoundSettler, pol: PolRules, reference: Reference) -> None:
        self.settler, self.pol, self.reference = settler, pol, reference

    def _verdicts(self, accepted: Accepted, task: RoundTask, reveals: list[SegmentReveal]) -> list[SegmentVerdict]:
        ref = self.reference
        return [check_segment(r, accepted.transcript, accepted.signed.commitment, module=ref.module, spec=ref.spec,
                              cfg=ref.training, global_params=task.global_params,
                              data_seed=data_order_seed(task.round_seed, accepted.trainer),
                              tolerance=self.pol.tolerance) for r in reveals]

    def check(self, accepted: Accepted, task: RoundTask, beacon: bytes, challenger: str,
              reveal: Reveal) -> tuple[AuditRecord, list[SegmentReveal] | None]:
        assert accepted.transcript is not None
        segments = self.pol.choose(accepted.transcript, seed=segment_seed(beacon, challenger, accepted.trainer))
        reveals = reveal(accepted.trainer, task, segments)
        if reveals is None or len(reveals) != len(segments):
            return AuditRecord(accepted.trainer, segments, math.inf, "no reveal"), None
        verdicts = self._verdicts(accepted, task, reveals)
        failed = next((v for v in verdicts if not v.passed), None)
        distance = max((v.distance for v in verdicts), default=0.0)
        return AuditRecord(accepted.trainer, segments, distance, failed.reason if failed else None), reveals

    def audit(self, task: RoundTask, beacon: bytes, challenger: Validator, voters: Sequence[Validator],
              accepted: Sequence[Accepted], reveal: Reveal) -> list[AuditRecord]:
        """Check every accepted update; dispute, vote on and resolve the failures."""
        tree = MerkleTree([a.signed.commitment.leaf() for a in accepted]) if accepted else None
        records = []
        for a in accepted:
            record, reveals = self.check(a, task, beacon, challenger.address, reveal)
            if not record.passed and tree is not None:
                record.dispute = self._dispute(a, task, beacon, challenger, voters, tree, record, reveals)
            records.append(record)
        return records

    def _dispute(self, a: Accepted, task: RoundTask, beacon: bytes, challenger: Validator,
                 voters: Sequence[Validator], tree: MerkleTree, record: AuditRecord,
                 reveals: list[SegmentReveal] | None) -> DisputeRecord | None:
        market, c = self.settler.market, a.signed.commitment
        evidence = keccak(c.transcript_root + str(record.segments).encode() + (record.reason or "").encode())
        try:
            dispute_id = market.challenge_update(
                task.task_id, task.round, beacon, trainer=a.trainer, update_hash=c.update_hash, samples=c.samples,
                transcript_root=c.transcript_root, signature=a.signed.signature, proof=tree.proof(c.leaf()),
                evidence=evidence, sender=challenger.account)
        except ContractRevert:
            return None  # already disputed, or the window closed: nothing to add
        dispute = DisputeRecord(dispute_id, "update", a.trainer, challenger.address)
        for voter in voters:  # each re-runs the same check on the same reveal
            uphold = reveals is None or not all(v.passed for v in self._verdicts(a, task, reveals))
            try:
                market.vote(dispute_id, uphold, sender=voter.account)
                dispute.votes[voter.address] = uphold
            except ContractRevert:
                continue
        self.settler.resolve(dispute, self.settler.part(voters[0].account))
        return dispute
