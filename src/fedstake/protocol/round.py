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
from fedstake.chain.scoreboard import ScoreBoard
from fedstake.chain.staking import StakeRegistry
from fedstake.chain.stopwatch import Stopwatch
from fedstake.errors import ProtocolError
from fedstake.proof.reveal import SegmentReveal
from fedstake.protocol.asks import AskBook
from fedstake.protocol.audit import AuditRecord, Auditor
from fedstake.protocol.board import matches_reveal, wait_for_reveals
from fedstake.protocol.clock import Clock
from fedstake.protocol.cohort import select_cohort, selection_weight
from fedstake.protocol.desk import LocalValidatorPort, Report, RoundSummary, TaskTerms, ValidatorPort
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.pricing import ContributionRecord, RoundAuction, auction_budget, run_auction
from fedstake.protocol.settlement import FanOut, RoundSettler, Settlement, in_turn, reached
from fedstake.protocol.validator import train_references


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
    asks: AskBook | None = None  # where trainers publish their asks (reverse-auction pricing)
    contributions: ContributionRecord = field(default_factory=ContributionRecord)  # past consensus, as adopted
    phases: Stopwatch = field(default_factory=Stopwatch, repr=False)  # wall time per step of the rounds
    board: ScoreBoard | None = None  # commit-reveal of the scores (local validator ports); None: reports as sent

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
    auction: RoundAuction | None = None  # a reverse-auction round's asks, winners and prices

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


def auction_cohort(session: TaskSession, round: int) -> tuple[list[str], dict[str, int], RoundAuction]:
    """Under reverse-auction pricing, the cohort is the auction's winners among the bonded trainers."""
    terms, candidates = session.terms, session.candidates
    if session.asks is None:
        raise ProtocolError("reverse-auction pricing needs the trainers' asks, and this session has no ask book")
    assert session.domain is not None
    stakes = dict(zip(candidates, session.registry.bonds_of(session.market.address, session.task_id, candidates)))
    eligible = [a for a in candidates if stakes[a] >= terms.min_stake]
    auction = run_auction(session.asks.current(), domain=session.domain, task_id=terms.task_id, round=round,
                          candidates=eligible, reputations=dict(zip(eligible, session.market.reputations_of(eligible))),
                          contributions=session.contributions, cap=terms.cohort_size,
                          budget=auction_budget(terms.round_budget, validator_share=terms.scoring.validator_share))
    cohort = sorted(auction.outcome.winners)
    return cohort, {a: stakes[a] for a in cohort}, auction


def run_round(session: TaskSession, round: int, transport: Transport) -> RoundReport:
    """Play round `round` until its result is final on chain; advances the session. Each step's
    wall time adds to `session.phases` (cohort, trainers, assess, board, conclude, settle, adopt)."""
    timed = session.phases.measure
    with timed("cohort"):
        seed = session.market.round_seed(session.task_id, round)
        cohort, stakes, auction = auction_cohort(session, round) if session.terms.auctioned \
            else (*draw_cohort(session, seed), None)
    assert session.domain is not None
    task = RoundTask(session.task_id, round, seed, session.global_params, session.model_hash, session.domain,
                     session.previous_change, auction.asks if auction else ())
    with timed("trainers"):
        submissions = transport(cohort, task)
    absent: dict[str, str] = {}  # a validator that does not answer sits the rest of the round out
    with timed("assess"):
        _train_references(session, task)
        assessed = reached(session.fan_out, session.ports, lambda p: p.assess(task, submissions, stakes), absent)
    reports: dict[str, Report] = {p.address: r for p, r in assessed}
    if session.board is not None:
        with timed("board"):
            reports = _through_board(session, task, [p for p, _ in assessed], reports, absent)
        assessed = [(p, r) for p, r in assessed if p.address not in absent]
    with timed("conclude"):
        concluded = [p for p, _ in reached(session.fan_out, [p for p, _ in assessed],
                                           lambda p: p.conclude(task, reports), absent)]
    with timed("settle"):
        settlement = session.settler.settle(round, concluded, _audit(session, task, transport))
    absent.update(settlement.absent)
    with timed("adopt"):
        summary, new_params = _adopt(session, round, concluded, settlement, absent)
    return RoundReport(round, tuple(cohort), summary, settlement, new_params, absent, auction)


def _through_board(session: TaskSession, task: RoundTask, ports: list[ValidatorPort],
                   reports: dict[str, Report], absent: dict[str, str]) -> dict[str, Report]:
    """Every validator commits its scores, the commit phase closes, then each reveals: only reports
    matching their sender's reveal on chain go on to the consensus. One that waited to see the
    others' scores tries to commit them after the phase has closed, and the board refuses it."""
    board = session.board
    assert board is not None
    ports = [p for p, _ in reached(session.fan_out, ports,
                                   lambda p: p.commit_scores(task, board, reports[p.address], {}), absent)]
    wait_for_reveals(board, session.clock, task)
    revealed: dict[str, Report] = {}

    def reveal(port: ValidatorPort) -> None:
        port.commit_scores(task, board, reports[port.address], {a: r.scores for a, r in revealed.items()})
        report = port.reveal_scores(task, board, reports[port.address])
        if report is not None and matches_reveal(board, task, port.address, report.trainers, report.scores):
            revealed[port.address] = report

    reached(in_turn, ports, reveal, absent)  # in turn: a late validator sees the reveals before it
    return revealed


def _adopt(session: TaskSession, round: int, concluded: list[ValidatorPort], settlement: Settlement,
           absent: dict[str, str]) -> tuple[RoundSummary, torch.Tensor]:
    """Every validator that concluded adopts the final result; the session moves to its model."""
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
    session.contributions.add(summary.rewards.consensus)
    session.ports = [p for p in session.ports if session.market.view("weight", session.task_id, p.address)]
    return summary, new_params


def _train_references(session: TaskSession, task: RoundTask) -> None:
    """With trust scores and several validators in this process (the simulator's), their reference
    updates train in one cohort call before they assess; each still scores on its own."""
    scoring = session.terms.scoring
    references = [p.desk.validator.reference for p in session.ports if isinstance(p, LocalValidatorPort)]
    if scoring.scorer == "trust" and None not in references:
        train_references(references, task, epochs=scoring.reference_epochs)


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
