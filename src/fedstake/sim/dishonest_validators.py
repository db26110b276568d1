"""Simulated dishonest validators, wrapping the honest one (`protocol.validator.Validator`).

Each screens and aggregates as the honest validator does (an aggregate
that differs would only be outvoted) and lies where lying could pay:

- self-pay: proposes a rewards table moving half of the trainers' rewards
  to itself, the proposal the quorum and the disputes exist to stop;
- random: reports noise for its scores;
- collude: reports its colluders' scores inflated to the whole cohort's,
  the liars the stake-weighted score consensus clips;
- lazy-copy: scores nothing itself and reports last round's consensus
  (Bittensor's weight copying);
- late-copy: waits for the others' scores of this round and reports their
  mean. Under the score board's commit-reveal (`protocol.board`) that is
  all such a validator can do: it has nothing to copy before the others
  reveal, and by then the commit phase is over, so its late commitment is
  refused and it has nothing to reveal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from fedstake.errors import ConfigError
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.scoring import RoundRewards, ScoringRules
from fedstake.protocol.validator import Assessment, Validator


@dataclass
class SelfPayingValidator(Validator):
    """Moves half of every trainer's reward to itself in the result it stands for."""

    def payouts(self, shared: RoundRewards) -> dict[str, int]:
        rewards = super().payouts(shared)
        grab = sum(v - v // 2 for v in shared.trainer_rewards.values())
        rewards.update({t: v // 2 for t, v in shared.trainer_rewards.items()})
        rewards[self.address] = rewards.get(self.address, 0) + grab
        return rewards


@dataclass
class MisreportingValidator(Validator):
    """Scores honestly, then reports `misreport` of its scores instead."""

    def assess(self, submissions: Sequence[Submission], task: RoundTask, cohort: Mapping[str, int], *,
               min_stake: int, scoring: ScoringRules) -> Assessment:
        honest = super().assess(submissions, task, cohort, min_stake=min_stake, scoring=scoring)
        if not honest.scores:  # a held round: nothing to report
            return honest
        return dataclasses.replace(honest, scores=self.misreport(honest.scores, task))

    def misreport(self, scores: dict[str, float], task: RoundTask) -> dict[str, float]:
        raise NotImplementedError


@dataclass
class RandomValidator(MisreportingValidator):
    """Reports uniform noise, drawn from its own scoring seed."""

    def misreport(self, scores: dict[str, float], task: RoundTask) -> dict[str, float]:
        seed = self.score_seed(task) ^ int(self.address, 16) % 2**63  # its own noise, not the shared seed
        noise = torch.rand(len(scores), generator=torch.Generator().manual_seed(seed))
        return {t: float(s) for t, s in zip(scores, noise.double().numpy())}


@dataclass
class ColludingValidator(MisreportingValidator):
    """Reports each of its `colluders` with the whole cohort's score (the sum of absolute scores)."""

    colluders: frozenset[str] = field(default=frozenset(), kw_only=True)

    def misreport(self, scores: dict[str, float], task: RoundTask) -> dict[str, float]:
        total = float(abs(np.array(list(scores.values()), dtype=np.float64)).sum()) or 1.0
        return {t: total if t in self.colluders else s for t, s in scores.items()}


@dataclass
class LazyCopyValidator(MisreportingValidator):
    """Reports the consensus it saw last round (a trainer new to it: that consensus's mean; in the
    first round, before any consensus, the flat guess 1 for everyone)."""

    last: dict[str, float] = field(default_factory=dict, kw_only=True, repr=False)

    def misreport(self, scores: dict[str, float], task: RoundTask) -> dict[str, float]:
        fill = float(np.mean(list(self.last.values()))) if self.last else 1.0
        return {t: self.last.get(t, fill) for t in scores}

    def conclude(self, assessment: Assessment, shared: RoundRewards, **kwargs):
        if shared.consensus:
            self.last = dict(shared.consensus)
        return super().conclude(assessment, shared, **kwargs)


@dataclass
class LateCopyValidator(Validator):
    """Commits nothing until it has seen others' scores of this round, then the mean of those."""

    def scores_to_commit(self, scores: dict[str, float], seen: Mapping[str, dict[str, float]]) -> dict[str, float] | None:
        if not seen:
            return None  # waits for someone to reveal
        return {t: float(np.mean([s.get(t, 0.0) for s in seen.values()])) for t in scores}


VALIDATORS: dict[str, type[Validator]] = {
    "honest": Validator, "self-pay": SelfPayingValidator, "random": RandomValidator, "collude": ColludingValidator,
    "lazy-copy": LazyCopyValidator, "late-copy": LateCopyValidator,
}


def make_validator(behaviour: str, *, colluders: frozenset[str] = frozenset(), key: str = "validators",
                   **fields) -> Validator:
    """A scenario validator: the honest one, or its wrapper for `behaviour`; `fields` are the honest
    validator's, `colluders` the trainers a colluding one inflates."""
    if behaviour not in VALIDATORS:
        raise ConfigError(f"{key}.behaviour", f"unknown behaviour {behaviour!r}; choose from {list(VALIDATORS)}")
    if behaviour == "collude":
        return ColludingValidator(**fields, colluders=colluders)
    return VALIDATORS[behaviour](**fields)
