import pytest

from fedstake.chain.accounts import derive_account
from fedstake.learn.aggregators import make_aggregator
from fedstake.learn.attacks import make_behaviour
from fedstake.proof.screening import ScreeningRules
from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Validator
from fedstake.sim.dishonest_trainers import make_trainer as make_role
from fedstake.sim.dishonest_validators import make_validator as make_validator_role
from role_kit import kit, reference, round_task, trainer_fields  # noqa: F401  (shared fixtures)


@pytest.fixture
def make_trainer(kit, trainer_fields):
    """A scenario trainer playing `behaviour` (the honest device for "honest")."""
    def make(label: str, behaviour: str = "honest", start: int = 0, **params) -> Trainer:
        return make_role(make_behaviour(behaviour, params), num_classes=kit[0].num_classes,
                         **trainer_fields(label, start))

    return make


@pytest.fixture
def make_validator(kit, reference):
    def make(label: str = "validator", behaviour: str = "honest", **extra) -> Validator:
        return make_validator_role(behaviour, account=derive_account(0, label), rules=ScreeningRules(kit[2], 20.0),
                                   aggregator=make_aggregator("fedavg"), reference=reference, **extra)

    return make
