"""The reverse auction: budget never exceeded, winners paid at least their ask, no gain from
misreporting, and critical prices that are the exact thresholds of winning."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.econ.auction import Bid, critical_price, ranked, reverse_auction
from fedstake.errors import ProtocolError

MISREPORTS = [Fraction(n, 10) for n in range(5, 21)]  # 0.5x .. 2.0x the true cost


@st.composite
def markets(draw, max_bidders=12):
    """A cohort of bidders with true costs and qualities, a budget and a cap."""
    n = draw(st.integers(1, max_bidders))
    costs = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    qualities = draw(st.lists(st.fractions(Fraction(1, 100), 1000), min_size=n, max_size=n))
    bids = [Bid(f"0x{i:02x}", c, q) for i, (c, q) in enumerate(zip(costs, qualities))]
    budget = draw(st.integers(0, 5 * 10**6))
    cap = draw(st.integers(0, n + 1))
    return bids, budget, cap


def _prefix(order):
    out = [Fraction(0)]
    for b in order:
        out.append(out[-1] + b.quality)
    return out


def _linear_critical_price(bid, others, budget, cap):
    """The reference: every stretch of asks in turn (t others ahead), the best ask winning in it."""
    best, ahead = Fraction(0), Fraction(0)
    for t in range(min(len(others), cap - 1) + 1):
        share = budget * bid.quality / (ahead + bid.quality)
        if t < len(others):
            share = min(share, others[t].ratio * bid.quality)
            ahead += others[t].quality
        best = max(best, share)
    return best


def _utility(bids, i, ask, cost, budget, cap):
    played = [b if j != i else Bid(b.bidder, ask, b.quality) for j, b in enumerate(bids)]
    out = reverse_auction(played, budget=budget, cap=cap)
    return out.payments[bids[i].bidder] - cost if bids[i].bidder in out.payments else 0


@given(markets(max_bidders=30))
def test_payments_never_exceed_the_budget_and_cover_each_winners_ask(market):
    bids, budget, cap = market
    out = reverse_auction(bids, budget=budget, cap=cap)
    assert out.total <= budget
    assert len(out.winners) <= cap
    asks = {b.bidder: b.price for b in bids}
    assert all(out.payments[w] >= asks[w] for w in out.winners)  # individually rational
    assert set(out.payments) == set(out.winners)


@settings(max_examples=150)
@given(markets())
def test_no_bidder_gains_by_misreporting_its_cost(market):
    bids, budget, cap = market
    for i, bid in enumerate(bids):
        truthful = _utility(bids, i, bid.price, bid.price, budget, cap)
        assert truthful >= 0
        for factor in MISREPORTS:
            ask = int(bid.price * factor)
            assert _utility(bids, i, ask, bid.price, budget, cap) <= truthful, (i, factor)


@settings(max_examples=100)
@given(markets(max_bidders=8), st.data())
def test_the_critical_price_is_the_threshold_of_winning(market, data):
    bids, budget, cap = market
    i = data.draw(st.integers(0, len(bids) - 1))
    bid = bids[i]
    order = ranked(bids)
    threshold = critical_price(order, _prefix(order), order.index(bid), budget, cap)
    assert threshold == _linear_critical_price(bid, ranked(bids[:i] + bids[i + 1:]), budget, cap)

    def wins(ask):
        played = bids[:i] + [Bid(bid.bidder, ask, bid.quality)] + bids[i + 1:]
        return bid.bidder in reverse_auction(played, budget=budget, cap=cap).winners

    below, above = int(threshold) - (threshold.denominator == 1), int(threshold) + 1
    if below >= 0:
        assert wins(below)
        assert wins(0)
    assert not wins(above)
    assert not wins(above + data.draw(st.integers(0, 10**6)))


def test_cheapest_per_quality_wins_and_is_paid_the_runner_ups_price_per_its_quality():
    bids = [Bid("0xa", 10, Fraction(1)), Bid("0xb", 40, Fraction(2)), Bid("0xc", 30, Fraction(1))]
    out = reverse_auction(bids, budget=1000, cap=2)
    assert out.winners == ("0xa", "0xb")  # ratios 10, 20, 30
    assert out.payments == {"0xa": 30, "0xb": 60}  # the cap binds: each could ask up to 0xc's ratio


def test_the_budget_rule_stops_the_ranking():
    bids = [Bid("0xa", 10, Fraction(1)), Bid("0xb", 30, Fraction(1)), Bid("0xc", 40, Fraction(1))]
    out = reverse_auction(bids, budget=60, cap=3)
    assert out.winners == ("0xa", "0xb")  # 0xc asks 40 > 60 / 3
    assert out.payments == {"0xa": 30, "0xb": 30}  # each up to 60 / 2
    assert out.total == 60


def test_ties_break_by_address_and_the_outcome_ignores_input_order():
    bids = [Bid("0xb", 10, Fraction(1)), Bid("0xa", 10, Fraction(1)), Bid("0xc", 10, Fraction(1))]
    out = reverse_auction(bids, budget=1000, cap=1)
    assert out.winners == ("0xa",)
    assert reverse_auction(list(reversed(bids)), budget=1000, cap=1) == out


def test_no_budget_or_no_seats_selects_nobody():
    bids = [Bid("0xa", 1, Fraction(1))]
    assert reverse_auction(bids, budget=0, cap=3).winners == ()
    assert reverse_auction(bids, budget=10, cap=0).winners == ()
    assert reverse_auction([], budget=10, cap=3).winners == ()


@pytest.mark.parametrize("bids, problem", [
    ([Bid("0xa", 1, Fraction(1)), Bid("0xa", 2, Fraction(1))], "two bids from one bidder"),
    ([Bid("0xa", -1, Fraction(1))], "has price -1"),
    ([Bid("0xa", 1, Fraction(0))], "quality 0"),
])
def test_malformed_bids_are_refused(bids, problem):
    with pytest.raises(ProtocolError, match=problem):
        reverse_auction(bids, budget=10, cap=1)


@settings(max_examples=60)
@given(markets(max_bidders=40))
def test_the_binary_search_finds_the_linear_scans_critical_price_for_every_bidder(market):
    bids, budget, cap = market
    order = ranked(bids)
    prefix = _prefix(order)
    for i, bid in enumerate(order):
        others = order[:i] + order[i + 1:]
        assert critical_price(order, prefix, i, budget, max(cap, 1)) == \
            _linear_critical_price(bid, others, budget, max(cap, 1))
