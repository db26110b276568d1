"""make_aggregator: names, parameter keys, defaults, checks, and which rules use sample weights."""

import math

import pytest
import torch

from fedstake.errors import ConfigError, LearningError
from fedstake.learn.aggregators import AGGREGATOR_NAMES, fltrust, make_aggregator

DEFAULTS = {
    "fedavg": {},
    "fedavgm": {"server-learning-rate": 1.0, "momentum": 0.9},
    "fedadam": {"server-learning-rate": 0.01, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3},
    "fedyogi": {"server-learning-rate": 0.01, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3},
    "fedadagrad": {"server-learning-rate": 0.1, "beta1": 0.0, "tau": 1e-3},
    "krum": {"attacker-share": 0.3, "assumed-malicious": None},
    "multi-krum": {"attacker-share": 0.3, "assumed-malicious": None, "multi-krum-selected": None},
    "median": {},
    "trimmed-mean": {"attacker-share": 0.3, "trim-fraction": None},
    "bulyan": {"attacker-share": 0.3, "assumed-malicious": None},
    "norm-bound": {"norm-bound": 3.0},
    "fltrust": {"root-epochs": 5, "server-momentum": 0.9},
    "flame": {},
    "centered-clipping": {"attacker-share": 0.3, "iterations": 3, "clip-radius": None},
}
WEIGHTED = {"fedavg", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "norm-bound"}


def test_every_scenario_name_is_built_with_the_documented_defaults():
    assert set(AGGREGATOR_NAMES) == set(DEFAULTS)
    for name, params in DEFAULTS.items():
        agg = make_aggregator(name)
        assert agg.name == name and dict(agg.params) == params


def test_given_values_are_used_and_recorded_as_floats_where_real():
    agg = make_aggregator("fedadam", {"server-learning-rate": 1, "tau": 0.5})
    assert dict(agg.params) == {"server-learning-rate": 1.0, "beta1": 0.9, "beta2": 0.99, "tau": 0.5}
    assert isinstance(agg.params["server-learning-rate"], float)
    assert dict(make_aggregator("multi-krum", {"multi-krum-selected": 4}).params)["multi-krum-selected"] == 4


def test_an_unknown_name_names_the_scenario_key():
    with pytest.raises(ConfigError, match="task.aggregator: unknown aggregator 'fedprox'.*trimmed-mean"):
        make_aggregator("fedprox")


@pytest.mark.parametrize("name, key", [("fedavg", "trim-fraction"), ("krum", "trim-fraction"),
                                       ("fedadagrad", "beta2"), ("median", "assumed_malicious")])
def test_a_key_the_aggregator_does_not_take_is_refused(name, key):
    with pytest.raises(ConfigError, match=f"aggregator.{key}: unknown key for aggregator '{name}'") as err:
        make_aggregator(name, {key: 0.1})
    assert err.value.key == f"aggregator.{key}"


@pytest.mark.parametrize("name, key, value", [
    ("trimmed-mean", "trim-fraction", 0.5), ("trimmed-mean", "trim-fraction", -0.1),
    ("trimmed-mean", "trim-fraction", "0.1"), ("trimmed-mean", "trim-fraction", True),
    ("krum", "assumed-malicious", -1), ("krum", "assumed-malicious", 1.5), ("bulyan", "assumed-malicious", True),
    ("multi-krum", "multi-krum-selected", 0), ("multi-krum", "multi-krum-selected", 2.0),
    ("fedavgm", "momentum", 1.0), ("fedavgm", "server-learning-rate", 0),
    ("fedadam", "beta1", 1.0), ("fedyogi", "beta2", -0.1), ("fedadagrad", "tau", 0.0),
    ("fedadam", "server-learning-rate", math.nan), ("fedadam", "server-learning-rate", math.inf),
    ("norm-bound", "norm-bound", 0.0), ("norm-bound", "norm-bound", -3),
    ("krum", "attacker-share", 0.5), ("trimmed-mean", "attacker-share", -0.1),
    ("centered-clipping", "attacker-share", "0.3"), ("centered-clipping", "iterations", 0),
    ("centered-clipping", "clip-radius", 0.0), ("fltrust", "root-epochs", 0), ("fltrust", "root-epochs", 2.5),
])
def test_a_bad_value_names_its_key(name, key, value):
    with pytest.raises(ConfigError) as err:
        make_aggregator(name, {key: value})
    assert err.value.key == f"aggregator.{key}"
    assert repr(value) in err.value.problem


def test_zero_assumed_malicious_and_zero_trim_are_allowed():
    assert make_aggregator("krum", {"assumed-malicious": 0}).params["assumed-malicious"] == 0
    assert make_aggregator("trimmed-mean", {"trim-fraction": 0}).params["trim-fraction"] == 0.0


@pytest.mark.parametrize("clients, share, f", [(10, 0.3, 3), (20, 0.3, 6), (20, 0.1, 2), (7, 0.45, 2), (4, 0.3, 0)])
def test_krums_f_follows_the_round_and_the_attacker_share(clients, share, f):
    """floor(share x n), capped at Krum's (n - 3) / 2: 7 updates at 45% give 3, capped to 2."""
    updates = torch.randn(clients, 5, generator=torch.Generator().manual_seed(clients))
    ones = torch.ones(clients)
    derived = make_aggregator("multi-krum", {"attacker-share": share})(updates, ones)
    assert torch.equal(derived, make_aggregator("multi-krum", {"assumed-malicious": f})(updates, ones))


def test_an_explicit_parameter_wins_over_the_share():
    updates, ones = torch.randn(20, 5, generator=torch.Generator().manual_seed(3)), torch.ones(20)
    explicit = make_aggregator("trimmed-mean", {"attacker-share": 0.3, "trim-fraction": 0.1})(updates, ones)
    assert torch.equal(explicit, make_aggregator("trimmed-mean", {"attacker-share": 0.1})(updates, ones))
    assert not torch.equal(explicit, make_aggregator("trimmed-mean")(updates, ones))
    krum = make_aggregator("krum", {"attacker-share": 0.4, "assumed-malicious": 1})
    assert torch.equal(krum(updates, ones), make_aggregator("krum", {"attacker-share": 0.05})(updates, ones))


def _round(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(9, 6, generator=g), torch.rand(9, generator=g) + 0.1


@pytest.mark.parametrize("name", AGGREGATOR_NAMES)
def test_only_the_documented_rules_use_sample_weights(name):
    updates, weights = _round(0)
    root = updates.mean(0)
    first = make_aggregator(name)(updates, weights, root_update=root)
    other = make_aggregator(name)(updates, weights.flip(0) * 7, root_update=root)
    assert torch.equal(first, other) != (name in WEIGHTED)


@pytest.mark.parametrize("name", AGGREGATOR_NAMES)
def test_every_rule_checks_its_weights(name):
    updates, weights = _round(1)
    with pytest.raises(LearningError, match=f"{name} needs one weight per client"):
        make_aggregator(name)(updates, weights[:-1], root_update=updates.mean(0))
    with pytest.raises(LearningError, match=f"{name} weights must be finite"):
        make_aggregator(name)(updates, -weights, root_update=updates.mean(0))


def test_fltrust_gets_the_root_update_through_the_call():
    updates, weights = _round(2)
    agg = make_aggregator("fltrust")
    with pytest.raises(LearningError, match="root update"):
        agg(updates, weights)
    assert agg(updates, weights, root_update=updates[0]).shape == (6,)


def test_fltrust_without_momentum_is_the_papers_step_byte_for_byte():
    agg = make_aggregator("fltrust", {"server-momentum": 0})
    for seed in range(3):
        updates, weights = _round(seed)
        root = updates.mean(0) + 0.1
        assert agg(updates, weights, root_update=root).numpy().tobytes() == \
            fltrust(updates, root_update=root).numpy().tobytes()


def test_fltrust_with_momentum_adds_this_rounds_aggregate_to_the_decayed_last_step():
    agg = make_aggregator("fltrust", {"server-momentum": 0.5})
    first, second = _round(0), _round(1)
    step1 = agg(*first, root_update=first[0].mean(0))
    step2 = agg(*second, root_update=second[0].mean(0))
    expected = 0.5 * fltrust(first[0], root_update=first[0].mean(0)).double() + \
        fltrust(second[0], root_update=second[0].mean(0)).double()
    assert torch.equal(step1, fltrust(first[0], root_update=first[0].mean(0)))
    assert torch.allclose(step2.double(), expected, atol=1e-7)
