"""A sequence of tasks for the same participants (`task.tasks`), with rewards restaked between
them (`rewards.reinvest`): the real runner, chain and contracts, a few tiny rounds."""

from pathlib import Path

import pytest

from fedstake.econ.concentration import concentration
from fedstake.sim.config import load_scenario
from fedstake.sim.runner import run_scenario

EXAMPLE = Path(__file__).parents[2] / "examples" / "concentration-500.toml"
SHORT = ["task.tasks=3", "task.rounds=2"]
TOKEN = 10**18


def run(*overrides):
    return run_scenario(load_scenario(EXAMPLE, [*SHORT, *overrides]))


@pytest.fixture(scope="module")
def reinvested():
    return run()


@pytest.fixture(scope="module")
def kept():
    return run("rewards.reinvest=false")


def _trainer_rewards(rows, task):
    paid = {}
    for row in rows:
        if row.task == task:
            for address, amount in row.rewards.items():
                paid[address] = paid.get(address, 0) + amount
    return paid


def test_the_example_is_500_rounds_of_restaked_rewards():
    scenario = load_scenario(EXAMPLE)
    assert scenario.task.tasks * scenario.task.rounds == 500 and scenario.rewards.reinvest


def test_each_task_is_its_own_on_chain_task_with_its_own_budget(reinvested):
    results, _ = reinvested
    assert [(r.task, r.round) for r in results.rounds] == [(t, n) for t in (1, 2, 3) for n in (1, 2)]
    assert results.final["budget"] == 3 * 100 * TOKEN and results.final["supply_conserved"]
    assert results.final["paid"] + results.final["refunded"] == results.final["budget"]


def test_restaked_rewards_are_the_next_tasks_bonds(reinvested):
    results, world = reinvested
    trainers = [p for p in results.participants if p.role == "trainer"]
    first = _trainer_rewards(results.rounds, 1)
    assert len(first) >= 3  # a cohort of three was paid
    bonds = [p.stake_initial + first.get(p.address, 0) for p in trainers]
    task_two = next(r for r in results.rounds if r.task == 2)
    assert task_two.concentration["stake"] == concentration(bonds).to_json()
    for p in results.participants[1:]:  # everything claimed before the last task was restaked
        last = world.claimed.get(p.address, (0, 0))[0]
        assert p.stake_final == p.stake_initial + p.rewards_claimed - last
        assert p.rewards_claimed > last or p.role == "trainer"


def test_equal_stakes_start_equal_and_drift_only_when_restaked(reinvested, kept):
    start = reinvested[0].rounds[0].concentration["stake"]
    assert start == {"nakamoto_33": 3, "nakamoto_50": 5, "gini": 0.0, "hhi": 0.125}  # 8 equal bonds
    assert reinvested[0].rounds[-1].concentration["stake"]["gini"] > 0
    assert all(r.concentration["stake"] == start for r in kept[0].rounds)
    assert all(p.stake_final == p.stake_initial for p in kept[0].participants)


def test_cumulative_rewards_run_over_the_whole_sequence(reinvested):
    results, world = reinvested
    paid = {}
    for task in (1, 2, 3):
        for address, amount in _trainer_rewards(results.rounds, task).items():
            paid[address] = paid.get(address, 0) + amount
    assert results.rounds[-1].concentration["rewards_cumulative"] == concentration(
        [paid.get(t.address, 0) for t in world.trainers]).to_json()
    last = results.rounds[-1]
    assert last.concentration["rewards_round"] == concentration(
        [last.rewards.get(t.address, 0) for t in world.trainers]).to_json()
    assert last.concentration["quorum_weight"]["nakamoto_50"] == 2  # three validators, about equal


def test_a_square_root_draw_flattens_the_draw_weight_of_unequal_bonds():
    results, _ = run("task.selection-stake-exponent=0.5")
    later = [r.concentration for r in results.rounds if r.task == 3]
    assert all(0 < c["draw_weight"]["gini"] < c["stake"]["gini"] for c in later)
