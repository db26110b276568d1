"""Pricing: the contribution record every party keeps alike, the auction's public inputs, and what a
reverse-auction round pays."""

from fractions import Fraction

import pytest

from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import Domain
from fedstake.econ.auction import quality
from fedstake.errors import ConfigError, ProtocolError
from fedstake.protocol.asks import Ask, sign_ask
from fedstake.protocol.pricing import ContributionRecord, check_pricing, run_auction
from fedstake.protocol.scoring import auction_pay

DOMAIN = Domain("fedstake", "1", 31337, "0x" + "cd" * 20)
VETERAN, NEWCOMER, UNREGISTERED = (derive_account(2, n) for n in ("veteran", "newcomer", "unregistered"))


def test_a_newcomer_starts_at_one_and_a_trainer_scoring_nothing_sinks():
    record = ContributionRecord()
    assert record.factor("0xnew") == 1
    record.add({"0xgood": 0.5, "0xnone": 0.0})  # 0.5 of two is an even share
    record.add({"0xgood": 1.0, "0xnone": 0.0})
    assert record.factor("0xgood") == Fraction(1 + 1 + 2, 3)  # the second round counts twice an even share, capped
    assert record.factor("0xnone") == Fraction(1, 3)


def test_quality_is_samples_times_reputation_factor_times_contribution():
    assert quality(samples=10, reputation=1, contribution=Fraction(1)) == 10
    assert quality(samples=10, reputation=4, contribution=Fraction(1, 2)) == 15
    assert quality(samples=10, reputation=0, contribution=Fraction(1)) == 0


def _asks():
    return [sign_ask(Ask(1, a.address, 10**18, 50, 1, 5), DOMAIN, a) for a in (VETERAN, NEWCOMER, UNREGISTERED)]


def test_an_unregistered_trainer_cannot_bid_and_reputation_wins_a_tie_on_price():
    reputations = {VETERAN.address: 8, NEWCOMER.address: 1, UNREGISTERED.address: 0}
    out = run_auction(_asks(), domain=DOMAIN, task_id=1, round=2, candidates=list(reputations),
                      reputations=reputations, contributions=ContributionRecord(), budget=10**19, cap=1)
    assert out.rejected == {UNREGISTERED.address: "no reputation (unregistered)"}
    assert out.outcome.winners == (VETERAN.address,)
    assert out.outcome.payments[VETERAN.address] == 4 * 10**18  # the newcomer's price per quality x 4x the quality
    assert len(out.leaves()) == 2 and out.samples() == {VETERAN.address: 50, NEWCOMER.address: 50}


def test_a_round_pays_winners_that_scored_and_never_beyond_the_budget():
    assert auction_pay({"0xa": 5, "0xb": 7}, {"0xa": 0.3, "0xb": 0.0, "0xc": 0.2}, budget=12) == \
        {"0xa": 5, "0xb": 0, "0xc": 0}
    with pytest.raises(ProtocolError, match="exceed the trainers' budget"):
        auction_pay({"0xa": 5, "0xb": 7}, {"0xa": 1.0, "0xb": 1.0}, budget=11)


def test_pricing_modes_are_named():
    assert check_pricing("reverse-auction") == "reverse-auction"
    with pytest.raises(ConfigError, match="task.pricing: unknown pricing 'auction'"):
        check_pricing("auction")
