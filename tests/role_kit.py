"""Fixtures for the roles' unit tests, shared by the honest roles' tests (tests/protocol)
and the tests of the simulated misbehaviours wrapping them (tests/sim): digits, the MLP,
its genesis parameters and a round's task, with trainers on 60-sample slices."""

import pytest

from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import Domain
from fedstake.learn.data import load_dataset
from fedstake.learn.models import ParamSpec, build_model, initial_parameters
from fedstake.learn.train import LocalTraining
from fedstake.protocol.messages import RoundTask
from fedstake.protocol.validator import Reference

TRAINING = LocalTraining(1, 16, 0.1)


@pytest.fixture(scope="module")
def kit():
    data = load_dataset("digits", seed=0)
    module = build_model("mlp", data.num_features, data.num_classes)
    spec = ParamSpec.of(module)
    return data, module, spec, initial_parameters(module, seed=0)


@pytest.fixture
def trainer_fields(kit):
    """label, start -> the honest trainer's fields: a key and a 60-sample slice of digits."""
    data, module, spec, _ = kit

    def fields(label: str, start: int = 0) -> dict:
        return {"account": derive_account(0, label), "x": data.x_train[start:start + 60],
                "y": data.y_train[start:start + 60], "module": module, "spec": spec, "training": TRAINING}

    return fields


@pytest.fixture
def reference(kit):
    data, module, spec, _ = kit
    return Reference(data.x_val, data.y_val, module, spec, TRAINING)


@pytest.fixture
def round_task(kit):
    return RoundTask(1, 1, b"\x05" * 32, kit[3], b"\x00" * 32, Domain("fedstake", "1", 31337, "0x" + "aa" * 20))
