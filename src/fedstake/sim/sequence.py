"""A sequence of tasks for the same participants, with or without reinvested rewards.

Stake compounds only across tasks: a bond is fixed when its holder joins
a task (the cohort is drawn by bonds, and a validator's quorum weight is
its bond), so what a participant earns in one task can count only from
the next. With `rewards.reinvest` every participant restakes what it
claimed when a task ended and bonds its whole stake to the next one (the
compounding Fanti et al. 2019 study in proof-of-stake); without it each
bonds the stake it has, and rewards stay in its wallet.
"""

from __future__ import annotations

from fedstake.chain.deployment import TOKEN
from fedstake.sim.world import World, open_task


def tally_claims(world: World) -> None:
    """Add the ended task's claims to `world.claimed_total` (what a run reports each claimed)."""
    for address, (amount, _) in world.claimed.items():
        world.claimed_total[address] = world.claimed_total.get(address, 0) + amount


def next_task(world: World) -> None:
    """Open the sequence's next task from the last agreed model, once the ended one was closed,
    claimed (and tallied) and its bonds released; restake the claims first when the scenario
    reinvests."""
    deployment, scenario = world.deployment, world.scenario
    registry, token = deployment.registry, deployment.token
    claimed = {address: amount for address, (amount, _) in world.claimed.items()}
    roles = [*world.validators, *world.trainers]
    if scenario.rewards.reinvest:
        for role in roles:
            if claimed.get(role.address):
                role.stake(token, registry, claimed[role.address])
    stakes = dict(zip([r.address for r in roles], registry.stakes_of([r.address for r in roles])))
    minimum = max(scenario.chain.min_stake * TOKEN, 1)
    validators = [(v, stakes[v.address]) for v in world.validators if stakes[v.address] > 0]
    trainers = [t for t in world.trainers if stakes[t.address] >= minimum]  # a slashed-out one sits out
    session = world.session
    world.task_id, world.session = open_task(scenario, world.backend, deployment, world.requester, validators,
                                             trainers, stakes, session.global_params, session.model_hash)
    world.claimed, world.forfeited, world.credited, world.tables = {}, set(), {}, {}
