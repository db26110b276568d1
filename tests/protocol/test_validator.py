import dataclasses

import pytest
import torch

from fedstake.chain.market import ZERO32
from fedstake.errors import ProtocolError
from fedstake.learn.attacks import huge_norm, nan_update, wrong_shape
from fedstake.proof.codec import encode_update
from fedstake.proof.commitment import SignedCommitment
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.messages import Submission
from fedstake.protocol.scoring import ScoringRules, reward_round

STAKE = 100
BY_SAMPLES = ScoringRules(scorer="trust", rule="samples", validator_share=0.0, sybil_defence=False)


def respond(trainers, task):
    return [t.respond(task) for t in trainers]


def sending(trainer, breaks):
    """The trainer made to send `breaks` of its update: how a malformed update reaches a validator."""
    trainer.encode = lambda flat: encode_update(breaks(trainer.spec.unflatten(flat)))
    return trainer


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
    outcome = evaluate(validator, respond(trainers, round_task), round_task, {t.address: STAKE for t in trainers})
    assert [a.trainer for a in outcome.accepted] == sorted(t.address for t in trainers)
    assert outcome.rewards == {t.address: 300 for t in trainers}  # every honest update has a positive trust score
    assert outcome.result.rewards_root == outcome.table.root and outcome.result.cumulative_total == 900
    assert outcome.ledger.rounds == {t.address: 1 for t in trainers}
    assert outcome.result.updates_root != ZERO32
    assert not torch.equal(outcome.new_params, round_task.global_params)


def test_a_non_settlement_round_proposes_no_rewards_root_but_keeps_counting(make_trainer, validator, round_task):
    trainer = make_trainer("t")
    outcome = evaluate(validator, respond([trainer], round_task), round_task, {trainer.address: STAKE},
                       settles=False)
    assert outcome.result.rewards_root == ZERO32 and outcome.result.cumulative_total == 0 and outcome.table is None
    assert outcome.ledger.amounts == {trainer.address: 900}


def test_each_protocol_violation_is_rejected_with_its_reason(make_trainer, validator, round_task):
    selected, poor, forger, late, outsider = (make_trainer(n) for n in ("selected", "poor", "forger", "late", "outsider"))
    good = selected.respond(round_task)
    wrong_round = late.respond(dataclasses.replace(round_task, round=2))
    forged_commitment = dataclasses.replace(forger.respond(round_task).signed.commitment, samples=10_000)
    forged = Submission(SignedCommitment(forged_commitment, good.signed.signature), good.payload)
    subs = [good, good, outsider.respond(round_task), poor.respond(round_task), forged, wrong_round]
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
    bad = [sending(make_trainer(f"bad{i}"), breaks) for i, breaks in enumerate((nan_update, wrong_shape, huge_norm))]
    cohort = {t.address: STAKE for t in (honest, *bad)}
    outcome = evaluate(validator, respond([honest, *bad], round_task), round_task, cohort, budget=100)
    assert [a.trainer for a in outcome.accepted] == [honest.address]
    assert len(outcome.rejected) == 3 and outcome.ledger.amounts == {honest.address: 100}
    assert torch.equal(outcome.new_params, round_task.global_params + outcome.accepted[0].flat)


def test_a_round_with_nothing_accepted_keeps_the_model_and_pays_nobody(make_trainer, validator, round_task):
    bad = sending(make_trainer("nan"), nan_update)
    outcome = evaluate(validator, respond([bad], round_task), round_task, {bad.address: STAKE}, budget=100)
    assert torch.equal(outcome.new_params, round_task.global_params)
    assert outcome.result.updates_root == ZERO32 and outcome.result.cumulative_total == 0


def test_aggregation_is_byte_identical_across_validators(make_trainer, make_validator, round_task):
    subs = respond([make_trainer(f"t{i}", start=60 * i) for i in range(4)], round_task)
    cohort = {s.trainer: STAKE for s in subs}
    a = evaluate(make_validator("a"), subs, round_task, cohort)
    b = evaluate(make_validator("b"), list(reversed(subs)), round_task, cohort)
    assert (a.result.model_hash, a.result.updates_root) == (b.result.model_hash, b.result.updates_root)
    assert a.new_params.numpy().tobytes() == b.new_params.numpy().tobytes()


def test_fltrust_validators_with_their_own_data_agree_on_the_task_root_set(make_trainer, make_validator,
                                                                          round_task, reference):
    """Each validator scores on its own slice, but FLTrust's root comes from the task's root set, so
    their aggregates are byte-identical and can reach quorum."""
    subs = respond([make_trainer(f"t{i}", start=60 * i) for i in range(4)], round_task)
    cohort = {s.trainer: STAKE for s in subs}
    own = [dataclasses.replace(reference, x=reference.x[half], y=reference.y[half])
           for half in (slice(0, len(reference.y) // 2), slice(len(reference.y) // 2, None))]
    a, b = (evaluate(make_validator(label, "fltrust", own=mine, root=reference), subs, round_task, cohort)
            for label, mine in zip("ab", own))
    assert a.new_params.numpy().tobytes() == b.new_params.numpy().tobytes()
    assert a.result.model_hash == b.result.model_hash and a.held is None
    assert not torch.equal(a.new_params, round_task.global_params)


def test_fltrust_without_the_task_root_set_is_refused(make_trainer, make_validator, round_task):
    subs = respond([make_trainer(f"t{i}", start=60 * i) for i in range(3)], round_task)
    with pytest.raises(ProtocolError, match="root set"):
        evaluate(make_validator(aggregator="fltrust"), subs, round_task, {s.trainer: STAKE for s in subs})


def test_robust_aggregators_are_used_as_configured(make_trainer, make_validator, round_task):
    subs = respond([make_trainer(f"t{i}", start=60 * i) for i in range(3)], round_task)
    cohort = {s.trainer: STAKE for s in subs}
    median = evaluate(make_validator(aggregator="median"), subs, round_task, cohort)
    mean = evaluate(make_validator(aggregator="fedavg"), subs, round_task, cohort)
    assert median.result.model_hash != mean.result.model_hash


def test_a_rule_that_cannot_aggregate_so_few_updates_keeps_the_model(make_trainer, make_validator, round_task):
    trainers = [make_trainer(f"t{i}", start=60 * i) for i in range(4)]
    krum = make_validator(aggregator="krum", params={"assumed-malicious": 1})  # f = 1 needs 5 updates
    outcome = evaluate(krum, respond(trainers, round_task), round_task, {t.address: STAKE for t in trainers})
    assert len(outcome.accepted) == 4 and torch.equal(outcome.new_params, round_task.global_params)
    assert outcome.held == "krum needs at least 5 updates and 4 were accepted"
    assert outcome.rewards == {} and outcome.ledger.amounts == {} and outcome.ledger.rounds == {}


def test_the_result_pays_the_trainers_and_the_validators_shares(make_trainer, validator, round_task):
    trainer = make_trainer("t")
    shared_by_validators = ScoringRules(scorer="trust", rule="samples", validator_share=0.1, sybil_defence=False)
    outcome = evaluate(validator, respond([trainer], round_task), round_task, {trainer.address: STAKE},
                       scoring=shared_by_validators)
    assert outcome.rewards == {trainer.address: 810, validator.address: 90}
    assert outcome.table.entries == {trainer.address: (810, 1), validator.address: (90, 0)}


def test_scoring_seeds_are_shared_by_validators_and_differ_by_round(make_validator, round_task):
    """Honest validators sample the same GTG-Shapley permutations: only their data differs."""
    a, b = make_validator("a"), make_validator("b")
    assert a.score_seed(round_task) == b.score_seed(round_task)
    assert a.score_seed(round_task) != a.score_seed(dataclasses.replace(round_task, round_seed=b"\x06" * 32))
