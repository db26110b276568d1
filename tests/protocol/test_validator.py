import dataclasses

import pytest
import torch

from fedstake.chain.market import ZERO32
from fedstake.errors import ProtocolError
from fedstake.proof.commitment import SignedCommitment
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.messages import Submission
from fedstake.protocol.participation import play_cohort
from fedstake.protocol.scoring import ScoringRules, reward_round

STAKE = 100
BY_SAMPLES = ScoringRules(scorer="trust", rule="samples", validator_share=0.0, sybil_defence=False)


def evaluate(validator, subs, task, cohort, *, budget=900, settles=True, scoring=BY_SAMPLES):
    """The round as one validator sees it when it is the task's only validator."""
    assessment = validator.assess(subs, task, cohort, min_stake=10, scoring=scoring)
    trainers = list(assessment.trainers) if assessment.held is None else []  # a held round pays nobody
    shared = reward_round(scoring, task.round, trainers, {validator.address: [assessment.scores[t] for t in trainers]},
                          {validator.address: 1}, budget=budget,
                          samples={a.trainer: a.samples for a in assessment.accepted},
                          reputation={t: 1 for t in trainers}, histories={a.trainer: a.flat for a in assessment.accepted})
    return validator.conclude(assessment, shared, ledger=RewardLedger(), settles=settles)


def test_honest_submissions_are_accepted_and_rewarded_by_samples(make_trainer, validator, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(3)]
    outcome = evaluate(validator, play_cohort(trainers, round_task), round_task, {t.address: STAKE for t in trainers})
    assert [a.trainer for a in outcome.accepted] == sorted(t.address for t in trainers)
    assert outcome.rewards == {t.address: 300 for t in trainers}  # every honest update has a positive trust score
    assert outcome.result.rewards_root == outcome.table.root and outcome.result.cumulative_total == 900
    assert outcome.ledger.rounds == {t.address: 1 for t in trainers}
    assert outcome.result.updates_root != ZERO32
    assert not torch.equal(outcome.new_params, round_task.global_params)


def test_a_non_settlement_round_proposes_no_rewards_root_but_keeps_counting(make_trainer, validator, round_task):
    trainer = make_trainer("t")
    outcome = evaluate(validator, play_cohort([trainer], round_task), round_task, {trainer.address: STAKE},
                       settles=False)
    assert outcome.result.rewards_root == ZERO32 and outcome.result.cumulative_total == 0 and outcome.table is None
    assert outcome.ledger.amounts == {trainer.address: 900}


def test_each_protocol_violation_is_rejected_with_its_reason(make_trainer, validator, round_task):
    selected, poor, forger, late, outsider = (make_trainer(n) for n in ("selected", "poor", "forger", "late", "outsider"))
    good = play_cohort([selected], round_task)[0]
    wrong_round = play_cohort([late], dataclasses.replace(round_task, round=2))[0]
    forged_commitment = dataclasses.replace(play_cohort([forger], round_task)[0].signed.commitment, samples=10_000)
    forged = Submission(SignedCommitment(forged_commitment, good.signed.signature), good.payload)
    subs = [good, good, play_cohort([outsider], round_task)[0], play_cohort([poor], round_task)[0], forged,
            wrong_round]
    cohort = {selected.address: STAKE, poor.address: 1, forger.address: STAKE, late.address: STAKE}
    accepted, rejected = validator.screen(subs, round_task, cohort, min_stake=10)
    reasons = {r.trainer: r.reason for r in rejected}
    assert [a.trainer for a in accepted] == [selected.address]
    assert reasons[selected.address] == "duplicate submission"
    assert reasons[outsider.address] == "not selected this round"
    assert reasons[poor.address].startswith("stake 1 below the task minimum")
    assert reasons[forger.address].startswith("bad signature")
    assert reasons[late.address] == "commitment is for task 1 round 2"


def test_malformed_updates_earn_nothing_and_leave_the_model_to_the_honest(make_trainer, validator, round_task):
    honest = make_trainer("honest")
    bad = [make_trainer(b, behaviour=b) for b in ("nan", "wrong-shape", "huge-norm")]
    cohort = {t.address: STAKE for t in (honest, *bad)}
    outcome = evaluate(validator, play_cohort([honest, *bad], round_task), round_task, cohort, budget=100)
    assert [a.trainer for a in outcome.accepted] == [honest.address]
    assert len(outcome.rejected) == 3 and outcome.ledger.amounts == {honest.address: 100}
    assert torch.equal(outcome.new_params, round_task.global_params + outcome.accepted[0].flat)


def test_a_round_with_nothing_accepted_keeps_the_model_and_pays_nobody(make_trainer, validator, round_task):
    bad = make_trainer("nan", behaviour="nan")
    outcome = evaluate(validator, play_cohort([bad], round_task), round_task, {bad.address: STAKE}, budget=100)
    assert torch.equal(outcome.new_params, round_task.global_params)
    assert outcome.result.updates_root == ZERO32 and outcome.result.cumulative_total == 0


def test_aggregation_is_byte_identical_across_validators(make_trainer, make_validator, round_task):
    subs = play_cohort([make_trainer(f"t{i}", start=60 * i) for i in range(4)], round_task)
    cohort = {s.trainer: STAKE for s in subs}
    a = evaluate(make_validator("a"), subs, round_task, cohort)
    b = evaluate(make_validator("b"), list(reversed(subs)), round_task, cohort)
    assert (a.result.model_hash, a.result.updates_root) == (b.result.model_hash, b.result.updates_root)
    assert a.new_params.numpy().tobytes() == b.new_params.numpy().tobytes()


def test_a_self_paying_validator_takes_half_the_trainers_rewards(make_trainer, make_validator, round_task):
    subs = play_cohort([make_trainer("t")], round_task)
    cohort = {subs[0].trainer: STAKE}
    honest, greedy = make_validator("h"), make_validator("g", behaviour="self-pay")
    fair, grab = evaluate(honest, subs, round_task, cohort), evaluate(greedy, subs, round_task, cohort)
    assert grab.rewards[greedy.address] == 450 and grab.result.model_hash == fair.result.model_hash
    assert grab.result.rewards_root != fair.result.rewards_root


def test_robust_aggregators_are_used_as_configured(make_trainer, make_validator, round_task):
    subs = play_cohort([make_trainer(f"t{i}", start=60 * i) for i in range(3)], round_task)
    cohort = {s.trainer: STAKE for s in subs}
    median = evaluate(make_validator(aggregator="median"), subs, round_task, cohort)
    mean = evaluate(make_validator(aggregator="fedavg"), subs, round_task, cohort)
    assert median.result.model_hash != mean.result.model_hash


def test_unknown_validator_behaviour_is_refused(make_validator):
    with pytest.raises(ProtocolError, match="unknown validator behaviour"):
        make_validator(behaviour="lazy")


def test_random_and_colluding_validators_distort_only_their_reported_scores(make_trainer, make_validator, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(3)]
    subs = play_cohort(trainers, round_task)
    cohort = {t.address: STAKE for t in trainers}
    honest = make_validator("h").assess(subs, round_task, cohort, min_stake=10, scoring=BY_SAMPLES)
    noisy = make_validator("r", behaviour="random").assess(subs, round_task, cohort, min_stake=10, scoring=BY_SAMPLES)
    friend = trainers[0].address
    colluding = dataclasses.replace(make_validator("c", behaviour="collude"), colluders=frozenset({friend}))
    inflated = colluding.assess(subs, round_task, cohort, min_stake=10, scoring=BY_SAMPLES)
    assert noisy.scores != honest.scores and torch.equal(noisy.new_params, honest.new_params)
    assert inflated.scores[friend] == sum(abs(v) for v in honest.scores.values())
    assert {t: s for t, s in inflated.scores.items() if t != friend} == {t: s for t, s in honest.scores.items()
                                                                         if t != friend}


def test_a_rule_that_cannot_aggregate_so_few_updates_keeps_the_model(make_trainer, make_validator, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(4)]
    krum = make_validator(aggregator="krum")  # f = 1 needs 5 updates
    outcome = evaluate(krum, play_cohort(trainers, round_task), round_task, {t.address: STAKE for t in trainers})
    assert len(outcome.accepted) == 4 and torch.equal(outcome.new_params, round_task.global_params)
    assert outcome.held == "krum needs at least 5 updates and 4 were accepted"
    assert outcome.rewards == {} and outcome.ledger.amounts == {} and outcome.ledger.rounds == {}
