"""A truthful, budget-feasible reverse auction for a round's cohort (Singer's proportional share).

Each trainer asks a price for its round (in base units) and carries a
quality its ask cannot change (`quality`: sample count, on-chain
reputation, past contribution scores). Bids are ranked by price per unit
of quality; the winners are the longest prefix of that ranking whose last
member still asks no more than its proportional share of the budget,
`price_k <= budget * q_k / (q_1 + ... + q_k)`, capped at the cohort size.
Each winner is paid its critical price: the highest ask at which it would
still have won, the others' asks fixed (Singer, "Budget Feasible
Mechanisms", FOCS 2010; the quality-weighted form is RRAFL's). The rule is
monotone (asking less never loses a round that asking more won) and pays
the threshold, so asking one's true cost is a dominant strategy; and each
payment is at most `budget * q_i / Q`, where Q is the winners' total
quality, so payments never sum above the budget.

Everything is exact: prices and budgets are integers, qualities are
Fractions, ties in the ranking break by address, and a payment is the
critical price rounded down. Anyone holding the asks and the qualities
recomputes the same winners and the same payments to the base unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from fedstake.econ.rewards import reputation_factor
from fedstake.errors import ProtocolError

CONTRIBUTION_SCALE = 10**6  # past contribution scores are kept in millionths


@dataclass(frozen=True)
class Bid:
    """One trainer's ask for a round: `price` in base units, `quality` (> 0) from what it cannot misreport."""

    bidder: str
    price: int
    quality: Fraction

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.price) / self.quality

    def key(self) -> tuple[Fraction, str]:
        """The ranking: cheapest per unit of quality first, ties by address."""
        return self.ratio, self.bidder


@dataclass(frozen=True)
class AuctionOutcome:
    """The winners in rank order and what each is paid (base units)."""

    winners: tuple[str, ...]
    payments: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.payments.values())


def ranked(bids: Sequence[Bid]) -> list[Bid]:
    """The bids in auction order, checked: distinct bidders, prices >= 0, qualities > 0."""
    if len({b.bidder for b in bids}) != len(bids):
        raise ProtocolError("auction: two bids from one bidder")
    for b in bids:
        if b.price < 0 or not b.quality > 0:
            raise ProtocolError(f"auction: bid of {b.bidder} has price {b.price} and quality {b.quality}")
    return sorted(bids, key=Bid.key)


def winner_count(order: Sequence[Bid], budget: int, cap: int) -> int:
    """Length of the winning prefix: the condition fails once and stays failed (ratios rise while
    the proportional share of the budget falls), so the first failure ends it."""
    total = Fraction(0)
    for k, bid in enumerate(order[:cap]):
        total += bid.quality
        if bid.price * total > budget * bid.quality:
            return k
    return min(len(order), cap)


def critical_price(order: Sequence[Bid], prefix: Sequence[Fraction], i: int, budget: int, cap: int) -> Fraction:
    """The supremum of the asks with which `order[i]` wins, the others' asks fixed (`prefix[t]`
    is the quality of `order[:t]`).

    Asking so that t others rank ahead of it, it wins iff t < cap and its ask is at most
    share(t) = budget * q / (Q_t + q), Q_t the first t others' quality; within that stretch of
    asks the best is the smaller of share(t) and reach(t) = q x the (t+1)-th other's ratio, the
    ask at which that one would pass it. reach rises with t and share falls, so the best of
    the smaller is where they cross: a binary search, O(log n) per winner.
    """
    bid, others = order[i], len(order) - 1
    last = min(others, cap - 1)  # the most others it may have ahead and still sit within the cap

    def reach(t: int) -> Fraction | None:  # None: no other left to pass it
        return None if t >= others else order[t if t < i else t + 1].ratio * bid.quality

    def share(t: int) -> Fraction:
        ahead = prefix[t] if t <= i else prefix[t + 1] - bid.quality
        return budget * bid.quality / (ahead + bid.quality)

    low, high = 0, last + 1  # the first t in [0, last] where reach(t) >= share(t), or last + 1
    while low < high:
        mid = (low + high) // 2
        r = reach(mid)
        if r is None or r >= share(mid):
            high = mid
        else:
            low = mid + 1
    below = reach(low - 1) if low > 0 else Fraction(0)  # the best while reach is the smaller
    return max(below, share(low)) if low <= last else below


def reverse_auction(bids: Sequence[Bid], *, budget: int, cap: int) -> AuctionOutcome:
    """Winners (at most `cap`) and their critical payments, which sum to at most `budget`."""
    if budget < 0 or cap < 0:
        raise ProtocolError(f"auction: budget {budget} and cap {cap} must be >= 0")
    order = ranked(bids)
    count = winner_count(order, budget, cap)
    prefix = [Fraction(0)]
    for bid in order:
        prefix.append(prefix[-1] + bid.quality)
    winners = order[:count]
    payments = {b.bidder: int(critical_price(order, prefix, i, budget, cap))  # floor: never above the threshold
                for i, b in enumerate(winners)}
    return AuctionOutcome(tuple(b.bidder for b in winners), payments)


def contribution_factor(total: int, rounds: int) -> Fraction:
    """A trainer's past contribution: the mean of its relative scores (in millionths; 1 is an even
    share of its round) over its scored rounds, with one round at 1 as the prior, so a newcomer
    starts at 1 and a trainer that keeps scoring nothing sinks toward 0."""
    if total < 0 or rounds < 0:
        raise ProtocolError(f"contribution record {total} over {rounds} rounds")
    return Fraction(CONTRIBUTION_SCALE + total, CONTRIBUTION_SCALE * (1 + rounds))


def quality(*, samples: int, reputation: int, contribution: Fraction) -> Fraction:
    """What a bid is worth per unit of price: samples x (1 + log2 on-chain reputation) x past
    contribution. None of it is in the ask's control (the samples are the ones the trainer's
    commitment must sign), and all of it is exact, so every party ranks the bids alike."""
    return samples * reputation_factor(reputation) * contribution
