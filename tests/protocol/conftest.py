import pytest

from fedstake.chain.accounts import derive_account
from fedstake.learn.aggregators import make_aggregator
from fedstake.proof.screening import ScreeningRules
from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Reference, Validator
from role_kit import kit, reference, round_task, trainer_fields  # noqa: F401  (shared fixtures)


@pytest.fixture
def make_trainer(trainer_fields):
    def make(label: str, start: int = 0) -> Trainer:
        return Trainer(**trainer_fields(label, start))

    return make


@pytest.fixture
def make_validator(kit, reference):
    def make(label: str = "validator", aggregator: str = "fedavg", params: dict | None = None, *,
             own: Reference | None = None, root: Reference | None = None) -> Validator:
        return Validator(derive_account(0, label), ScreeningRules(kit[2], 20.0), make_aggregator(aggregator, params),
                         own or reference, root=root)

    return make


@pytest.fixture
def validator(make_validator):
    return make_validator()


@pytest.fixture
def world():
    """The scenario's real world for a round: four trainers and four validators on the embedded chain."""
    from fedstake.sim.config import load_scenario
    from fedstake.sim.world import build_world

    scenario = load_scenario(None, ["task.rounds=3", "task.clients-per-round=4", "task.local-epochs=1",
                                    "task.selection=stake", "trainers.0.count=4", "validators.0.count=4"])
    made = build_world(scenario)
    yield made
    made.backend.close()
