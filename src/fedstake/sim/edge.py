"""The edge around a simulated task: who is online, who chooses to take part,
how long each round takes on the devices' links, and what it costs them.

The protocol does not know about any of this: the simulator's transport
offers it only the submissions that arrive in time, and the runner feeds
each device's payments back into its decision for the next round.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from fedstake.econ.costs import Prices
from fedstake.econ.participation import Participants, make_participants
from fedstake.edge import (BACKHAUL, Availability, Plan, RoundTiming, Topology, Workload, chain_profile,
                           expected_usage, sample_devices, simulate_round, training_flops_per_sample)
from fedstake.errors import ConfigError
from fedstake.protocol.messages import Submission
from fedstake.sim.config import Scenario

TOKEN = 10**18


@dataclass
class DeviceLedger:
    """What each device spent so far (for results.json)."""

    energy_j: dict[str, float] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)

    def add(self, address: str, energy_j: float, nbytes: int, cost: float) -> None:
        self.energy_j[address] = self.energy_j.get(address, 0.0) + energy_j
        self.bytes[address] = self.bytes.get(address, 0) + nbytes
        self.cost[address] = self.cost.get(address, 0.0) + cost


@dataclass(frozen=True)
class Gate:
    """A cohort sorted by what the edge let through."""

    present: list[str]
    offline: list[str]
    declined: list[str]


class EdgeModel:
    """Devices, links, availability, prices and decisions for one scenario's trainers."""

    def __init__(self, scenario: Scenario, addresses: Sequence[str], *, model_bytes: int, num_params: int,
                 round_budget: int) -> None:
        edge, costs, seed = scenario.edge, scenario.costs, scenario.task.seed
        if edge is None:
            raise ConfigError("edge", "the edge model needs an [edge] section")
        self.scenario = scenario
        self.index = {a: i for i, a in enumerate(addresses)}
        self.devices = sample_devices(len(addresses), edge.mix, seed=seed)
        self.availability = Availability(len(addresses), leave=edge.availability_leave,
                                         rejoin=edge.availability_return, seed=seed)
        backhaul = dataclasses.replace(BACKHAUL, down_mbps=edge.backhaul_mbps, up_mbps=edge.backhaul_mbps,
                                       rtt_ms=edge.backhaul_rtt_ms)
        self.topology = Topology(edge.topology, edges=edge.edges, backhaul=backhaul)
        self.chain = chain_profile(edge.chain_profile, block_s=edge.block_time, finality_s=edge.finality)
        self.prices = Prices(energy_per_kwh=costs.energy_price, bandwidth_per_gb=costs.bandwidth_price)
        announced = round_budget / TOKEN / scenario.task.clients_per_round
        self.participants: Participants = make_participants(
            costs.participation, len(addresses), announced=announced, reservation=costs.reservation,
            reservation_spread=costs.reservation_spread, smoothing=costs.smoothing,
            intrinsic_value=costs.intrinsic_value, intrinsic_spread=costs.intrinsic_spread,
            decay=costs.volunteer_decay, seed=seed)
        self.update_bytes = edge.model_bytes  # None: each update's real size
        self.work = Workload(model_bytes=edge.model_bytes or model_bytes,
                             flops_per_sample=edge.flops_per_sample or training_flops_per_sample(num_params),
                             epochs=scenario.task.local_epochs)
        self.now_s = 0.0
        self.spent = DeviceLedger()

    def _plan(self, address: str, samples: int, update_bytes: int) -> Plan:
        return Plan(self.devices[self.index[address]], samples, update_bytes)

    def gate(self, round: int, cohort: Sequence[str], samples: Mapping[str, int]) -> Gate:
        """Who of the selected trainers is online, and who of those decides to take part."""
        online = self.availability.online(round)
        present = [a for a in cohort if online[self.index[a]]]
        costs = [self.prices.cost(expected_usage(self._plan(a, samples[a], self.work.model_bytes), self.work))
                 for a in present]
        ids = np.array([self.index[a] for a in present], dtype=int)
        chosen = self.participants.choose(ids, costs) if present else np.zeros(0, dtype=bool)
        return Gate([a for a, c in zip(present, chosen) if c], [a for a in cohort if not online[self.index[a]]],
                    [a for a, c in zip(present, chosen) if not c])

    def time(self, round: int, submissions: Sequence[Submission], samples: Mapping[str, int]) -> tuple[
            list[Submission], RoundTiming]:
        """The round on the devices' links: the submissions that arrive before the deadline."""
        edge = self.scenario.edge
        plans = [self._plan(s.trainer, samples[s.trainer], self.update_bytes or len(s.payload)) for s in submissions]
        timing = simulate_round(
            plans, self.work, seed=self.scenario.task.seed * 100_003 + round, start_s=self.now_s,
            deadline_s=edge.deadline if edge.deadline is not None else math.inf, topology=self.topology,
            chain=self.chain, aggregate_s=edge.aggregate_time,
            challenge_window_s=self.scenario.chain.challenge_window)
        for s in submissions:
            usage = timing.paths[self.index[s.trainer]].usage
            self.spent.add(s.trainer, usage.energy_j, usage.bytes, self.prices.cost(usage))
        on_time = set(timing.on_time)
        self.now_s = timing.end
        return [s for s in submissions if self.index[s.trainer] in on_time], timing

    def end_round(self, received: Mapping[str, int], took_part: Sequence[str]) -> None:
        """Devices learn what taking part paid them this round (whole tokens, 0 when nothing arrived)
        and the going rate the chain shows everyone."""
        earned = {self.index[a]: received.get(a, 0) / TOKEN for a in took_part}
        self.participants.end_round(earned, public=public_rate(received, took_part))


def public_rate(received: Mapping[str, int], took_part: Sequence[str]) -> float | None:
    """Mean reward, in whole tokens, of the devices that took part and were paid: the rate a device
    that stayed away reads from the final root. `received` also holds the validators' rewards, which
    say nothing about what a trainer earns, so only the devices' own count (None if none was paid)."""
    paid = [received[a] for a in took_part if received.get(a)]
    return sum(paid) / len(paid) / TOKEN if paid else None


@dataclass
class PayoutClock:
    """From contribution to spendable reward, in simulated seconds: a contribution is
    paid when the first final rewards root holding it is final and a claim sent then is too."""

    pending: dict[str, list[float]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def contributed(self, address: str, at_s: float) -> None:
        self.pending.setdefault(address, []).append(at_s)

    def paid(self, address: str, at_s: float) -> None:
        self.latencies.extend(at_s - t for t in self.pending.pop(address, []))

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q)) if self.latencies else None
