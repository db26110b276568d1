"""The Flower run config: scenario keys, defaults, types, attack tables, and the example app's config."""

import tomllib
from pathlib import Path

import pytest
from flwr.common.config import flatten_dict

from fedstake.deploy.flower.config import FlowerSettings, RunSettings, TaskSettings, read_run_config
from fedstake.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "flower" / "pyproject.toml"


def test_an_empty_config_gives_the_defaults():
    settings = read_run_config({})
    assert settings == RunSettings()
    assert settings.task.aggregator == "fltrust" and settings.max_norm == 20.0
    assert settings.attack.behaviour_for(0).name == "honest"


def test_scenario_keys_are_read_and_ints_stand_for_floats():
    settings = read_run_config({"task.aggregator": "trimmed-mean", "aggregator.trim-fraction": 0.2,
                                "task.learning-rate": 1, "task.local-epochs": 2, "screening.max-norm": 5,
                                "flower.min-nodes": 4, "flower.output-dir": "out"})
    assert settings.task == TaskSettings(aggregator="trimmed-mean", learning_rate=1.0, local_epochs=2)
    assert isinstance(settings.task.learning_rate, float)
    assert dict(settings.aggregator_params) == {"trim-fraction": 0.2}
    assert settings.max_norm == 5.0
    assert settings.flower == FlowerSettings(min_nodes=4, output_dir="out")


def test_keys_outside_the_fedstake_sections_belong_to_the_user():
    assert read_run_config({"num-server-rounds": 7, "my.own-key": "x"}) == RunSettings()


def test_the_task_settings_give_the_local_training_they_describe():
    training = read_run_config({"task.batch-size": 8, "task.proximal-mu": 0.01}).task.training
    assert (training.batch_size, training.proximal_mu, training.epochs) == (8, 0.01, 5)


@pytest.mark.parametrize("config, key", [
    ({"task.learning_rate": 0.1}, "task.learning_rate"),
    ({"task.epochs": 1}, "task.epochs"),
    ({"flower.rounds": 3}, "flower.rounds"),
    ({"screening.norm": 3.0}, "screening.norm"),
])
def test_an_unknown_key_in_a_fedstake_section_is_named(config, key):
    with pytest.raises(ConfigError, match="unknown key") as err:
        read_run_config(config)
    assert err.value.key == key


@pytest.mark.parametrize("config, key, problem", [
    ({"task.rounds": "3"}, "task.rounds", "must be a whole number"),
    ({"task.learning-rate": True}, "task.learning-rate", "must be a number"),
    ({"task.seed": 1.0}, "task.seed", "must be a whole number"),
    ({"task.rounds": 0}, "task.rounds", "at least 1"),
    ({"screening.max-norm": -1.0}, "screening.max-norm", "positive"),
    ({"flower.fraction-train": 1.5}, "flower.fraction-train", "[0, 1]"),
    ({"flower.min-nodes": 0}, "flower.min-nodes", "at least 1"),
    ({"task.aggregator": "fedsgd"}, "task.aggregator", "unknown aggregator"),
    ({"task.aggregator": "krum", "aggregator.trim-fraction": 0.1}, "aggregator.trim-fraction", "unknown key"),
    ({"task.aggregator": "trimmed-mean", "aggregator.trim-fraction": 0.7}, "aggregator.trim-fraction", "[0, 0.5)"),
])
def test_a_bad_value_is_a_config_error_naming_its_key(config, key, problem):
    with pytest.raises(ConfigError) as err:
        read_run_config(config)
    assert err.value.key == key and problem in err.value.problem


def test_attack_tables_give_each_listed_partition_its_behaviour_and_parameters():
    attack = read_run_config({"attack.sign-flip.partitions": "0, 3", "attack.sign-flip.lambda": 2.0,
                              "attack.nan.partitions": 1}).attack
    assert [attack.behaviour_for(i).name for i in range(5)] == ["sign-flip", "nan", "honest", "sign-flip", "honest"]
    assert attack.behaviour_for(3).params["lambda"] == 2.0


@pytest.mark.parametrize("config, key, problem", [
    ({"attack.partitions": "0"}, "attack.partitions", "attack.<behaviour>.partitions"),
    ({"attack.sign-flip.lambda": 2.0}, "attack.sign-flip.partitions", "missing"),
    ({"attack.sign-flip.partitions": "0,x"}, "attack.sign-flip.partitions", "separated by commas"),
    ({"attack.sign-flip.partitions": "-1"}, "attack.sign-flip.partitions", "non-negative"),
    ({"attack.sign-flip.partitions": 1.0}, "attack.sign-flip.partitions", "must be a string"),
    ({"attack.sign-flip.partitions": "0", "attack.nan.partitions": "0"}, "attack.nan.partitions",
     "partition 0 already plays 'sign-flip'"),
    ({"attack.sign-flip.partitions": "0", "attack.sign-flip.sigma": 1.0}, "attack.sign-flip.sigma",
     "not a parameter of 'sign-flip'"),
    ({"attack.sign-flip.partitions": "0", "attack.sign-flip.lambda": -1.0}, "attack.sign-flip.lambda", "> 0"),
    ({"attack.teleport.partitions": "0"}, "attack.teleport.behaviour", "unknown behaviour"),
])
def test_a_bad_attack_table_is_a_config_error_naming_its_key(config, key, problem):
    with pytest.raises(ConfigError) as err:
        read_run_config(config)
    assert err.value.key == key and problem in err.value.problem


def test_the_example_apps_run_config_is_valid():
    project = tomllib.loads(EXAMPLE.read_text())["tool"]["flwr"]
    settings = read_run_config(flatten_dict(project["app"]["config"]))
    assert settings.task.aggregator == "median" and settings.attack.behaviour_for(0).name == "sign-flip"
    assert project["app"]["components"] == {"serverapp": "fedstake.deploy.flower.server_app:app",
                                            "clientapp": "fedstake.deploy.flower.client_app:app"}
