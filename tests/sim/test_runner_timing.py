"""results.json's round timing: the rounds' wall time, the cohort's own training, and every step between."""

import pytest

from fedstake.sim.config import load_scenario
from fedstake.sim.runner import run_scenario

STEPS = {"cohort", "training", "submit", "assess", "board", "conclude", "settle", "adopt", "evaluation", "claims", "other"}


@pytest.fixture(scope="module")
def timing():
    results, _ = run_scenario(load_scenario(None, ["task.rounds=3", "task.local-epochs=1", "trainers.0.count=6",
                                                   "task.clients-per-round=3", "rewards.claim-every=2"]))
    return results.timing


def test_the_steps_add_up_to_the_rounds_and_fit_in_the_run(timing):
    steps = timing["round_phases_s"]
    assert set(steps) == STEPS
    assert sum(steps.values()) == pytest.approx(timing["rounds_s"], abs=0.01)
    assert 0 < timing["training_s"] == pytest.approx(steps["training"], abs=1e-3)
    assert timing["rounds_s"] <= timing["total_s"] - timing["setup_s"]
    assert all(seconds >= 0 for label, seconds in steps.items() if label != "other")


def test_outside_training_is_the_rest_of_the_rounds_over_the_training(timing):
    rounds, training, half = timing["rounds_s"], timing["training_s"], 0.0005  # both rounded to 3 decimals
    assert (rounds - half) / (training + half) - 1 <= timing["protocol_over_training"] \
        <= (rounds + half) / (training - half) - 1


def test_the_validators_assessment_is_split_by_what_they_did(timing):
    assessing = timing["assess_phases_s"]
    assert set(assessing) == {"open", "screen", "aggregate", "score"}
    assert sum(assessing.values()) <= timing["round_phases_s"]["assess"] + 1e-3
