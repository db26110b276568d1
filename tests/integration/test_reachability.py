"""Every attack, every aggregator and client-level DP are reachable from a
scenario file and run end to end on the chain."""

import pytest

from fedstake.sim.config import AGGREGATORS, TRAINER_BEHAVIOURS, parse_scenario
from fedstake.sim.runner import run_scenario

ATTACKS = [b for b in TRAINER_BEHAVIOURS.__args__ if b != "honest"]
BASE = {"rounds": 2, "local-epochs": 1}


@pytest.fixture(scope="module")
def every_attack():
    trainers = [{"count": 8}] + [{"count": 1, "behaviour": b} for b in ATTACKS]
    scenario = parse_scenario({"task": {**BASE, "clients-per-round": 8 + len(ATTACKS)}, "trainers": trainers,
                               "screening": {"max-norm": 1e6}})
    return run_scenario(scenario)


def test_every_attack_runs_and_only_the_malformed_are_screened_out(every_attack):
    results, world = every_attack
    rejected = {r["trainer"] for row in results.rounds for r in row.rejected}
    malformed = {a for a, b in world.behaviours.items() if b in ("nan", "wrong-shape")}
    assert rejected == malformed
    seen = {p.behaviour for p in results.participants if p.role == "trainer"}
    assert seen == set(TRAINER_BEHAVIOURS.__args__)


@pytest.mark.parametrize("aggregator", AGGREGATORS.__args__)
def test_every_aggregator_runs_from_a_scenario_and_records_its_parameters(aggregator):
    scenario = parse_scenario({"task": {**BASE, "aggregator": aggregator, "clients-per-round": 8},
                               "trainers": [{"count": 8}], "aggregator": {"krum": {"assumed-malicious": 2}}})
    results, world = run_scenario(scenario)
    assert results.learning["aggregator"]["name"] == aggregator
    hashes = ["0x" + world.genesis_hash.hex()] + [r.model_hash for r in results.rounds]
    assert len(set(hashes)) == 3  # the rule moved the model every round
    if aggregator == "krum":
        assert results.learning["aggregator"]["params"] == {"attacker-share": 0.3, "assumed-malicious": 2}


def test_client_level_dp_reports_epsilon_every_round_and_flags_missing_noise():
    scenario = parse_scenario({
        "task": {**BASE, "rounds": 3, "clients-per-round": 10}, "trainers": [{"count": 8}, {"count": 2, "behaviour": "nan"}],
        "privacy": {"clip-norm": 0.5, "noise-multiplier": 0.5, "delta": 1e-5}, "screening": {"max-norm": 50},
    })
    results, _ = run_scenario(scenario)
    epsilons = [row.privacy["epsilon"] for row in results.rounds]
    assert all(e > 0 for e in epsilons) and epsilons == sorted(epsilons)
    assert all(row.privacy["under_calibrated"] for row in results.rounds)  # 2 of 10 noised updates never count
    assert results.learning["aggregator"]["name"] == "dp-fedavg"
