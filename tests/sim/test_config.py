import pytest

from fedstake.errors import ConfigError
from fedstake.sim.config import load_scenario, parse_override, parse_scenario, resolved


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_defaults_are_a_complete_scenario():
    scenario = load_scenario(None)
    assert scenario.trainer_count == 20 and scenario.task.rounds == 30
    assert resolved(scenario)["task"]["clients-per-round"] == 10


def test_the_quickstart_example_parses():
    from pathlib import Path

    scenario = load_scenario(Path(__file__).parents[2] / "examples" / "quickstart.toml")
    assert scenario.task.dirichlet_alpha == 0.5 and scenario.task.seed == 7


def test_kebab_case_keys_and_groups_are_read(tmp_path):
    path = write(tmp_path, '[task]\nclients-per-round = 3\n[[trainers]]\ncount = 4\n[[trainers]]\ncount = 2\n'
                           'behaviour = "nan"\n')
    scenario = load_scenario(path)
    assert scenario.task.clients_per_round == 3 and [g.behaviour for g in scenario.trainers] == ["honest", "nan"]


@pytest.mark.parametrize("text, key", [
    ("[task]\nrounds = 0\n", "task.rounds"),
    ("[task]\nrounds = 'ten'\n", "task.rounds"),
    ("[task]\nlearning-rate = -1\n", "task.learning-rate"),
    ("[task]\nmystery = 1\n", "task.mystery"),
    ("[mystery]\nx = 1\n", "mystery"),
    ("[task]\ndataset = 'imagenet'\n", "task.dataset"),
    ("[[trainers]]\ncount = 5\nbehaviour = 'sneaky'\n", "trainers.0.behaviour"),
    ("[[trainers]]\ncount = 2\n", "task.clients-per-round"),
    ("[[trainers]]\ncount = 20\nstake = 1\n", "trainers.0.stake"),
    ("[[trainers]]\ncount = 20\nbehaviour = 'sign-flip'\nlambda = -2\n", "trainers.0.lambda"),
    ("[[trainers]]\ncount = 20\nsigma = 2\n", "trainers.0.sigma"),
    ("[task]\naggregator = 'krum'\n[aggregator]\ntrim-fraction = 0.1\n", "aggregator.trim-fraction"),
    ("[chain]\nchallenge-bond = 0\n", "chain.challenge-bond"),
    ("[chain]\nmin-stake = 100\nchallenge-bond = 9\n", "chain.challenge-bond"),
    ("[task]\nrounds = 3\nsettle-every = 4\n", "task.settle-every"),
    ("[privacy]\ndelta = 2\n", "privacy.delta"),
    ("[[validators]]\nbehaviour = 'sneaky'\n", "validators.0.behaviour"),
    ("[proof]\nagreement-ema = 0\n", "proof.agreement-ema"),
    ("[proof]\nagreement-ema = 1.5\n", "proof.agreement-ema"),
    ("[chain]\nbackend = 'solana'\n", "chain.backend"),
    ("[task]\nselection-stake-exponent = 0\n", "task.selection-stake-exponent"),
    ("[task]\nselection-stake-exponent = 1.5\n", "task.selection-stake-exponent"),
    ("[task]\nselection-stake-exponent = 0.333\n", "task.selection-stake-exponent"),
    ("[task]\ntasks = 0\n", "task.tasks"),
    ("[task]\ntasks = 2\n[edge]\ndeadline = 300.0\n", "task.tasks"),
])
def test_bad_values_name_their_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as caught:
        load_scenario(write(tmp_path, text))
    assert caught.value.key == key, str(caught.value)


def test_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[task\n"))


def test_overrides_apply_to_sections_and_default_groups(tmp_path):
    scenario = load_scenario(None, ["task.rounds=3", "trainers.0.count=12", "task.partition=iid"])
    assert scenario.task.rounds == 3 and scenario.trainers[0].count == 12 and scenario.task.partition == "iid"


@pytest.mark.parametrize("text", ["task.rounds", "=3"])
def test_malformed_overrides_are_refused(text):
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_override(text)


def test_override_of_a_missing_list_item_names_it():
    with pytest.raises(ConfigError, match="trainers.5"):
        load_scenario(None, ["trainers.5.count=1"])


def test_scenarios_are_frozen():
    scenario = load_scenario(None)
    with pytest.raises(Exception):
        scenario.task.rounds = 5


@pytest.mark.parametrize("given, problem", [
    ("task.pricing=auction", "'auction' is not allowed"),
    ("trainers.0.ask-factor=0", "greater than 0"),
    ("trainers.0.ask-factor=-1", "greater than 0"),
])
def test_pricing_keys_are_checked_naming_the_field(given, problem):
    with pytest.raises(ConfigError) as caught:
        load_scenario(None, ["edge.deadline=300", "task.pricing=reverse-auction", given])
    assert caught.value.key == given.split("=")[0] and problem in caught.value.problem


def test_the_default_rule_is_fltrust_and_with_privacy_the_dp_mean():
    assert parse_scenario({}).task.aggregator == "fltrust"
    private = {"privacy": {"clip-norm": 1.0, "noise-multiplier": 1.0}, "screening": {"max-norm": 50}}
    assert parse_scenario(private).task.aggregator == "fedavg"
    assert parse_scenario({**private, "task": {"aggregator": "median"}}).task.aggregator == "median"


def test_the_stake_exponent_is_read_as_an_exact_fraction():
    from fractions import Fraction

    assert load_scenario(None).selection_exponent == 1
    assert load_scenario(None, ["task.selection-stake-exponent=0.75"]).selection_exponent == Fraction(3, 4)
    assert load_scenario(None, ["task.selection-stake-exponent=0.33"]).selection_exponent == Fraction(33, 100)
