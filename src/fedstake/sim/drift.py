"""How concentrated stake, quorum weight and rewards are after each round of a run.

Read from the chain where the chain holds it (the trainers' bonds the
cohort is drawn by, the validators' quorum weights), from the round's
row for rewards; cumulative rewards run over a whole sequence of tasks.
Trainers are the holders of stake, draw weight and rewards (the
population the draw picks from); validators those of quorum weight.
Every holder counts, zeros included.
"""

from __future__ import annotations

from fedstake.econ.concentration import concentration
from fedstake.protocol.cohort import selection_weight
from fedstake.sim.results import RoundRow
from fedstake.sim.world import World

MEASURES = ("stake", "draw_weight", "quorum_weight", "rewards_round", "rewards_cumulative")


class Drift:
    """Carries the cumulative rewards between rounds and tasks; `measure` fills a row's concentration."""

    def __init__(self) -> None:
        self.cumulative: dict[str, int] = {}

    def measure(self, world: World, row: RoundRow) -> dict[str, dict[str, float | int]]:
        session, trainers = world.session, [t.address for t in world.trainers]
        market, terms = session.market, session.terms
        bonds = session.registry.bonds_of(market.address, session.task_id, trainers)
        reputations = market.reputations_of(trainers) if terms.reputation_selection else [1] * len(trainers)
        draw = [selection_weight(b, r, exponent=terms.selection_exponent) if b >= terms.min_stake else 0.0
                for b, r in zip(bonds, reputations)]
        quorum = [market.view("weight", session.task_id, v.address) for v in world.validators]
        for address, amount in row.rewards.items():
            self.cumulative[address] = self.cumulative.get(address, 0) + amount
        vectors = {"stake": bonds, "draw_weight": draw, "quorum_weight": quorum,
                   "rewards_round": [row.rewards.get(a, 0) for a in trainers],
                   "rewards_cumulative": [self.cumulative.get(a, 0) for a in trainers]}
        return {name: concentration(vectors[name]).to_json() for name in MEASURES}
