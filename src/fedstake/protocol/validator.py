"""The validator: screens updates, aggregates deterministically, scores, computes the round's result.

This is the honest validator, the code a participant runs; the simulated
dishonest ones (self-paying, random, colluding) wrap it in `fedstake.sim`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch
from torch import nn

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.eip712 import Domain
from fedstake.chain.market import ZERO32, RoundResult, TaskMarket
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.staking import Role, StakeRegistry
from fedstake.chain.stopwatch import Stopwatch
from fedstake.chain.token import FedToken
from fedstake.errors import LearningError, ProtocolError, SignatureError
from fedstake.learn.aggregators import Aggregator
from fedstake.learn.models import ParamSpec
from fedstake.learn.train import LocalTraining
from fedstake.proof.codec import model_hash
from fedstake.proof.commitment import SignedCommitment, verify_commitment
from fedstake.proof.pol import PolRules
from fedstake.proof.screening import ScreeningRules, Verdict, screen_update
from fedstake.proof.transcript import Transcript, transcript_problem
from fedstake.protocol.ledger import PublishedTable, RewardLedger
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.scoring import RoundRewards, ScoringRules, score_updates

@dataclass(frozen=True)
class Rejection:
    trainer: str
    reason: str


@dataclass(frozen=True)
class Accepted:
    trainer: str
    samples: int
    flat: torch.Tensor
    signed: SignedCommitment
    transcript: Transcript | None = None


@dataclass(frozen=True)
class Assessment:
    """One validator's first pass over a round: screening, its aggregate, its scores."""

    accepted: tuple[Accepted, ...]
    rejected: tuple[Rejection, ...]
    new_params: torch.Tensor
    scores: dict[str, float]
    held: str | None = None  # why the round kept the previous model; None when it aggregated

    @property
    def trainers(self) -> tuple[str, ...]:
        return tuple(a.trainer for a in self.accepted)


@dataclass(frozen=True)
class RoundOutcome:
    """One validator's view of a round: what it accepted, the new model, and the
    result it proposes or attests (with the rewards table it implies)."""

    accepted: tuple[Accepted, ...]
    rejected: tuple[Rejection, ...]
    new_params: torch.Tensor
    rewards: dict[str, int]
    result: RoundResult
    ledger: RewardLedger
    table: PublishedTable | None
    held: str | None = None  # why the round kept the previous model and paid nothing


@dataclass(frozen=True)
class Reference:
    """A validator's own held-out data and how the task trains: its trusted
    reference (FLTrust's root update) and what it scores contributions on."""

    x: torch.Tensor
    y: torch.Tensor
    module: nn.Module
    spec: ParamSpec
    training: LocalTraining
    _trained: dict = field(default_factory=dict, init=False, compare=False, repr=False)  # this round's, by epochs

    def update(self, task: RoundTask, *, epochs: int | None = None) -> torch.Tensor:
        """The update an honest trainer holding this data would send this round (FLTrust's
        root update); with more `epochs`, a steadier direction to score trust against: the
        validator's data then outweighs the noise of its few SGD steps, so honest
        validators with different splits agree more closely.

        Trained once per round and length, however often the round asks (the aggregate's
        root update and the trust scores share one), by the cohort engine: a cohort of one
        is `local_train`'s result within float rounding (held to 1e-5), three times faster."""
        training = self._training(epochs)
        kept = self._kept(task, training)
        if kept is None:
            kept = self.keep(task, training, _train_references([self], task, training)[0])
        return kept.clone()

    def _training(self, epochs: int | None) -> LocalTraining:
        return self.training if epochs is None else dataclasses.replace(self.training, epochs=epochs)

    def _kept(self, task: RoundTask, training: LocalTraining) -> torch.Tensor | None:
        kept = self._trained.get((task.round_seed, training.epochs))
        return kept[1] if kept is not None and torch.equal(kept[0], task.global_params) else None

    def keep(self, task: RoundTask, training: LocalTraining, update: torch.Tensor) -> torch.Tensor:
        """Hold `update` as this round's reference update of `training`'s length."""
        if any(seed != task.round_seed for seed, _ in self._trained):
            self._trained.clear()  # a new round: last round's are of no use
        self._trained[(task.round_seed, training.epochs)] = (task.global_params.clone(), update)
        return update


def _train_references(references: Sequence[Reference], task: RoundTask, training: LocalTraining) -> torch.Tensor:
    """The references' updates (one row each) in one cohort call, seeded by the round."""
    from fedstake.learn.cohort import train_cohort  # torch.func: loaded when a round first scores

    first = references[0]
    trained = train_cohort(first.module, first.spec, task.global_params, [(r.x, r.y) for r in references],
                           training, seeds=[int.from_bytes(task.round_seed[:8], "big")] * len(references))
    return trained - task.global_params


def train_references(references: Sequence[Reference], task: RoundTask, *, epochs: int | None) -> None:
    """Train this round's reference update of every reference in one cohort call, where several
    validators share a process (the simulator's): each still gets its own update from its own
    data, as it would alone (equal within 1e-5), at the cost of about one. References that
    train differently, or hold this round's update already, are left to train on first use."""
    pending = [r for r in references if r._kept(task, r._training(epochs)) is None]
    training = pending[0]._training(epochs) if pending else None
    first = pending[0] if pending else None
    if len(pending) < 2 or any((r._training(epochs), r.spec, r.module) != (training, first.spec, first.module)
                               for r in pending):
        return
    for reference, update in zip(pending, _train_references(pending, task, training)):
        reference.keep(task, training, update)


@dataclass
class Validator:
    account: Account
    rules: ScreeningRules
    aggregator: Aggregator
    reference: Reference | None = None
    stopwatch: Stopwatch = field(default_factory=Stopwatch, repr=False)
    pol: PolRules | None = None
    data_roots: dict[str, bytes] = field(default_factory=dict, repr=False)  # pinned at a trainer's first transcript
    # The task's root set, FLTrust's trusted data: published by the requester with the task and the
    # same for every validator, so their root updates, hence their aggregates, agree and reach quorum
    # (each validator's own slice gave each a different model).
    root: Reference | None = None
    phases: Stopwatch = field(default_factory=Stopwatch, repr=False)  # wall time of screen, aggregate, score

    @property
    def address(self) -> str:
        return self.account.address

    def stake(self, token: FedToken, registry: StakeRegistry, amount: int) -> Receipt:
        token.approve(registry.address, amount, sender=self.account)
        return registry.stake(amount, Role.VALIDATOR, sender=self.account)

    def trust(self, registry: StakeRegistry, market: TaskMarket) -> Receipt:
        """Consent to the market bonding its stake when it joins the market's tasks: an authorised
        slasher bonds only accounts that trust it, so the registry's owner alone slashes nobody."""
        return registry.set_trust(market.address, True, sender=self.account)

    def join(self, market: TaskMarket, task_id: int) -> Receipt:
        """Bond what the requester asked of it: its weight in the task, and what a dispute can take."""
        return market.join_task(task_id, market.asked_bond(task_id, self.address), sender=self.account)

    def screen(
        self, submissions: Sequence[Submission], task: RoundTask, cohort: Mapping[str, int], min_stake: int
    ) -> tuple[list[Accepted], list[Rejection]]:
        """Split submissions into accepted (with flat updates) and rejected (with reasons).

        `cohort` maps each selected trainer to its current stake.
        """
        accepted: list[Accepted] = []
        rejected: list[Rejection] = []
        seen: set[str] = set()
        for sub in submissions:
            with self.stopwatch.measure("verify"):
                reason = _protocol_problem(sub, task, cohort, min_stake, seen, task.domain)
            seen.add(sub.trainer)
            verdict = screen_update(sub.signed, sub.payload, self.rules) if reason is None else None
            if verdict is not None and verdict.accepted and self.pol is not None:
                problem = self._transcript_problem(sub, task, verdict.flat)
                verdict = Verdict(problem, verdict.flat) if problem else verdict
            if verdict is not None and verdict.accepted:
                accepted.append(Accepted(sub.trainer, sub.signed.commitment.samples, verdict.flat, sub.signed,
                                         sub.transcript))
            else:
                rejected.append(Rejection(sub.trainer, reason or verdict.reason))
        accepted.sort(key=lambda a: a.trainer)
        return accepted, rejected

    def _transcript_problem(self, sub: Submission, task: RoundTask, flat: torch.Tensor) -> str | None:
        """The cheap proof-of-learning checks (no re-execution): the transcript opens the signed
        root, starts at the global model, ends at the submitted update, has the task's shape,
        and keeps the data root the trainer committed to before."""
        assert self.pol is not None and self.reference is not None
        if sub.transcript is None:
            return "no training transcript"
        pinned = self.data_roots.setdefault(sub.trainer, sub.transcript.data_root)
        problem = transcript_problem(sub.transcript, sub.signed.commitment, global_params=task.global_params,
                                     update=flat, cfg=self.reference.training, interval=self.pol.interval,
                                     data_root=pinned)
        return f"transcript: {problem}" if problem else None

    def aggregate(self, accepted: Sequence[Accepted], task: RoundTask) -> tuple[torch.Tensor, str | None]:
        """The next global model, and None; or the unchanged model and why, when nothing was
        accepted or the rule cannot aggregate what was (Krum with fewer than 2f + 3 updates):
        a round whose attackers were all screened out must not stop the task, and pays nothing."""
        if not accepted:
            return task.global_params.clone(), "no update was accepted"
        if len(accepted) < self.aggregator.min_updates:
            return task.global_params.clone(), (f"{self.aggregator.name} needs at least {self.aggregator.min_updates} "
                                                f"updates and {len(accepted)} were accepted")
        updates = torch.stack([a.flat for a in accepted])
        weights = torch.tensor([float(a.samples) for a in accepted])
        root = None
        if self.aggregator.name == "fltrust":
            if self.root is None:
                raise ProtocolError("fltrust needs the task's root set, its trusted data")
            root = self.root.update(task, epochs=self.aggregator.params.get("root-epochs"))
        try:
            return task.global_params + self.aggregator(updates, weights, root_update=root), None
        except LearningError as exc:  # e.g. FLTrust's reference gives no direction this round
            return task.global_params.clone(), str(exc)

    def score_seed(self, task: RoundTask) -> int:
        """The round's scoring seed (GTG-Shapley's permutations), the same for every validator: drawn
        from the round seed alone, so honest validators sample the same permutations and their
        scores differ only by their validation data (with a seed per validator, Monte Carlo noise
        alone made honest GTG-Shapley vectors disagree). Anyone can recompute it."""
        return int.from_bytes(task.round_seed[:8], "big") % 2**63

    def assess(self, submissions: Sequence[Submission], task: RoundTask, cohort: Mapping[str, int], *,
               min_stake: int, scoring: ScoringRules) -> Assessment:
        """Screen, aggregate and score the round on this validator's own data."""
        with self.phases.measure("screen"):
            accepted, rejected = self.screen(submissions, task, cohort, min_stake)
        with self.phases.measure("aggregate"):
            new_params, held = self.aggregate(accepted, task)
        if held is not None:  # nothing to score: the round pays nobody
            return Assessment(tuple(accepted), tuple(rejected), new_params, {}, held)
        if self.reference is None:
            raise ProtocolError("scoring needs the validator's reference data")
        updates = torch.stack([a.flat for a in accepted])
        samples = torch.tensor([float(a.samples) for a in accepted])
        with self.phases.measure("score"):
            scores = score_updates(scoring, updates, samples, task, self.reference, seed=self.score_seed(task))
        return Assessment(tuple(accepted), tuple(rejected), new_params,
                          {a.trainer: float(s) for a, s in zip(accepted, scores)})

    def scores_to_commit(self, scores: dict[str, float], seen: Mapping[str, dict[str, float]]) -> dict[str, float] | None:
        """The scores it commits to on the score board, once it is ready (None: not yet); `seen`
        holds the scores others have revealed so far. An honest validator commits its own scores
        at once, in the commit phase, before anyone reveals."""
        return scores

    def payouts(self, shared: RoundRewards) -> dict[str, int]:
        """What the round pays each account: the trainers' rewards and the validators' shares."""
        rewards = {**shared.trainer_rewards}
        for account, amount in shared.validator_rewards.items():
            if amount:
                rewards[account] = rewards.get(account, 0) + amount
        return rewards

    def conclude(self, assessment: Assessment, shared: RoundRewards, *, ledger: RewardLedger,
                 settles: bool) -> RoundOutcome:
        """The result this validator stands for, from its own aggregate and the shared rewards."""
        rewards = self.payouts(shared)
        mine = ledger.fork()
        mine.credit(rewards, accepted=() if assessment.held else assessment.trainers)
        table = mine.preview() if settles else None
        accepted = assessment.accepted
        updates_root = MerkleTree([a.signed.commitment.leaf() for a in accepted]).root if accepted else ZERO32
        result = RoundResult(
            model_hash=model_hash(self.rules.spec.unflatten(assessment.new_params)),
            updates_root=updates_root,
            rewards_root=table.root if table else ZERO32,
            cumulative_total=table.total if table else 0,
            scores_root=shared.scores_root,
        )
        return RoundOutcome(accepted, assessment.rejected, assessment.new_params, rewards, result, mine, table,
                            assessment.held)


def _protocol_problem(
    sub: Submission, task: RoundTask, cohort: Mapping[str, int], min_stake: int, seen: set[str], domain: Domain
) -> str | None:
    c = sub.signed.commitment
    if sub.trainer not in cohort:
        return "not selected this round"
    if sub.trainer in seen:
        return "duplicate submission"
    if (c.task_id, c.round) != (task.task_id, task.round):
        return f"commitment is for task {c.task_id} round {c.round}"
    if cohort[sub.trainer] < min_stake:
        return f"stake {cohort[sub.trainer]} below the task minimum {min_stake}"
    try:
        verify_commitment(sub.signed, domain)
    except SignatureError as exc:
        return f"bad signature: {exc}"
    return None
