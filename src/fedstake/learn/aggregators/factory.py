"""From a scenario's aggregator name and `[aggregator]` parameters to a callable rule.

Every aggregator answers the same call, `agg(updates, weights, *,
root_update=None) -> update`, and says which name and parameter values it
used (`agg.name`, `agg.params`) so a run can record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Mapping, Protocol

import torch

from fedstake.errors import ConfigError
from fedstake.learn.aggregators.bulyan import bulyan, bulyan_minimum
from fedstake.learn.aggregators.clipping import CenteredClipping
from fedstake.learn.aggregators.coordinate import coordinate_median, trimmed_mean
from fedstake.learn.aggregators.flame import flame
from fedstake.learn.aggregators.fltrust import fltrust
from fedstake.learn.aggregators.krum import krum, krum_minimum, multi_krum
from fedstake.learn.aggregators.mean import fedavg, norm_bounded_mean
from fedstake.learn.aggregators.numerics import check_updates, check_weights
from fedstake.learn.aggregators.server_opt import ServerOptimizer, adagrad_step, adam_step, momentum_step, yogi_step
from fedstake.learn.aggregators.settings import (
    AdagradSettings, AdaptiveSettings, ByzantineSettings, ClippingSettings, FLTrustSettings, MomentumSettings,
    MultiKrumSettings, NoSettings, NormBoundSettings, TrimSettings, as_params, settings_from,
)

NAME_KEY = "task.aggregator"


class Aggregator(Protocol):
    """What the validator calls: (clients x params) updates in client order, one sample weight per client."""

    name: str

    @property
    def params(self) -> Mapping[str, float | int | None]: ...

    @property
    def min_updates(self) -> int:
        """The fewest updates the rule can aggregate (Krum: 2f + 3, Bulyan: 4f + 3)."""
        ...

    def __call__(self, updates: torch.Tensor, weights: torch.Tensor, *,
                 root_update: torch.Tensor | None = None) -> torch.Tensor: ...


Apply = Callable[[Any, torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


@dataclass(frozen=True)
class Rule:
    """A stateless rule: its settings bound to one of the pure functions.

    Weights are checked for every rule, so a caller bug shows up even under
    the unweighted ones; `root_update` matters only to FLTrust.
    """

    name: str
    settings: Any
    apply: Apply

    @property
    def params(self) -> Mapping[str, float | int | None]:
        return as_params(self.settings)

    @property
    def min_updates(self) -> int:
        """Krum's 2f + 3 (and, for Multi-Krum, at least the m it averages), Bulyan's 4f + 3, else 1;
        an f left to the attacker share is capped at what the round's updates allow, so it needs 3."""
        f = getattr(self.settings, "assumed_malicious", None) or 0
        selected = getattr(self.settings, "multi_krum_selected", None) or 0
        return {"krum": krum_minimum(f), "multi-krum": max(krum_minimum(f), selected),
                "bulyan": bulyan_minimum(f)}.get(self.name, 1)

    def __call__(self, updates: torch.Tensor, weights: torch.Tensor, *,
                 root_update: torch.Tensor | None = None) -> torch.Tensor:
        check_weights(self.name, weights, len(check_updates(self.name, updates)))
        return self.apply(self.settings, updates, weights, root_update)


def _krum_most(updates: torch.Tensor) -> int:
    """The largest f Krum tolerates among these updates (n >= 2f + 3)."""
    return (len(updates) - 3) // 2


def _bulyan_most(updates: torch.Tensor) -> int:
    """The largest f Bulyan tolerates among these updates (n >= 4f + 3)."""
    return (len(updates) - 3) // 4


_RULES: dict[str, tuple[type, Apply]] = {
    "fedavg": (NoSettings, lambda s, u, w, r: fedavg(u, w)),
    "median": (NoSettings, lambda s, u, w, r: coordinate_median(u)),
    "trimmed-mean": (TrimSettings, lambda s, u, w, r: trimmed_mean(u, trim_fraction=s.trim)),
    "krum": (ByzantineSettings, lambda s, u, w, r: krum(
        u, assumed_malicious=s.malicious(len(u), most=_krum_most(u)))),
    "multi-krum": (MultiKrumSettings, lambda s, u, w, r: multi_krum(
        u, assumed_malicious=s.malicious(len(u), most=_krum_most(u)), selected=s.multi_krum_selected)),
    "bulyan": (ByzantineSettings, lambda s, u, w, r: bulyan(
        u, assumed_malicious=s.malicious(len(u), most=_bulyan_most(u)))),
    "norm-bound": (NormBoundSettings, lambda s, u, w, r: norm_bounded_mean(u, w, norm_bound=s.norm_bound)),
    "flame": (NoSettings, lambda s, u, w, r: flame(u)),
}


_OPTIMISERS: dict[str, tuple[type, Callable[..., Any]]] = {
    "fedavgm": (MomentumSettings, momentum_step),
    "fedadam": (AdaptiveSettings, adam_step),
    "fedyogi": (AdaptiveSettings, yogi_step),
    "fedadagrad": (AdagradSettings, adagrad_step),
}

AGGREGATOR_NAMES: tuple[str, ...] = (*_RULES, "fltrust", "centered-clipping", *_OPTIMISERS)


def _fltrust(settings: FLTrustSettings) -> ServerOptimizer:
    """FLTrust's aggregate as FedAvgM's pseudo-gradient; with momentum 0, FLTrust's own step."""
    def delta(updates: torch.Tensor, weights: torch.Tensor, root: torch.Tensor | None) -> torch.Tensor:
        check_weights("fltrust", weights, len(check_updates("fltrust", updates)))
        return fltrust(updates, root_update=root)

    step = partial(momentum_step, server_learning_rate=1.0, momentum=settings.server_momentum)
    return ServerOptimizer("fltrust", settings, step, delta)


def make_aggregator(name: str, params: Mapping[str, float | int | None] | None = None) -> Aggregator:
    """The named aggregator with `params` (kebab-case keys of the `[aggregator]` section) over its defaults.

    A fresh object every call: server optimisers carry state, so each
    validator needs its own.
    """
    params = params or {}
    if name in _RULES:
        cls, apply = _RULES[name]
        return Rule(name, settings_from(cls, name, params), apply)
    if name == "centered-clipping":
        return CenteredClipping(settings_from(ClippingSettings, name, params))
    if name == "fltrust":
        return _fltrust(settings_from(FLTrustSettings, name, params))
    if name in _OPTIMISERS:
        cls, step = _OPTIMISERS[name]
        settings = settings_from(cls, name, params)
        return ServerOptimizer(name, settings, partial(step, **vars(settings)))
    raise ConfigError(NAME_KEY, f"unknown aggregator {name!r}; choose from {', '.join(AGGREGATOR_NAMES)}")
