"""The world builds each scenario group's role: the honest one, or its simulated wrapper."""

import pytest

from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Validator
from fedstake.sim.config import parse_scenario
from fedstake.sim.dishonest_trainers import DishonestTrainer, WrongDataTrainer
from fedstake.sim.dishonest_validators import ColludingValidator, SelfPayingValidator
from fedstake.sim.world import build_world


@pytest.fixture(scope="module")
def world():
    scenario = parse_scenario({
        "task": {"rounds": 1, "clients-per-round": 4},
        "trainers": [{"count": 2}, {"count": 1, "behaviour": "label-flip"}, {"count": 1, "behaviour": "wrong-data"}],
        "validators": [{"count": 2}, {"count": 1, "behaviour": "collude", "colludes-with": 1},
                       {"count": 1, "behaviour": "self-pay"}],
        "privacy": {"clip-norm": 0.5, "noise-multiplier": 0.5, "delta": 1e-5}, "screening": {"max-norm": 50},
    })
    built = build_world(scenario)
    yield built
    built.backend.close()


def test_each_trainer_group_is_its_role_and_only_honest_devices_noise(world):
    honest, honest2, flipper, cheat = world.trainers
    assert type(honest) is Trainer and type(honest2) is Trainer and honest.privacy is not None
    assert type(flipper) is DishonestTrainer and isinstance(cheat, WrongDataTrainer)
    assert flipper.privacy is None and cheat.privacy is None
    assert [world.behaviours[t.address] for t in world.trainers] == ["honest", "honest", "label-flip", "wrong-data"]


def test_each_validator_group_is_its_role_and_a_colluder_knows_its_group(world):
    roles = [type(v) for v in world.validators]
    assert roles == [Validator, Validator, ColludingValidator, SelfPayingValidator]
    assert world.validators[2].colluders == {world.trainers[2].address}
    assert [world.behaviours[v.address] for v in world.validators] == ["honest", "honest", "collude", "self-pay"]


def test_fltrust_with_three_validators_reaches_quorum_on_every_round():
    """With each validator's own slice as FLTrust's root, their models differed and round 1 never
    reached two thirds; the task's shared root set makes all three attest one result."""
    from fedstake.sim.runner import run_scenario

    scenario = parse_scenario({"task": {"rounds": 2, "clients-per-round": 4, "aggregator": "fltrust"},
                               "trainers": [{"count": 4}], "validators": [{"count": 3}]})
    results, world = run_scenario(scenario)
    for row in results.rounds:
        assert row.held is None and len(row.proposals) == 1
        assert row.proposals[0]["final"] and len(row.proposals[0]["attesters"]) == 3
    assert results.final["accuracy"] > 0.5
