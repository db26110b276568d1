"""The trainers' asks in a simulated task: each device asks its true cost of a round.

A device's true cost is what the edge model says a round costs it (its
expected energy and metered bytes at the scenario's prices, `econ.costs`)
plus its reservation; an honest trainer asks exactly that, a group with
`ask-factor` asks that multiple (a misreport, the dishonest part living here
in sim/, never in the trainer's own code). Every trainer signs one ask for
the whole task, published before round 1.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from fedstake.chain.eip712 import Domain
from fedstake.econ.costs import true_cost
from fedstake.edge import Plan, expected_usage
from fedstake.protocol.asks import Ask, AskBook, sign_ask
from fedstake.protocol.trainer import Trainer
from fedstake.sim.config import Scenario
from fedstake.sim.edge import EdgeModel


def round_costs(edge: EdgeModel, trainers: Sequence[Trainer]) -> dict[str, int]:
    """Each trainer's true cost of one round in base units, from its device, link and reservation."""
    costs = {}
    for t in trainers:
        i = edge.index[t.address]
        usage = expected_usage(Plan(edge.devices[i], t.samples, edge.work.model_bytes), edge.work)
        costs[t.address] = true_cost(usage, edge.prices, reservation=float(edge.participants.reservation[i]))
    return costs


def ask_book(scenario: Scenario, edge: EdgeModel, trainers: Sequence[Trainer], *, task_id: int,
             domain: Domain) -> AskBook:
    """Every trainer's signed ask for rounds 1..task.rounds: its true cost x its group's ask-factor."""
    factors = [Fraction(repr(g.ask_factor or 1.0)) for g in scenario.trainers for _ in range(g.count)]
    book = AskBook()
    for trainer, factor, (address, cost) in zip(trainers, factors, round_costs(edge, trainers).items()):
        ask = Ask(task_id, address, int(cost * factor), trainer.samples, 1, scenario.task.rounds)
        book.publish(sign_ask(ask, domain, trainer.account))
    return book
