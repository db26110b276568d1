import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.econ.rewards import (RULES, agreement_bonds, allocate, by_samples, proportional, reputation_factor, round_budget,
                                   split_budget, validator_rewards)
from fedstake.errors import ConfigError, ProtocolError
from fedstake.proof.consensus import consensus

weights = st.dictionaries(st.text(min_size=1, max_size=4), st.floats(-5, 1e6, allow_nan=False), max_size=30)


@given(weights, st.integers(0, 10**24))
def test_proportional_never_exceeds_the_budget_and_pays_no_one_without_weight(w, budget):
    out = proportional(w, budget)
    assert sum(out.values()) <= budget
    assert all(out[k] == 0 for k, v in w.items() if v <= 0)
    assert all(v >= 0 for v in out.values())


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(1, 10_000), min_size=1, max_size=30),
       st.integers(10**18, 10**24))
def test_by_samples_leaves_less_than_one_unit_per_trainer_unallocated(samples, budget):
    out = by_samples(samples, budget)
    assert budget - len(samples) < sum(out.values()) <= budget


def test_by_samples_is_proportional():
    assert by_samples({"a": 1, "b": 3}, 400) == {"a": 100, "b": 300}


def test_round_budget_splits_evenly_rounding_down():
    assert round_budget(100, 3) == 33


# --- rules from consensus scores ----------------------------------------------------------------


names = st.text("abcdefgh", min_size=1, max_size=3)


@st.composite
def rounds(draw):
    """Accepted trainers with scores (some zero or negative), sample counts and reputations."""
    accepted = draw(st.lists(names, max_size=12, unique=True))
    score = st.sampled_from([-1.0, 0.0, 0.25, 1.0]) | st.floats(-10, 1e6, allow_nan=False)
    return dict(
        accepted=accepted,
        scores={who: draw(score) for who in accepted},
        samples={who: draw(st.integers(0, 10_000)) for who in accepted},
        reputation={who: draw(st.integers(0, 1_000)) for who in accepted},
    )


budgets = st.integers(0, 10**24)


@given(st.sampled_from(sorted(RULES)), rounds(), budgets)
@settings(max_examples=200)
def test_no_rule_pays_above_the_budget_or_anyone_without_a_positive_score(rule, case, budget):
    out = allocate(rule, budget=budget, **case)
    assert set(out) == set(case["accepted"])
    assert all(v >= 0 for v in out.values()) and sum(out.values()) <= budget
    assert all(out[who] == 0 for who, s in case["scores"].items() if s <= 0)


@given(st.sampled_from(sorted(RULES)), rounds(), budgets, st.data())
@settings(max_examples=100)
def test_rules_are_deterministic_and_ignore_the_order_of_trainers(rule, case, budget, data):
    shuffled = dict(case, accepted=data.draw(st.permutations(case["accepted"])))
    assert allocate(rule, budget=budget, **shuffled) == allocate(rule, budget=budget, **case)


@given(st.sampled_from(["loo", "shapley"]), rounds(), budgets)
@settings(max_examples=100)
def test_score_rules_pay_the_floor_of_the_exact_score_share(rule, case, budget):
    out = allocate(rule, budget=budget, **case)
    positive = {who: Fraction(s) for who, s in case["scores"].items() if s > 0}
    total = sum(positive.values(), Fraction(0))
    for who, share in positive.items():
        assert out[who] == math.floor(budget * share / total)


@given(rounds(), st.integers(10**18, 10**24))
@settings(max_examples=100)
def test_equal_pays_every_positive_scorer_the_same_and_samples_follows_sample_counts(case, budget):
    earning = [who for who in case["accepted"] if case["scores"][who] > 0]
    equal = allocate("equal", budget=budget, **case)
    assert len({equal[who] for who in earning}) <= 1
    assert sum(equal.values()) > budget - len(earning) - 1 or not earning
    by_count = allocate("samples", budget=budget, **case)
    counted = sum(case["samples"][who] for who in earning)
    for who in earning:
        assert by_count[who] == budget * case["samples"][who] // counted if counted else by_count[who] == 0


def test_samples_rule_pays_only_positive_scorers_by_their_counts():
    out = allocate("samples", budget=900, accepted=["a", "b", "c"], scores={"a": 0.1, "b": 5.0, "c": 0.0},
                   samples={"a": 100, "b": 200, "c": 10_000})
    assert out == {"a": 300, "b": 600, "c": 0}


def test_reputation_weighs_the_score_by_one_plus_log2_reputation():
    scores = {"newcomer": 1.0, "veteran": 1.0, "unregistered": 1.0, "better": 2.0}
    reputation = {"newcomer": 1, "veteran": 8, "unregistered": 0, "better": 1}
    out = allocate("reputation", budget=700, accepted=list(scores), scores=scores, reputation=reputation)
    assert out == {"newcomer": 100, "veteran": 400, "unregistered": 0, "better": 200}


@given(st.integers(1, 10**12))
def test_reputation_factor_is_exact_on_powers_of_two_and_matches_log2(reputation):
    factor = reputation_factor(reputation)
    assert abs(float(factor) - (1 + math.log2(reputation))) < 1e-14
    assert reputation_factor(2 * reputation) - factor == 1 or reputation.bit_length() > 60
    assert reputation_factor(2 ** (reputation % 200)) == 1 + reputation % 200


def test_reputation_factor_of_no_reputation_is_zero():
    assert reputation_factor(0) == 0 and reputation_factor(-3) == 0


def test_unknown_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="rewards.rule"):
        allocate("median", budget=10, accepted=["a"], scores={"a": 1.0})


@pytest.mark.parametrize("rule, tables, missing", [
    ("loo", {"scores": {}}, "consensus score"),
    ("samples", {"scores": {"a": 1.0}}, "sample count"),
    ("reputation", {"scores": {"a": 1.0}, "reputation": {"b": 3}}, "reputation"),
    ("shapley", {"scores": {"a": float("nan")}}, "is nan"),
])
def test_missing_or_broken_inputs_for_an_accepted_trainer_are_protocol_errors(rule, tables, missing):
    with pytest.raises(ProtocolError, match=missing):
        allocate(rule, budget=10, accepted=["a"], **tables)


def test_a_trainer_without_a_positive_score_needs_no_other_inputs():
    assert allocate("samples", budget=10, accepted=["a"], scores={"a": -2.0}) == {"a": 0}


@given(budgets, st.floats(0, 1))
def test_split_budget_adds_up_and_rounds_the_validators_down(budget, share):
    trainers, validators = split_budget(budget, validator_share=share)
    assert trainers + validators == budget and 0 <= validators <= budget * share + 1e-9 * budget


def test_split_budget_reads_the_share_as_a_decimal():
    assert split_budget(10, validator_share=0.3) == (7, 3)
    assert split_budget(10**22, validator_share=0.1) == (9 * 10**21, 10**21)
    assert split_budget(5, validator_share=0.0) == (5, 0) and split_budget(5, validator_share=1.0) == (0, 5)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_split_budget_rejects_shares_outside_zero_one(share):
    with pytest.raises(ConfigError, match="rewards.validator-share"):
        split_budget(10, validator_share=share)


def test_validators_are_paid_by_their_consensus_weights():
    """Three honest validators agree; the fourth inflates trainer t0 and is paid less."""
    honest = [0.0, 1.0, 2.0, 3.0]
    scores = np.array([honest, honest, honest, [6.0, 1.0, 2.0, 3.0]])
    weights = consensus(scores, np.ones(4)).validator_weights
    out = validator_rewards(["v0", "v1", "v2", "liar"], weights, 10**18)
    assert out["v0"] == out["v1"] == out["v2"] > out["liar"] and sum(out.values()) <= 10**18


def test_validator_rewards_need_one_weight_per_distinct_validator():
    with pytest.raises(ProtocolError):
        validator_rewards(["v0", "v1"], [1.0], 10)
    with pytest.raises(ProtocolError):
        validator_rewards(["v0", "v0"], [1.0, 1.0], 10)


def test_agreement_bonds_are_an_ema_so_one_lucky_round_moves_little():
    steady = {"v:honest": 0.8, "v:lucky": 0.1}
    after = agreement_bonds(steady, {"v:honest": 0.8, "v:lucky": 1.0, "v:new": 1.0}, ema=0.2)
    assert after["v:honest"] == pytest.approx(0.8)
    assert after["v:lucky"] == pytest.approx(0.28) and after["v:new"] == pytest.approx(0.2)
    assert agreement_bonds({"v:silent": 0.5}, {}, ema=0.2) == {"v:silent": pytest.approx(0.4)}
    assert agreement_bonds(steady, {"v:lucky": 1.0}, ema=1.0)["v:lucky"] == 1.0  # 1: this round alone


@pytest.mark.parametrize("ema", [0.0, -0.1, 1.5])
def test_agreement_bonds_reject_an_ema_outside_zero_one(ema):
    with pytest.raises(ConfigError, match="proof.agreement-ema"):
        agreement_bonds({}, {"v": 1.0}, ema=ema)
