"""One round, end to end: seed, cohort, local training, evaluation, settlement.

The transport is whatever carries a `RoundTask` to the selected trainers
and brings their submissions back: direct calls in the simulator, Flower
messages in a deployment. The clock is whatever waits on chain time.
Everything else is the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from fedstake.chain.eip712 import Domain
from fedstake.chain.market import TaskMarket
from fedstake.chain.staking import StakeRegistry
from fedstake.proof.pol import PolRules
from fedstake.protocol.audit import AuditRecord, Auditor, Reveal
from fedstake.protocol.clock import Clock
from fedstake.protocol.cohort import select_cohort, selection_weight
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.scoring import RoundRewards, ScoringRules, reward_round
from fedstake.protocol.settlement import RoundSettler, Settlement
from fedstake.protocol.validator import Assessment, RoundOutcome, Validator

Transport = Callable[[Sequence[str], RoundTask], list[Submission]]


@dataclass
class TaskSession:
    """What the task's validators share while a task runs: its rules, the agreed
    model and ledger (as of the last final round), and who still validates."""

    market: TaskMarket
    registry: StakeRegistry
    task_id: int
    validators: list[Validator]
    candidates: list[str]
    cohort_size: int
    min_stake: int
    round_budget: int
    rounds: int
    settle_every: int
    global_params: torch.Tensor
    model_hash: bytes
    clock: Clock
    scoring: ScoringRules = field(default_factory=ScoringRules)
    reputation_selection: bool = True
    pol: PolRules | None = None
    reveal: Reveal | None = None  # how challengers reach trainers for spot checks
    ledger: RewardLedger = field(default_factory=RewardLedger)
    histories: dict[str, torch.Tensor] = field(default_factory=dict)
    previous_change: torch.Tensor | None = None
    domain: Domain | None = None

    def __post_init__(self) -> None:
        if self.domain is None:
            self.domain = self.market.domain()
        self.settler = RoundSettler(self.market, self.task_id, self.clock)

    def settles(self, round: int) -> bool:
        return round % self.settle_every == 0 or round == self.rounds


@dataclass(frozen=True)
class RoundReport:
    round: int
    selected: tuple[str, ...]
    outcome: RoundOutcome
    settlement: Settlement
    rewards: RoundRewards

    @property
    def held(self) -> str | None:
        """Why the round kept the previous model and paid nothing; None when it aggregated."""
        return self.outcome.held


def draw_cohort(session: TaskSession, seed: bytes) -> tuple[list[str], dict[str, int]]:
    """The cohort anyone can recompute: the trainers bonded to the task, bond x reputation
    weights from the chain."""
    bonds = session.registry.bonds_of(session.market.address, session.task_id, session.candidates)
    stakes = dict(zip(session.candidates, bonds))
    reputations = dict(zip(session.candidates, session.market.reputations_of(session.candidates)
                           if session.reputation_selection else [1] * len(session.candidates)))
    weights = {a: selection_weight(s, reputations[a]) for a, s in stakes.items() if s >= session.min_stake}
    cohort = select_cohort(seed, weights, session.cohort_size)
    return cohort, {a: stakes[a] for a in cohort}


def run_round(session: TaskSession, round: int, transport: Transport) -> RoundReport:
    """Play round `round` until its result is final on chain; advances the session."""
    seed = session.market.round_seed(session.task_id, round)
    cohort, stakes = draw_cohort(session, seed)
    assert session.domain is not None
    task = RoundTask(session.task_id, round, seed, session.global_params, session.model_hash, session.domain,
                     session.previous_change)
    submissions = transport(cohort, task)
    assessments = {v.address: v.assess(submissions, task, stakes, min_stake=session.min_stake,
                                       scoring=session.scoring) for v in session.validators}
    shared = _shared_rewards(session, round, assessments)
    outcomes = {
        v.address: v.conclude(assessments[v.address], shared, ledger=session.ledger, settles=session.settles(round))
        for v in session.validators
    }
    ports = [session.settler.local_port(v, outcomes[v.address].result, round) for v in session.validators]
    settlement = session.settler.settle(round, ports, _audit(session, task, outcomes))
    winner = next(o for o in outcomes.values() if o.result.hash(session.task_id, round) == settlement.final_hash)
    session.previous_change = winner.new_params - session.global_params
    session.global_params, session.model_hash = winner.new_params, winner.result.model_hash
    session.ledger = winner.ledger.fork()
    if winner.table is not None:
        session.ledger.publish(winner.table)
    for accepted in winner.accepted:
        previous = session.histories.get(accepted.trainer)
        session.histories[accepted.trainer] = accepted.flat if previous is None else previous + accepted.flat
    session.validators = [v for v in session.validators if session.market.view("weight", session.task_id, v.address)]
    return RoundReport(round, tuple(cohort), winner, settlement, shared)


def _audit(session: TaskSession, task: RoundTask, outcomes: dict[str, RoundOutcome]):
    """The proof-of-learning spot checks the proposer runs once the result holds its quorum."""
    if session.pol is None or session.reveal is None:
        return None

    def after_quorum(final_hash: bytes, proposer_address: str) -> list[AuditRecord]:
        agreed = next(o for o in outcomes.values() if o.result.hash(session.task_id, task.round) == final_hash)
        proposer = next(v for v in session.validators if v.address == proposer_address)
        auditor = Auditor(session.settler, session.pol, proposer.reference)
        return auditor.audit(task, final_hash, proposer, session.validators, agreed.accepted, session.reveal)

    return after_quorum


def _shared_rewards(session: TaskSession, round: int, assessments: dict[str, Assessment]) -> RoundRewards:
    """What every validator computes from everyone's reported scores: the same numbers.
    Only updates a validator could aggregate are paid: a held round pays nobody."""
    trainers = sorted({t for a in assessments.values() if a.held is None for t in a.trainers})
    reported = {v: [a.scores.get(t, 0.0) for t in trainers] for v, a in assessments.items()}
    flats, samples = {}, {}
    for a in assessments.values():
        for accepted in a.accepted:
            flats.setdefault(accepted.trainer, accepted.flat)
            samples.setdefault(accepted.trainer, accepted.samples)
    histories = {t: flats[t] + session.histories[t] if t in session.histories else flats[t] for t in trainers}
    stakes = {v: session.market.view("weight", session.task_id, v) for v in assessments}
    reputation = dict(zip(trainers, session.market.reputations_of(trainers))) \
        if session.scoring.rule == "reputation" else {}  # only that rule reads it
    return reward_round(session.scoring, round, trainers, reported, stakes, budget=session.round_budget,
                        samples=samples, reputation=reputation, histories=histories)
