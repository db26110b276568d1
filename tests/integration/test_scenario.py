"""Short scenarios with every real part: PyTorch training, signed commitments,
screening, a validator quorum on the embedded EVM, Merkle claims."""

import pytest

from fedstake.sim.config import load_scenario, parse_scenario
from fedstake.sim.runner import run_scenario

MIXED = {
    "task": {"rounds": 4, "local-epochs": 2, "clients-per-round": 11},
    "trainers": [{"count": 8}, *({"count": 1, "behaviour": b} for b in ("nan", "wrong-shape", "huge-norm"))],
    "rewards": {"claim-every": 2},
}


@pytest.fixture(scope="module")
def mixed_run():
    return run_scenario(parse_scenario(MIXED))


def test_malformed_trainers_are_rejected_every_round_and_earn_nothing(mixed_run):
    results, world = mixed_run
    bad = {t.address for t in world.trainers if world.behaviours[t.address] != "honest"}
    for row in results.rounds:
        rejected = {r["trainer"]: r["reason"] for r in row.rejected}
        assert set(rejected) == bad & set(row.selected) and all(rejected.values())
        assert not set(row.accepted) & bad
    assert all(p.rewards_claimed == 0 for p in results.participants if p.behaviour in ("nan", "wrong-shape",
                                                                                         "huge-norm"))


def test_every_reward_is_paid_by_claim_and_the_books_balance(mixed_run):
    results, world = mixed_run
    final = results.final
    claimed = sum(p.rewards_claimed for p in results.participants)
    assert final["paid"] == claimed > 0
    assert final["paid"] + final["refunded"] == final["budget"]
    assert final["supply_conserved"] is True
    assert world.deployment.token.balance_of(world.deployment.market.address) == 0
    assert {"claim_first", "claim_again", "propose_round", "finalize_round", "create_task"} <= set(results.chain["gas"])


def test_the_model_learns_and_its_nft_is_minted(mixed_run):
    results, world = mixed_run
    assert results.rounds[-1].accuracy > results.rounds[0].accuracy > 0.2
    record = world.deployment.models.record(world.task_id)
    assert "0x" + record.model_hash.hex() == results.final["model_hash"] and record.rounds == 4
    assert world.deployment.models.owner_of(world.task_id) == world.requester.address


def test_same_seed_gives_the_same_bytes():
    scenario = load_scenario(None, ["task.rounds=2", "task.local-epochs=1", "trainers.0.count=6",
                                    "task.clients-per-round=3"])
    first, _ = run_scenario(scenario)
    second, _ = run_scenario(scenario)
    assert [r.model_hash for r in first.rounds] == [r.model_hash for r in second.rounds]
    assert [r.rewards_root for r in first.rounds] == [r.rewards_root for r in second.rounds]
    other, _ = run_scenario(scenario.model_copy(update={"task": scenario.task.model_copy(update={"seed": 1})}))
    assert other.rounds[-1].model_hash != first.rounds[-1].model_hash


def test_epoch_settlement_publishes_a_root_every_k_rounds_and_pays_the_same_way():
    results, _ = run_scenario(load_scenario(None, ["task.rounds=4", "task.settle-every=2", "task.local-epochs=1",
                                                   "trainers.0.count=6", "task.clients-per-round=3"]))
    roots = [r.rewards_root != "0x" + "00" * 32 for r in results.rounds]
    assert roots == [False, True, False, True]
    assert results.final["paid"] + results.final["refunded"] == results.final["budget"]
