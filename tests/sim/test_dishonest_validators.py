"""Dishonest validators screen and aggregate as the honest one does and lie where it could pay."""

import pytest

from fedstake.errors import ConfigError
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.scoring import ScoringRules, reward_round
from fedstake.protocol.validator import Validator
from fedstake.sim.dishonest_validators import (ColludingValidator, LazyCopyValidator, RandomValidator,
                                               SelfPayingValidator)

STAKE = 100
BY_SAMPLES = ScoringRules(scorer="trust", rule="samples", validator_share=0.0, sybil_defence=False)


@pytest.fixture
def round_subs(make_trainer, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(3)]
    return [t.respond(round_task) for t in trainers], {t.address: STAKE for t in trainers}


def assess(validator, round_task, round_subs):
    subs, cohort = round_subs
    return validator.assess(subs, round_task, cohort, min_stake=10, scoring=BY_SAMPLES)


@pytest.mark.parametrize("behaviour, role", [("honest", Validator), ("self-pay", SelfPayingValidator),
                                             ("random", RandomValidator), ("collude", ColludingValidator),
                                             ("lazy-copy", LazyCopyValidator)])
def test_each_behaviour_is_its_wrapper_of_the_honest_validator(make_validator, behaviour, role):
    validator = make_validator(behaviour=behaviour)
    assert type(validator) is role and isinstance(validator, Validator)


def test_an_unknown_behaviour_is_refused_naming_its_key(make_validator):
    with pytest.raises(ConfigError, match="validators.behaviour: unknown behaviour 'lazy'"):
        make_validator(behaviour="lazy")


def test_a_self_paying_validator_takes_half_the_trainers_rewards(make_validator, round_task, round_subs):
    honest, greedy = make_validator("h"), make_validator("g", behaviour="self-pay")
    fair, grab = (v.conclude(a, _shared(v, a, round_task), ledger=RewardLedger(), settles=True)
                  for v, a in ((v, assess(v, round_task, round_subs)) for v in (honest, greedy)))
    assert grab.rewards[greedy.address] == 450 and all(grab.rewards[t] == 150 for t in fair.rewards)
    assert grab.result.model_hash == fair.result.model_hash and grab.result.rewards_root != fair.result.rewards_root


def test_random_and_colluding_validators_distort_only_their_reported_scores(make_validator, round_task, round_subs):
    honest = assess(make_validator("h"), round_task, round_subs)
    noisy = assess(make_validator("r", behaviour="random"), round_task, round_subs)
    friend = sorted(honest.scores)[0]
    inflated = assess(make_validator("c", behaviour="collude", colluders=frozenset({friend})), round_task, round_subs)
    assert noisy.scores != honest.scores and noisy.scores.keys() == honest.scores.keys()
    assert all(0 <= s < 1 for s in noisy.scores.values()) and noisy.new_params.equal(honest.new_params)
    assert inflated.scores[friend] == pytest.approx(sum(abs(v) for v in honest.scores.values()), rel=1e-12)
    assert {t: s for t, s in inflated.scores.items() if t != friend} == {t: s for t, s in honest.scores.items()
                                                                         if t != friend}
    assert inflated.trainers == honest.trainers


def test_a_held_round_leaves_a_liar_nothing_to_misreport(make_validator, round_task):
    held = make_validator("r", behaviour="random").assess([], round_task, {}, min_stake=10, scoring=BY_SAMPLES)
    assert held.held == "no update was accepted" and held.scores == {}


def _shared(validator, assessment, task):
    """The round's rewards when `validator` is its only validator."""
    trainers, v = list(assessment.trainers), validator.address
    return reward_round(BY_SAMPLES, task.round, trainers, {v: [assessment.scores[t] for t in trainers]}, {v: 1},
                        budget=900, samples={a.trainer: a.samples for a in assessment.accepted},
                        reputation={t: 1 for t in trainers}, histories={a.trainer: a.flat for a in assessment.accepted})


def test_a_lazy_copier_reports_last_rounds_consensus(make_validator, round_task, round_subs):
    lazy = make_validator("l", behaviour="lazy-copy")
    first = assess(lazy, round_task, round_subs)
    assert set(first.scores.values()) == {1.0}  # no consensus seen yet: a flat guess
    lazy.conclude(first, _shared(lazy, first, round_task), ledger=RewardLedger(), settles=True)
    seen = dict(lazy.last)
    again = assess(lazy, round_task, round_subs)
    assert again.scores == seen and again.new_params.equal(first.new_params)
