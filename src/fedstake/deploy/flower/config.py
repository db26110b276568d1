"""The fedstake Flower apps' run configuration: a scenario's sections as flat Flower keys.

Flower flattens `[tool.flwr.app.config]` tables into dotted keys, so a
run config written like a fedstake scenario (`task.aggregator =
"median"`, `aggregator.trim-fraction = 0.2`, `screening.max-norm = 20`)
arrives as exactly the keys our errors already name. Sections:

  task.*        dataset, partition, model, local training, rounds, aggregator, seed
  aggregator.*  the aggregator's own parameters (see `make_aggregator`)
  screening.*   max-norm, the largest accepted update norm
  attack.*      <behaviour>.partitions (ids that play it, "0,3") and <behaviour>.<param>
  flower.*      fraction-train, fraction-evaluate, min-nodes, node-wait, output-dir

Keys outside these sections belong to the user and are left alone. Types
are checked here; ranges and names are checked by the fedstake
constructors each value feeds (LocalTraining, load_dataset, ...), which
raise ConfigError naming the same key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

from fedstake.errors import ConfigError
from fedstake.learn.aggregators import make_aggregator
from fedstake.learn.attacks import Behaviour, make_behaviour
from fedstake.learn.train import LocalTraining

Scalar = bool | int | float | str


@dataclass(frozen=True)
class TaskSettings:
    """The learning task both apps share; defaults are the scenario's, but 3 rounds."""

    dataset: str = "digits"
    synthetic_alpha: float = 1.0
    synthetic_beta: float = 1.0
    partition: str = "dirichlet"
    dirichlet_alpha: float = 0.5
    shards_per_client: int = 2
    model: str = "mlp"
    rounds: int = 3
    local_epochs: int = 5
    batch_size: int = 16
    learning_rate: float = 0.1
    proximal_mu: float = 0.0
    aggregator: str = "fltrust"  # as a scenario's default
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ConfigError("task.rounds", f"must be at least 1, got {self.rounds}")

    @property
    def training(self) -> LocalTraining:
        return LocalTraining(self.local_epochs, self.batch_size, self.learning_rate, self.proximal_mu)


@dataclass(frozen=True)
class FlowerSettings:
    """How the ServerApp samples nodes (Flower's FedAvg semantics) and where it writes its results."""

    fraction_train: float = 1.0
    fraction_evaluate: float = 1.0
    min_nodes: int = 2
    node_wait: float = 0.0  # seconds the run waits for min-nodes before failing; 0: as long as it takes
    output_dir: str = ""

    def __post_init__(self) -> None:
        for name in ("fraction_train", "fraction_evaluate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"flower.{_kebab(name)}", f"must be in [0, 1], got {getattr(self, name)}")
        if self.min_nodes < 1:
            raise ConfigError("flower.min-nodes", f"must be at least 1, got {self.min_nodes}")
        if not (self.node_wait >= 0 and math.isfinite(self.node_wait)):
            raise ConfigError("flower.node-wait", f"must be a number of seconds >= 0, got {self.node_wait}")


HONEST = make_behaviour("honest")


@dataclass(frozen=True)
class AttackSettings:
    """Which partitions misbehave, and how: lets Flower users test a rule's robustness."""

    by_partition: Mapping[int, Behaviour] = field(default_factory=lambda: MappingProxyType({}))

    def behaviour_for(self, partition_id: int) -> Behaviour:
        return self.by_partition.get(partition_id, HONEST)


@dataclass(frozen=True)
class RunSettings:
    task: TaskSettings = TaskSettings()
    aggregator_params: Mapping[str, float | int] = field(default_factory=lambda: MappingProxyType({}))
    max_norm: float = 20.0
    attack: AttackSettings = AttackSettings()
    flower: FlowerSettings = FlowerSettings()


def read_run_config(config: Mapping[str, Scalar]) -> RunSettings:
    """Settings from a flat Flower run config; a bad key or value is a ConfigError naming it."""
    sections = _split(config)
    task = _dataclass_from(TaskSettings, "task", sections.get("task", {}))
    params = MappingProxyType(dict(sections.get("aggregator", {})))
    make_aggregator(task.aggregator, params)  # fail before any round, not in the first aggregation
    return RunSettings(task, params, _max_norm(sections.get("screening", {})),
                       _attack(sections.get("attack", {})),
                       _dataclass_from(FlowerSettings, "flower", sections.get("flower", {})))


def _split(config: Mapping[str, Scalar]) -> dict[str, dict[str, Scalar]]:
    sections: dict[str, dict[str, Scalar]] = {}
    for key, value in config.items():
        section, dot, name = key.partition(".")
        if dot and section in ("task", "aggregator", "screening", "attack", "flower"):
            sections.setdefault(section, {})[name] = value
    return sections


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _dataclass_from(cls: type, section: str, values: Mapping[str, Scalar]) -> Any:
    """`cls` from kebab-case keys, each value of its default's type (an int is a valid float)."""
    defaults = {_kebab(f.name): (f.name, f.default) for f in fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in defaults:
            raise ConfigError(f"{section}.{key}", f"unknown key; {section}.* takes {', '.join(defaults)}")
        name, default = defaults[key]
        kwargs[name] = _typed(f"{section}.{key}", value, type(default))
    return cls(**kwargs)


_KINDS = {int: "a whole number", float: "a number", str: "a string"}


def _typed(key: str, value: Scalar, wanted: type) -> Scalar:
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not wanted:
        raise ConfigError(key, f"must be {_KINDS[wanted]}, got {value!r}")
    return value


def _max_norm(values: Mapping[str, Scalar]) -> float:
    unknown = set(values) - {"max-norm"}
    if unknown:
        raise ConfigError(f"screening.{sorted(unknown)[0]}", "unknown key; screening.* takes max-norm")
    norm = _typed("screening.max-norm", values.get("max-norm", 20.0), float)
    if not (norm > 0 and math.isfinite(norm)):
        raise ConfigError("screening.max-norm", f"must be a positive number, got {norm}")
    return norm


def _attack(values: Mapping[str, Scalar]) -> AttackSettings:
    """One table per behaviour, like a scenario's trainer groups: `attack.<behaviour>.partitions`
    and `attack.<behaviour>.<param>`."""
    tables: dict[str, dict[str, Scalar]] = {}
    for key, value in values.items():
        name, dot, param = key.partition(".")
        if not dot:
            raise ConfigError(f"attack.{key}", "expected attack.<behaviour>.partitions or attack.<behaviour>.<param>")
        tables.setdefault(name, {})[param] = value
    by_partition: dict[int, Behaviour] = {}
    for name, table in tables.items():
        if "partitions" not in table:
            raise ConfigError(f"attack.{name}.partitions", "missing: which partition ids play this behaviour")
        ids = _partition_ids(f"attack.{name}.partitions", table.pop("partitions"))
        behaviour = make_behaviour(name, table, key=f"attack.{name}")
        for i in sorted(ids):
            if i in by_partition:
                raise ConfigError(f"attack.{name}.partitions", f"partition {i} already plays {by_partition[i].name!r}")
            by_partition[i] = behaviour
    return AttackSettings(MappingProxyType(by_partition))


def _partition_ids(key: str, value: Scalar) -> frozenset[int]:
    """"0,3" or 3 (Flower configs hold no lists)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _typed(key, value, str)
    try:
        ids = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(key, f"must be partition ids separated by commas, got {value!r}") from None
    if any(i < 0 for i in ids):
        raise ConfigError(key, f"partition ids are non-negative, got {value!r}")
    return ids
