"""One validator's desk for one task: what it keeps between rounds and the steps it takes.

A validator holds its own copy of the task's agreed state (the global
model, the rewards ledger, each trainer's update history) and takes a
round in steps another party asks for: assess the submissions (screen,
aggregate, score on its own data) and report its scores; conclude from
every validator's reported scores (the shared rewards, its own result);
settle on chain with its own key; adopt the round's final result. In the
simulator the desks of a task's validators sit in one process; in a
deployment each sits behind its own node, and the coordinator reaches it
through messages. `ValidatorPort` is what the round needs of a validator
either way; `LocalPort` is a desk in this process.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Protocol, Sequence

import torch

from fedstake.chain.market import RoundResult, TaskMarket
from fedstake.chain.scoreboard import ScoreBoard
from fedstake.errors import ProtocolError, SignatureError
from fedstake.proof.pol import PolRules
from fedstake.proof.sealing import open_sealed
from fedstake.protocol import board as score_board
from fedstake.protocol.ledger import PublishedTable, RewardLedger
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.pricing import ContributionRecord, RoundAuction, auction_budget, check_pricing, run_auction
from fedstake.protocol.scoring import RoundRewards, ScoringRules, reward_round
from fedstake.protocol.settlement import LocalPort, SettlementPort, ValidatorSettlement
from fedstake.protocol.validator import Assessment, Rejection, RoundOutcome, Validator


@dataclass(frozen=True)
class TaskTerms:
    """What every participant reads from a task's rules: the chain's, and the scenario's scoring."""

    task_id: int
    rounds: int
    settle_every: int
    cohort_size: int
    min_stake: int
    round_budget: int
    scoring: ScoringRules = field(default_factory=ScoringRules)
    reputation_selection: bool = True
    pol: PolRules | None = None
    pricing: str = "fixed"  # or "reverse-auction": the cohort and its prices from the trainers' asks
    selection_exponent: Fraction = Fraction(1)  # the cohort draw weighs bond ** this (sub-linear below 1)

    def __post_init__(self) -> None:
        check_pricing(self.pricing)

    @property
    def auctioned(self) -> bool:
        return self.pricing == "reverse-auction"

    def settles(self, round: int) -> bool:
        return round % self.settle_every == 0 or round == self.rounds


@dataclass(frozen=True)
class Report:
    """What a validator tells the others after assessing: its score for each update it accepted
    (and the sample count each update's commitment signed)."""

    validator: str
    trainers: tuple[str, ...]
    scores: dict[str, float]
    samples: dict[str, int]
    held: str | None = None


@dataclass(frozen=True)
class RoundSummary:
    """A validator's round as anyone may see it: whom it accepted and rejected, the result it
    stands for, the shared rewards, and its ledger after the round (`credits`: account ->
    (cumulative amount, accepted rounds)); `table` when the round settles."""

    accepted: tuple[str, ...]
    rejected: tuple[Rejection, ...]
    held: str | None
    result: RoundResult
    rewards: RoundRewards
    credits: dict[str, tuple[int, int]]
    table: PublishedTable | None


def shared_rewards(terms: TaskTerms, market: TaskMarket, round: int, reports: Mapping[str, Report],
                   accepted_flats: Mapping[str, torch.Tensor], histories: Mapping[str, torch.Tensor],
                   bonds: Mapping[str, float], auction: RoundAuction | None = None,
                   prior: Mapping[str, float] | None = None) -> RoundRewards:
    """What every validator computes from everyone's reported scores: the same numbers. Only
    updates a validator could aggregate are paid: a held round pays nobody. A reverse-auction
    round pays its winners' prices (`auction`, which every validator re-runs itself). `prior` is
    the last adopted round's consensus, against which agreement asks for news."""
    trainers = sorted({t for r in reports.values() if r.held is None for t in r.trainers})
    missing = [t for t in trainers if t not in accepted_flats]
    if missing:  # screening is deterministic: honest validators accept the same updates
        raise ProtocolError(f"round {round}: other validators accepted updates this one did not: {missing}")
    reported = {v: [r.scores.get(t, 0.0) for t in trainers] for v, r in reports.items()}
    flats = {t: accepted_flats[t] for t in trainers}
    samples = {t: s for r in reports.values() for t, s in r.samples.items() if t in flats}
    merged = {t: flats[t] + histories[t] if t in histories else flats[t] for t in trainers}
    stakes = {v: market.view("weight", terms.task_id, v) for v in reports}
    reputation = dict(zip(trainers, market.reputations_of(trainers))) \
        if terms.scoring.rule == "reputation" else {}  # only that rule reads it
    return reward_round(terms.scoring, round, trainers, reported, stakes, budget=terms.round_budget,
                        samples=samples, reputation=reputation, histories=merged, bonds=bonds, prior=prior,
                        prices=auction.prices if auction else None, ask_leaves=auction.leaves() if auction else ())


class ValidatorDesk:
    """One validator's state in one task, and its steps in a round."""

    def __init__(self, validator: Validator, market: TaskMarket, terms: TaskTerms, settlement: ValidatorSettlement,
                 *, model_hash: bytes) -> None:
        self.validator, self.market, self.terms, self.settlement = validator, market, terms, settlement
        self.model_hash = model_hash
        self.adopted = 0  # the last round whose final result it adopted
        self.concluded = 0  # the round its outcome is of
        self.ledger = RewardLedger()
        self.histories: dict[str, torch.Tensor] = {}
        self.bonds: dict[str, float] = {}  # each validator's agreement EMA after the last adopted round
        self.prior: dict[str, float] = {}  # the last adopted round's consensus, what a copier could report
        self.assessment: Assessment | None = None
        self.outcome: RoundOutcome | None = None
        self.rewards: RoundRewards | None = None
        self.contributions = ContributionRecord()  # past consensus scores, as adopted (auction quality)
        self.auction: RoundAuction | None = None
        self.sealed: score_board.Sealed | None = None  # this round's committed scores

    @property
    def address(self) -> str:
        return self.validator.address

    def assess(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int]) -> Report:
        """Screen, aggregate and score the round on its own data. The model it is asked to start
        from must be the one it agreed to last round (a relay cannot swap it)."""
        if task.model_hash != self.model_hash:
            raise ProtocolError(f"round {task.round}: asked to start from model 0x{task.model_hash.hex()}, but the "
                                f"last final model is 0x{self.model_hash.hex()}")
        with self.validator.phases.measure("open"):
            opened, unopened = self._open(submissions)
        if self.terms.auctioned:
            opened, unopened = self._check_auction(task, cohort, opened, unopened)
        assessment = self.validator.assess(opened, task, cohort, min_stake=self.terms.min_stake,
                                           scoring=self.terms.scoring)
        self.assessment = dataclasses.replace(assessment, rejected=assessment.rejected + tuple(unopened))
        self.outcome = self.rewards = self.sealed = None
        a = self.assessment
        return Report(self.address, a.trainers, dict(a.scores), {x.trainer: x.samples for x in a.accepted}, a.held)

    def _open(self, submissions: Sequence[Submission]) -> tuple[list[Submission], list[Rejection]]:
        """Sealed updates opened with this validator's key; one that does not open is rejected."""
        opened, unopened = [], []
        for sub in submissions:
            if sub.sealed is None:
                opened.append(sub)
                continue
            try:
                opened.append(dataclasses.replace(sub, payload=open_sealed(sub.sealed, self.validator.account),
                                                  sealed=None))
            except SignatureError as exc:
                unopened.append(Rejection(sub.trainer, str(exc)))
        return opened, unopened

    def _check_auction(self, task: RoundTask, cohort: Mapping[str, int], opened: list[Submission],
                       unopened: list[Rejection]) -> tuple[list[Submission], list[Rejection]]:
        """Re-run the round's auction from the relayed asks, the chain's reputations and its own
        record: the cohort must be its winners, and each update must sign the samples its ask offered."""
        signers = sorted({a.trainer for a in task.asks})
        self.auction = run_auction(task.asks, domain=task.domain, task_id=task.task_id, round=task.round,
                                   candidates=signers, reputations=dict(zip(signers, self.market.reputations_of(signers))),
                                   contributions=self.contributions, cap=self.terms.cohort_size,
                                   budget=auction_budget(self.terms.round_budget,
                                                         validator_share=self.terms.scoring.validator_share))
        if set(self.auction.outcome.winners) != set(cohort):
            raise ProtocolError(f"round {task.round}: the cohort is not the winners of the round's auction")
        offered = self.auction.samples()
        bad = {id(s) for s in opened if s.trainer in offered and s.signed.commitment.samples != offered[s.trainer]}
        return [s for s in opened if id(s) not in bad], unopened + [
            Rejection(s.trainer, f"commitment signs {s.signed.commitment.samples} samples, its ask offered "
                      f"{offered[s.trainer]}") for s in opened if id(s) in bad]

    def commit_scores(self, task: RoundTask, board: ScoreBoard, report: Report,
                      seen: Mapping[str, dict[str, float]]) -> None:
        """Commit its scores on the board once its validator is ready to (at most once a round)."""
        if self.sealed is None:
            scores = self.validator.scores_to_commit(dict(report.scores), seen)
            if scores is not None:  # a held round scored no one: it commits to an empty vector
                scored = tuple(t for t in report.trainers if t in scores)
                self.sealed = score_board.commit(board, self.validator.account, task, scored, scores)

    def reveal_scores(self, task: RoundTask, board: ScoreBoard, report: Report) -> Report | None:
        """Reveal what it committed; the report of the committed scores, or None (nothing to reveal,
        or the board refused the reveal)."""
        if self.sealed is None or not score_board.reveal(board, self.validator.account, task, self.sealed):
            return None
        return dataclasses.replace(report, trainers=self.sealed.trainers, scores=dict(self.sealed.scores))

    def conclude(self, task: RoundTask, reports: Mapping[str, Report]) -> RoundResult:
        """The result it stands for, from its own aggregate and everyone's reported scores."""
        if self.assessment is None:
            raise ProtocolError(f"round {task.round}: concluding before assessing")
        flats = {a.trainer: a.flat for a in self.assessment.accepted}
        self.rewards = shared_rewards(self.terms, self.market, task.round, reports, flats, self.histories,
                                      self.bonds, self.auction if self.terms.auctioned else None, self.prior)
        self.outcome = self.validator.conclude(self.assessment, self.rewards, ledger=self.ledger,
                                               settles=self.terms.settles(task.round))
        self.concluded = task.round
        return self.outcome.result

    def summary(self) -> RoundSummary:
        o, rewards = self._concluded()
        return RoundSummary(tuple(a.trainer for a in o.accepted), o.rejected, o.held, o.result, rewards,
                            o.ledger.table(), o.table)

    def new_model(self) -> torch.Tensor:
        return self._concluded()[0].new_params

    def adopt(self, final: RoundSummary) -> None:
        """The round is final with `final`'s result (its own, or another validator's): carry its
        model hash and ledger on, and add this round's accepted updates to the histories. Adopting
        a round twice (a message repeated) changes nothing."""
        o, rewards = self._concluded()
        if self.concluded != self.adopted + 1:
            return
        self.model_hash = final.result.model_hash
        self.bonds = dict(rewards.validator_bonds)  # computed from the reports everyone shares: the same everywhere
        if rewards.consensus:  # a held round leaves the prior where it was
            self.prior = dict(rewards.consensus)
        self.contributions.add(final.rewards.consensus)
        self.adopted = self.concluded
        if o.result == final.result:
            self.ledger = o.ledger.fork()
        else:  # another validator's result won: take its ledger, as published
            self.ledger = RewardLedger(amounts={a: v for a, (v, _) in final.credits.items() if v},
                                       rounds={a: r for a, (_, r) in final.credits.items() if r})
        if final.table is not None:
            self.ledger.publish(final.table)
        flats = {a.trainer: a.flat for a in o.accepted}
        for trainer in final.accepted:
            if trainer in flats:
                previous = self.histories.get(trainer)
                self.histories[trainer] = flats[trainer] if previous is None else previous + flats[trainer]

    def adopt_own(self, final: RoundResult | None) -> bool:
        """A round it concluded went final without its adopting it (the relay was down): when
        `final`, the chain's final result of that round, is its own, it adopts its own summary."""
        if self.outcome is None or self.concluded != self.adopted + 1 or final != self.outcome.result:
            return False
        self.adopt(self.summary())
        return True

    def replay(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int],
               reports: Mapping[str, Report], final: RoundSummary) -> bool:
        """A final round it missed, replayed from what was relayed then: its model, histories and
        aggregator state come from its own assessment, its ledger from `final` (which the caller
        checked against the chain). True if its own result is the final one."""
        if task.round != self.adopted + 1:
            raise ProtocolError(f"asked to replay round {task.round}; it last adopted round {self.adopted}")
        self.assess(task, submissions, cohort)
        mine = self.conclude(task, reports) == final.result
        self.adopt(final)
        return mine

    _KEPT = ("model_hash", "adopted", "concluded", "ledger", "histories", "bonds", "prior", "assessment", "outcome", "rewards",
             "contributions", "auction")

    def state(self) -> dict:
        """What it carries between steps, for a node that runs each step in a fresh process:
        everything but its key (and the chain handles, which it reopens). A server optimiser's
        state and the pinned data roots travel too: they carry across rounds."""
        kept = {name: getattr(self, name) for name in self._KEPT}
        return {**kept, "aggregator_state": getattr(self.validator.aggregator, "state", None),  # server optimisers
                "data_roots": self.validator.data_roots}

    def restore(self, state: Mapping) -> None:
        for name in self._KEPT:
            setattr(self, name, state[name])
        if hasattr(self.validator.aggregator, "state"):
            self.validator.aggregator.state = state["aggregator_state"]
        self.validator.data_roots = state["data_roots"]

    def _concluded(self) -> tuple[RoundOutcome, RoundRewards]:
        if self.outcome is None or self.rewards is None:
            raise ProtocolError("no concluded round")
        return self.outcome, self.rewards


class ValidatorPort(SettlementPort, Protocol):
    """What a round needs of one validator, wherever it runs."""

    def assess(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int]) -> Report: ...

    def conclude(self, task: RoundTask, reports: Mapping[str, Report]) -> bytes: ...

    def summary(self) -> RoundSummary: ...

    def new_model(self) -> torch.Tensor: ...

    def adopt(self, final: RoundSummary) -> None: ...


class LocalValidatorPort(LocalPort):
    """A validator's desk in this process: the simulator's port."""

    def __init__(self, desk: ValidatorDesk) -> None:
        super().__init__(desk.settlement)
        self.desk = desk

    def assess(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int]) -> Report:
        return self.desk.assess(task, submissions, cohort)

    def conclude(self, task: RoundTask, reports: Mapping[str, Report]) -> bytes:
        self.stand_for(self.desk.conclude(task, reports), task.round)
        return self.result_hash

    def summary(self) -> RoundSummary:
        return self.desk.summary()

    def new_model(self) -> torch.Tensor:
        return self.desk.new_model()

    def adopt(self, final: RoundSummary) -> None:
        self.desk.adopt(final)

    def commit_scores(self, task: RoundTask, board: ScoreBoard, report: Report,
                      seen: Mapping[str, dict[str, float]]) -> None:
        self.desk.commit_scores(task, board, report, seen)

    def reveal_scores(self, task: RoundTask, board: ScoreBoard, report: Report) -> Report | None:
        return self.desk.reveal_scores(task, board, report)
