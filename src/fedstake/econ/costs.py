"""What taking part in a round costs a device, in tokens.

A device pays for the energy it spends (joules -> kWh x price) and for
the bytes it moves over a metered link (bytes -> GB x price); Wi-Fi and
wired links are flat-rate and bill nothing per byte. Prices are per
scenario, in whole tokens, so a scenario states its exchange rate
between the token and the world's prices.

Defaults read one token as one euro (our assumption): household
electricity about 0.30 EUR/kWh (Eurostat's EU average for 2023 was
around that, from memory) and mobile data about 2 EUR/GB (the order of
cable.co.uk's worldwide mobile data pricing survey medians, from
memory). GB is 10^9 bytes, as carriers bill.

The econ layer imports `fedstake.edge` (for `Usage`); edge never imports econ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from fedstake.edge.work import Usage
from fedstake.errors import ConfigError

JOULES_PER_KWH = 3.6e6
BYTES_PER_GB = 1e9
BASE_UNITS = 10**18  # per token


def energy_cost(joules: float, *, price_per_kwh: float) -> float:
    return joules / JOULES_PER_KWH * price_per_kwh


def bandwidth_cost(nbytes: int, *, price_per_gb: float) -> float:
    return nbytes / BYTES_PER_GB * price_per_gb


@dataclass(frozen=True)
class Prices:
    """A scenario's prices in whole tokens (`[costs] energy-price`, `bandwidth-price`)."""

    energy_per_kwh: float = 0.30
    bandwidth_per_gb: float = 2.0

    def __post_init__(self) -> None:
        if not self.energy_per_kwh >= 0:
            raise ConfigError("costs.energy-price", "must be >= 0 tokens per kWh")
        if not self.bandwidth_per_gb >= 0:
            raise ConfigError("costs.bandwidth-price", "must be >= 0 tokens per GB")

    def energy(self, usage: Usage) -> float:
        return energy_cost(usage.energy_j, price_per_kwh=self.energy_per_kwh)

    def bandwidth(self, usage: Usage) -> float:
        return bandwidth_cost(usage.bytes, price_per_gb=self.bandwidth_per_gb) if usage.metered else 0.0

    def cost(self, usage: Usage) -> float:
        """Tokens a round with this usage costs its device."""
        return self.energy(usage) + self.bandwidth(usage)


def true_cost(usage: Usage, prices: Prices, *, reservation: float = 0.0) -> int:
    """A device's true cost of a round in base units, rounded up: what it spends at these prices
    plus the reservation utility it needs above that to take part at all (its opportunity cost).
    An honest trainer asks exactly this in a reverse auction."""
    if not reservation >= 0:
        raise ConfigError("costs.reservation", "must be >= 0")
    tokens = Fraction(prices.cost(usage)) + Fraction(reservation)
    return math.ceil(tokens * BASE_UNITS)
