"""One validator of four proposes a rewards root paying itself: the honest
result is final every round and the dishonest validator is slashed."""

from pathlib import Path

import pytest

from fedstake.sim.config import load_scenario
from fedstake.sim.runner import run_scenario

EXAMPLE = Path(__file__).parents[2] / "examples" / "dishonest-validator.toml"


@pytest.fixture(scope="module")
def run():
    return run_scenario(load_scenario(EXAMPLE, ["task.rounds=3", "task.local-epochs=1"]))


def test_the_honest_result_is_final_and_the_self_paying_one_rejected(run):
    results, world = run
    greedy = next(a for a, b in world.behaviours.items() if b == "self-pay")
    first = results.rounds[0]
    final = [p for p in first.proposals if p["final"]]
    assert len(final) == 1 and final[0]["proposer"] != greedy and len(final[0]["attesters"]) == 3
    assert any(p["proposer"] == greedy and p["rejected"] for p in first.proposals)
    assert all(greedy not in r.rewards for r in results.rounds)  # it never got the trainers' money
    assert all(greedy not in r.validator_rewards for r in results.rounds[1:])  # dropped after round 1


def test_the_dishonest_validator_is_slashed_and_its_counter_dispute_fails(run):
    results, world = run
    greedy = next(a for a, b in world.behaviours.items() if b == "self-pay")
    disputes = results.rounds[0].disputes
    assert {(d["accused"] == greedy, d["upheld"]) for d in disputes} == {(True, True), (False, False)}
    row = next(p for p in results.participants if p.address == greedy)
    assert row.slashed == row.stake_initial // 2
    assert row.rewards_claimed < row.slashed // 4  # round 1's validator share for its (honest) scores, far below its loss
    assert all(p.slashed == 0 for p in results.participants if p.address != greedy)
    assert results.rounds[1].disputes == [] and len(results.rounds[1].proposals) == 1  # dropped from the task
    assert results.final["supply_conserved"]
