"""How a task buys its rounds: `fixed` (the cohort drawn by stake, the budget split by the reward
rule) or `reverse-auction` (the cohort and its prices from the trainers' signed asks).

In an auction round the coordinator and every validator run `run_auction` on the same inputs:
the round's signed asks (relayed with the round's task), the trainers' reputations on chain, and
the record of past consensus scores that every validator adopts with each final round. The
winners are the cohort; each winner whose update is accepted and scores above zero is paid its
critical price out of the trainers' part of the round's budget; the rest stays in escrow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from fedstake.chain.eip712 import Domain
from fedstake.econ.auction import CONTRIBUTION_SCALE, AuctionOutcome, Bid, contribution_factor, quality, \
    reverse_auction
from fedstake.econ.rewards import split_budget
from fedstake.errors import ConfigError
from fedstake.protocol.asks import SignedAsk, valid_asks

PRICING = ("fixed", "reverse-auction")
RELATIVE_CAP = 2  # a round's relative score counts up to twice an even share


def auction_budget(round_budget: int, *, validator_share: float) -> int:
    """What the auction may spend: the trainers' part of the round's budget (validators keep theirs)."""
    return split_budget(round_budget, validator_share=validator_share)[0]


def check_pricing(mode: str) -> str:
    if mode not in PRICING:
        raise ConfigError("task.pricing", f"unknown pricing {mode!r}; choose from {list(PRICING)}")
    return mode


@dataclass
class ContributionRecord:
    """Past consensus scores per trainer, as relative shares in millionths (integers, so every
    party that adopted the same final rounds holds the same record)."""

    totals: dict[str, int] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)

    def add(self, consensus: Mapping[str, float]) -> None:
        """A final round's consensus: each scored trainer's score x the number scored (1 = an even share)."""
        n = len(consensus)
        for trainer, score in consensus.items():
            relative = min(max(score, 0.0) * n, RELATIVE_CAP)
            self.totals[trainer] = self.totals.get(trainer, 0) + round(relative * CONTRIBUTION_SCALE)
            self.rounds[trainer] = self.rounds.get(trainer, 0) + 1

    def factor(self, trainer: str) -> Fraction:
        return contribution_factor(self.totals.get(trainer, 0), self.rounds.get(trainer, 0))


@dataclass(frozen=True)
class RoundAuction:
    """One round's auction: the asks that bid (what the round's record commits to), the asks left
    out and why, and the outcome."""

    asks: tuple[SignedAsk, ...]
    rejected: dict[str, str]
    outcome: AuctionOutcome

    @property
    def prices(self) -> dict[str, int]:
        return dict(self.outcome.payments)

    def samples(self) -> dict[str, int]:
        return {a.trainer: a.ask.samples for a in self.asks}

    def leaves(self) -> list[bytes]:
        return [a.ask.leaf() for a in self.asks]


def run_auction(asks: Iterable[SignedAsk], *, domain: Domain, task_id: int, round: int, candidates: Sequence[str],
                reputations: Mapping[str, int], contributions: ContributionRecord, budget: int,
                cap: int) -> RoundAuction:
    """The round's auction, from public inputs only: anyone holding them gets the same winners and payments."""
    bidding, rejected = valid_asks(asks, domain, task_id=task_id, round=round, candidates=candidates)
    bids, kept = [], []
    for signed in bidding:
        q = quality(samples=signed.ask.samples, reputation=reputations[signed.trainer],
                    contribution=contributions.factor(signed.trainer))
        if q > 0:
            bids.append(Bid(signed.trainer, signed.ask.price, q))
            kept.append(signed)
        else:
            rejected[signed.trainer] = "no reputation (unregistered)"
    return RoundAuction(tuple(kept), rejected, reverse_auction(bids, budget=budget, cap=cap))
