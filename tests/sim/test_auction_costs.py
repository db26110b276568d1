"""The auction's properties on the simulator's own cost models: devices drawn by the edge model
(phones, IoT sensors, vehicles, edge servers on their links), true costs from their energy, metered
bytes and reservations, over many seeds and cohorts. No misreport from 0.5x to 2x the true cost
gains a device anything, and no round pays beyond its budget."""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from fedstake.econ.auction import Bid, quality, reverse_auction
from fedstake.sim.asks import round_costs
from fedstake.sim.config import parse_scenario
from fedstake.sim.edge import EdgeModel

SEEDS = range(24)
MISREPORTS = [Fraction(n, 10) for n in range(5, 21)]  # 0.5x .. 2.0x in steps of 0.1
TOKEN = 10**18


@dataclass(frozen=True)
class Device:
    address: str
    samples: int


def market(seed: int, n: int = 30):
    """A seeded cohort: true costs from the edge model, qualities from random reputations and records."""
    scenario = parse_scenario({"task": {"seed": seed, "clients-per-round": 10, "pricing": "reverse-auction"},
                               "trainers": [{"count": n}], "edge": {"model-bytes": 14_000_000},
                               "costs": {"participation": "rational", "reservation": 0.5, "reservation-spread": 0.5}})
    rng = np.random.default_rng(seed)
    devices = [Device(f"0x{i:040x}", int(s)) for i, s in enumerate(rng.integers(20, 200, n))]
    edge = EdgeModel(scenario, [d.address for d in devices], model_bytes=14_000_000, num_params=4_810,
                     round_budget=0)
    costs = round_costs(edge, devices)
    bids = [Bid(d.address, costs[d.address], quality(samples=d.samples, reputation=int(rng.integers(1, 50)),
                                                     contribution=Fraction(int(rng.integers(1, 200)), 100)))
            for d in devices]
    budget = int(rng.integers(2, 40)) * TOKEN
    return bids, budget, 10


def utility(bids, i, factor, budget, cap):
    cost = bids[i].price
    played = list(bids)
    played[i] = Bid(bids[i].bidder, int(cost * factor), bids[i].quality)
    payment = reverse_auction(played, budget=budget, cap=cap).payments.get(bids[i].bidder)
    return 0 if payment is None else payment - cost


@pytest.mark.parametrize("seed", SEEDS)
def test_no_device_gains_by_misreporting_its_cost(seed):
    bids, budget, cap = market(seed)
    truthful = reverse_auction(bids, budget=budget, cap=cap)
    assert truthful.winners  # the cohorts are not empty: the property is tested where it bites
    for i in range(len(bids)):
        honest = utility(bids, i, 1, budget, cap)
        assert honest >= 0
        assert max(utility(bids, i, f, budget, cap) for f in MISREPORTS) <= honest


@pytest.mark.parametrize("seed", SEEDS)
def test_a_round_never_pays_beyond_its_budget_whatever_one_device_asks(seed):
    bids, budget, cap = market(seed)
    for i in range(0, len(bids), 3):
        for factor in MISREPORTS[::3]:
            played = list(bids)
            played[i] = Bid(bids[i].bidder, int(bids[i].price * factor), bids[i].quality)
            out = reverse_auction(played, budget=budget, cap=cap)
            assert out.total <= budget and len(out.winners) <= cap
