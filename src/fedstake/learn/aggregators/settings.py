"""Each aggregator's parameters: frozen, checked, with defaults from the literature.

A scenario's `[aggregator]` section holds kebab-case keys; each dataclass
field is the snake_case twin of one key. A bad value is a ConfigError
naming `aggregator.<key>` before any round runs; `as_params` gives the
values in use, kebab-case, for results.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from fedstake.errors import ConfigError

SECTION = "aggregator"

ATTACKER_SHARE = 0.3  # the share of a round's updates the rules assume hostile unless told otherwise


def _key(name: str) -> str:
    return f"{SECTION}.{name.replace('_', '-')}"


def _real(default: float | None, *, low: float, high: float = math.inf, low_open: bool = False,
          optional: bool = False) -> Any:
    """A real parameter in [low, high), or (low, high) when `low_open`; stored as a float; None allowed
    when `optional`."""
    return field(default=default, metadata={"real": (low, high, low_open, optional)})


def _positive(default: float) -> Any:
    return _real(default, low=0, low_open=True)


def _share(default: float) -> Any:
    """An assumed attacker share: below one half, where every rule here stops working."""
    return _real(default, low=0, high=0.5)


def _whole(default: int | None, *, low: int, optional: bool = False) -> Any:
    """An integer parameter of at least `low`; None allowed when `optional`."""
    return field(default=default, metadata={"whole": (low, optional)})


def _check_real(obj: object, name: str, low: float, high: float, low_open: bool, optional: bool = False) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(_key(name), f"must be a number, got {value!r}")
    if not ((value > low if low_open else value >= low) and value < high):
        raise ConfigError(_key(name), f"must be in {'(' if low_open else '['}{low:g}, {high:g}), got {value!r}")
    object.__setattr__(obj, name, float(value))


def _check_whole(obj: object, name: str, low: int, optional: bool) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(_key(name), f"must be a whole number >= {low}, got {value!r}")


class _Checked:
    """Checks every field against the range its metadata declares, once, at construction."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            if "real" in f.metadata:
                _check_real(self, f.name, *f.metadata["real"])
            if "whole" in f.metadata:
                _check_whole(self, f.name, *f.metadata["whole"])


@dataclass(frozen=True)
class NoSettings(_Checked):
    """FedAvg, median and FLAME take no parameters."""


@dataclass(frozen=True)
class MomentumSettings(_Checked):
    """FedAvgM; server momentum 0.9 and learning rate 1 (Hsu et al. 2019; Reddi et al. 2021)."""

    server_learning_rate: float = _positive(1.0)
    momentum: float = _real(0.9, low=0, high=1)


@dataclass(frozen=True)
class AdaptiveSettings(_Checked):
    """FedAdam and FedYogi; beta1 0.9, beta2 0.99, tau 1e-3 as in Reddi et al. (2021)."""

    server_learning_rate: float = _positive(0.01)
    beta1: float = _real(0.9, low=0, high=1)
    beta2: float = _real(0.99, low=0, high=1)
    tau: float = _positive(1e-3)


@dataclass(frozen=True)
class AdagradSettings(_Checked):
    """FedAdagrad; no momentum by default, as in classic Adagrad and Flower."""

    server_learning_rate: float = _positive(0.1)
    beta1: float = _real(0.0, low=0, high=1)
    tau: float = _positive(1e-3)


def tolerated(share: float, updates: int, *, most: int) -> int:
    """floor(share x updates) hostile updates, capped at the `most` a rule can tolerate among `updates`."""
    return max(0, min(math.floor(share * updates), most))


@dataclass(frozen=True)
class ByzantineSettings(_Checked):
    """Krum and Bulyan: f, the number of malicious updates to tolerate in a round.

    Left unset, f follows the round: floor(attacker-share x updates), capped
    at what the rule can tolerate among them (Krum n >= 2f + 3, Bulyan
    n >= 4f + 3), so one setting serves a cohort of 10 or of 100. An
    explicit assumed-malicious wins over the share.
    """

    attacker_share: float = _share(ATTACKER_SHARE)
    assumed_malicious: int | None = _whole(None, low=0, optional=True)

    def malicious(self, updates: int, *, most: int) -> int:
        """This round's f: the explicit one, or the share's, capped at `most`."""
        if self.assumed_malicious is not None:
            return self.assumed_malicious
        return tolerated(self.attacker_share, updates, most=most)


@dataclass(frozen=True)
class MultiKrumSettings(ByzantineSettings):
    """Multi-Krum: f as for Krum, and m, how many best-scored updates to average (None: n - f, per round)."""

    multi_krum_selected: int | None = _whole(None, low=1, optional=True)


@dataclass(frozen=True)
class TrimSettings(_Checked):
    """Trimmed mean: the fraction dropped from *each* end of every coordinate (Yin et al. 2018);
    unset, the assumed attacker share, so that as many values as there are attackers go from each end."""

    attacker_share: float = _share(ATTACKER_SHARE)
    trim_fraction: float | None = _real(None, low=0, high=0.5, optional=True)

    @property
    def trim(self) -> float:
        return self.attacker_share if self.trim_fraction is None else self.trim_fraction


@dataclass(frozen=True)
class ClippingSettings(_Checked):
    """Centered clipping (Karimireddy et al. 2021): `iterations` clipping steps from last round's
    aggregate; the radius, unset, is each step's distance of the farthest update once the assumed
    attacker share of the farthest is set aside (see `clipping.share_radius`)."""

    attacker_share: float = _share(ATTACKER_SHARE)
    iterations: int = _whole(3, low=1)
    clip_radius: float | None = _real(None, low=0, low_open=True, optional=True)


@dataclass(frozen=True)
class FLTrustSettings(_Checked):
    """FLTrust: the epochs the server trains its root update for on its trusted data (None: as long as
    the trainers do). A trainer's single epoch is a few SGD steps on a small root set, a noisy
    direction to trust. 5 epochs give a steady one; 20 overshoot where honest updates agree (IID digits:
    0.19 with no attack), since every update is rescaled to the root's norm (README, robustness)."""

    root_epochs: int | None = _whole(5, low=1, optional=True)
    # FedAvgM's momentum over FLTrust's aggregates (0: the paper's FLTrust). Each step is bounded by the
    # root's norm, so FLTrust alone moves no further per round than its root; momentum lets the honest
    # direction build up over rounds, which the attackers' bounded share cannot (README, robustness).
    server_momentum: float = _real(0.9, low=0, high=1)


@dataclass(frozen=True)
class NormBoundSettings(_Checked):
    """Norm bounding: the largest L2 norm an update keeps (Sun et al. 2019 found 3 effective on EMNIST)."""

    norm_bound: float = _positive(3.0)


def settings_from(cls: type, rule: str, params: Mapping[str, Any]) -> Any:
    """Build `cls` from kebab-case keys; a key `rule` does not take is a ConfigError naming it."""
    known = {f.name.replace("_", "-"): f.name for f in fields(cls)}
    for key in params:
        if key not in known:
            allowed = ", ".join(known) or "none"
            raise ConfigError(f"{SECTION}.{key}", f"unknown key for aggregator {rule!r} (it takes: {allowed})")
    return cls(**{known[key]: value for key, value in params.items()})


def as_params(settings: object) -> dict[str, float | int | None]:
    """The values in use, kebab-case, as results.json records them."""
    return {f.name.replace("_", "-"): getattr(settings, f.name) for f in fields(settings)}
