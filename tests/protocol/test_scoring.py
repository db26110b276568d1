"""Validator pay follows the agreement bond (an EMA over rounds), the same for every validator."""

import pytest
import torch

from fedstake.protocol.scoring import ScoringRules, reward_round


def role(name: str) -> str:
    """An address named by its role (eth-abi encodes trainers and validators as addresses)."""
    return "0x" + name.encode().hex().rjust(40, "0")


GOOD = role("good")
POOR = role("poor")
STEADY = role("steady")
LUCKY = role("lucky")
THIRD = role("third")
A = role("a")
B = role("b")
LIAR = role("liar")
GONE = role("gone")
RULES = ScoringRules(rule="samples", sybil_defence=False, validator_share=0.5, agreement_ema=0.2)
TRAINERS = [GOOD, POOR]
HONEST = [0.9, 0.1]


def pay(reported, bonds=None, prior=None, trainers=TRAINERS):
    return reward_round(RULES, 1, trainers, reported, {v: 10 for v in reported}, budget=2_000,
                        samples={t: 1 for t in trainers}, reputation={}, histories={t: torch.zeros(1) for t in trainers},
                        bonds=bonds, prior=prior)


def test_a_validator_that_agreed_before_earns_more_than_one_lucky_this_round():
    reported = {STEADY: HONEST, LUCKY: HONEST, THIRD: HONEST}
    out = pay(reported, bonds={STEADY: 0.9, LUCKY: 0.1, THIRD: 0.9})
    assert out.validator_bonds[LUCKY] == pytest.approx(0.8 * 0.1 + 0.2)
    assert out.validator_rewards[LUCKY] < out.validator_rewards[STEADY] == out.validator_rewards[THIRD]


def test_bonds_start_at_zero_and_a_silent_validator_decays():
    out = pay({A: HONEST, B: HONEST, LIAR: [0.1, 0.9]}, bonds={GONE: 0.5})
    # the liar ranks the two backwards: trust 0.2 x correlation -1, a negative bond that earns nothing
    assert out.validator_bonds == pytest.approx({A: 0.2, B: 0.2, LIAR: 0.2 * -0.2, GONE: 0.4})
    assert out.validator_rewards[LIAR] == 0 and out.validator_rewards[A] == out.validator_rewards[B] > 0
    assert GONE not in out.validator_rewards  # it did not report: nothing this round


def test_a_round_with_nothing_to_score_keeps_the_bonds():
    out = reward_round(RULES, 1, [], {A: []}, {A: 10}, budget=1_000, samples={}, reputation={},
                       histories={}, bonds={A: 0.7})
    assert out.validator_bonds == {A: 0.7}


def test_a_validator_reporting_last_rounds_consensus_earns_nothing_for_it():
    """The prior (last round's consensus) is public: copying it agrees with no news, so the
    copier's bond does not grow and it is paid nothing, while validators who measured this
    round's change are paid."""
    trainers = [GOOD, POOR, THIRD]
    prior = {GOOD: 0.5, POOR: 0.1, THIRD: 0.4}
    reported = {A: [0.6, 0.1, 0.3], B: [0.55, 0.12, 0.33], LIAR: [0.5, 0.1, 0.4]}
    out = pay(reported, prior=prior, trainers=trainers)
    assert out.validator_bonds[LIAR] == pytest.approx(0.0, abs=1e-12)
    assert out.validator_rewards[LIAR] == 0 < min(out.validator_rewards[A], out.validator_rewards[B])
    assert pay(reported, trainers=trainers).validator_rewards[LIAR] > 0  # without the prior it was paid


def test_a_negative_bond_is_paid_nothing_until_agreement_pays_it_back():
    out = pay({A: HONEST, B: HONEST}, bonds={A: -0.5, B: 0.1})
    assert out.validator_bonds[A] == pytest.approx(0.8 * -0.5 + 0.2)
    assert out.validator_rewards[A] == 0 < out.validator_rewards[B]
