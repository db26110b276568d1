"""One round, end to end: seed, cohort, local training, assessment, settlement.

The coordinator's part, the same wherever the roles run: it reads the
round seed and draws the cohort from the chain, hands the round's task to
the selected trainers through a transport, hands their submissions to
every validator's port, passes the validators' reports round so each can
conclude, drives the settlement on chain through the same ports, and
then every validator adopts the final result. The transport and the ports
are direct calls in the simulator and Flower messages in a deployment;
the clock is whatever waits on chain time. Everything else is the same
code. The coordinator holds no key: what it relays is checked by hashes
and signatures, and what moves tokens is signed by the validators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

import torch

from fedstake.chain.eip712 import Domain
from fedstake.chain.market import TaskMarket
from fedstake.chain.staking import StakeRegistry
from fedstake.errors import ProtocolError
from fedstake.proof.reveal import SegmentReveal
from fedstake.protocol.audit import AuditRecord, Auditor
from fedstake.protocol.clock import Clock
from fedstake.protocol.cohort import select_cohort, selection_weight
from fedstake.protocol.desk import LocalValidatorPort, Report, RoundSummary, TaskTerms, ValidatorPort
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.settlement import FanOut, RoundSettler, Settlement, in_turn, reached


class Transport(Protocol):
    """What carries a round's task to the selected trainers and their answers back."""

    def __call__(self, cohort: Sequence[str], task: RoundTask) -> list[Submission]: ...

    def reveal(self, trainer: str, task: RoundTask, segments: Sequence[int]) -> list[SegmentReveal] | None: ...


@dataclass
class TaskSession:
    """What the coordinator carries between rounds: the task's terms, the agreed model, the
    latest published rewards table, and the validators that still have weight."""

    market: TaskMarket
    registry: StakeRegistry
    terms: TaskTerms
    ports: list[ValidatorPort]
    candidates: list[str]
    global_params: torch.Tensor
    model_hash: bytes
    clock: Clock
    ledger: RewardLedger = field(default_factory=RewardLedger)  # only its published table: what trainers claim
    previous_change: torch.Tensor | None = None
    domain: Domain | None = None
    fan_out: FanOut = in_turn  # a step on every validator: in turn here, at once over a network

    def __post_init__(self) -> None:
        if self.domain is None:
            self.domain = self.market.domain()
        self.settler = RoundSettler(self.market, self.terms.task_id, self.clock, self.fan_out)

    @property
    def task_id(self) -> int:
        return self.terms.task_id


@dataclass(frozen=True)
class RoundReport:
    round: int
    selected: tuple[str, ...]
    summary: RoundSummary
    settlement: Settlement
    new_params: torch.Tensor
    absent: dict[str, str] = field(default_factory=dict)  # validators that fell silent this round: why

    @property
    def held(self) -> str | None:
        """Why the round kept the previous model and paid nothing; None when it aggregated."""
        return self.summary.held


def draw_cohort(session: TaskSession, seed: bytes) -> tuple[list[str], dict[str, int]]:
    """The cohort anyone can recompute: the trainers bonded to the task, bond x reputation
    weights from the chain."""
    terms, candidates = session.terms, session.candidates
    bonds = session.registry.bonds_of(session.market.address, session.task_id, candidates)
    stakes = dict(zip(candidates, bonds))
    reputations = dict(zip(candidates, session.market.reputations_of(candidates)
                           if terms.reputation_selection else [1] * len(candidates)))
    weights = {a: selection_weight(s, reputations[a], exponent=terms.selection_exponent)
               for a, s in stakes.items() if s >= terms.min_stake}
    cohort = select_cohort(seed, weights, terms.cohort_size)
    return cohort, {a: stakes[a] for a in cohort}


def run_round(session: TaskSession, round: int, transport: Transport) -> RoundReport:
    """Play round `round` until its result is final on chain; advances the session."""
    seed = session.market.round_seed(session.task_id, round)
    cohort, stakes = draw_cohort(session, seed)
    assert session.domain is not None
    task = RoundTask(session.task_id, round, seed, session.global_params, session.model_hash, session.domain,
                     session.previous_change)
    submissions = transport(cohort, task)
    absent: dict[str, str] = {}  # a validator that does not answer sits the rest of the round out
    assessed = reached(session.fan_out, session.ports, lambda p: p.assess(task, submissions, stakes), absent)
    reports: dict[str, Report] = {p.address: r for p, r in assessed}
    concluded = [p for p, _ in reached(session.fan_out, [p for p, _ in assessed], lambda p: p.conclude(task, reports),
                                       absent)]
    settlement = session.settler.settle(round, concluded, _audit(session, task, transport))
    absent.update(settlement.absent)
    agreed = [p for p in concluded if p.result_hash == settlement.final_hash]
    winner = next((p for p in agreed if p.address not in absent), agreed[0])  # its summary came with its conclusion
    summary, new_params = winner.summary(), winner.new_model()
    if summary.result.model_hash != session.market.view("latest_model_hash", session.task_id):
        raise ProtocolError(f"round {round}: the final result's model is not the one the chain records")
    reached(session.fan_out, [p for p in concluded if p.address not in absent], lambda p: p.adopt(summary), absent)
    session.previous_change = new_params - session.global_params
    session.global_params, session.model_hash = new_params, summary.result.model_hash
    if summary.table is not None:
        session.ledger.publish(summary.table)
    session.ports = [p for p in session.ports if session.market.view("weight", session.task_id, p.address)]
    return RoundReport(round, tuple(cohort), summary, settlement, new_params, absent)


def _audit(session: TaskSession, task: RoundTask, transport: Transport):
    """The proof-of-learning spot checks the proposer runs once the result holds its quorum
    (validators in this process: the simulator's)."""
    if session.terms.pol is None:
        return None
    desks = [p.desk for p in session.ports if isinstance(p, LocalValidatorPort)]
    if len(desks) != len(session.ports):
        raise ProtocolError("proof-of-learning spot checks need every validator in this process")

    def after_quorum(final_hash: bytes, proposer_address: str) -> list[AuditRecord]:
        proposer = next(d for d in desks if d.address == proposer_address)
        agreed = next(d for d in desks if d.outcome is not None
                      and d.outcome.result.hash(session.task_id, task.round) == final_hash)
        auditor = Auditor(session.settler, session.terms.pol, proposer.validator.reference)
        return auditor.audit(task, final_hash, proposer.validator, [d.validator for d in desks],
                             agreed.outcome.accepted, transport.reveal)

    return after_quorum
