import dataclasses

import pytest

from deployers import MIN_STAKE, TOKEN, fund, join, open_task, rules, stake, staked_task
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert


def test_create_task_escrows_budget_and_asks_each_validator_for_a_bond(system, actors):
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    stake(system, actors.second_validator, 50 * TOKEN, Role.VALIDATOR)
    task = open_task(system, actors.requester, (actors.validator.address, actors.second_validator.address),
                     asks=(100 * TOKEN, 50 * TOKEN), budget=1_000 * TOKEN, rounds=4, settle_every=2)
    market, state = system.market, system.market.task(task)
    assert task == 1 and market.view("task_count") == 1
    assert (state.requester, state.budget, state.rounds, state.settle_every, state.closed) == (
        actors.requester.address, 1_000 * TOKEN, 4, 2, False)
    assert system.token.balance_of(market.address) == 1_000 * TOKEN == market.view("escrow_left", task)
    assert market.asked_bond(task, actors.validator.address) == 100 * TOKEN
    assert market.view("weight", task, actors.validator.address) == 0  # listed, not joined yet
    assert market.view("total_weight", task) == 150 * TOKEN
    assert market.validators(task) == [actors.validator.address, actors.second_validator.address]
    assert system.registry.bonded_of(actors.validator.address) == 0  # nobody's stake moves at creation


def test_a_validator_joins_with_exactly_its_ask_and_gains_that_weight(system, actors):
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    task = open_task(system, actors.requester, (actors.validator.address,), asks=(60 * TOKEN,))
    with pytest.raises(ContractRevert, match="tasks: bond differs from the ask"):
        system.market.join_task(task, 59 * TOKEN, sender=actors.validator)
    system.market.join_task(task, 60 * TOKEN, sender=actors.validator)
    assert system.market.view("weight", task, actors.validator.address) == 60 * TOKEN
    assert system.registry.bond_of(system.market.address, task, actors.validator.address) == 60 * TOKEN
    assert system.registry.bonded_of(actors.validator.address) == 60 * TOKEN
    with pytest.raises(ContractRevert, match="stake: already bonded"):
        system.market.join_task(task, 60 * TOKEN, sender=actors.validator)


def test_only_listed_validators_and_trainers_above_the_minimum_join(system, actors):
    task = staked_task(system, actors)
    stake(system, actors.outsider, 100 * TOKEN, Role.VALIDATOR)
    with pytest.raises(ContractRevert, match="tasks: not a validator of the task"):
        system.market.join_task(task, 100 * TOKEN, sender=actors.outsider)
    stake(system, actors.trainer, 2 * MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match="tasks: bond below the task minimum"):
        system.market.join_task(task, MIN_STAKE - 1, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="stake: not enough free stake"):
        system.market.join_task(task, 3 * MIN_STAKE, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="stake: zero amount"):
        system.market.join_task(task, 0, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="stake: not trusted"):  # never staked, never trusted the market
        system.market.join_task(task, 0, sender=actors.second_trainer)
    join(system, actors.trainer, task, 2 * MIN_STAKE)
    assert system.registry.bond_of(system.market.address, task, actors.trainer.address) == 2 * MIN_STAKE


@pytest.mark.parametrize("change, reason", [
    (dict(budget=0), "tasks: zero budget"), (dict(rounds=0), "tasks: bad round count"),
    (dict(budget=2**128), "tasks: budget too large"), (dict(rounds=2**64), "tasks: bad round count"),
    (dict(cohort_size=0), "tasks: zero cohort"), (dict(validators=(), validator_bonds=()), "tasks: no validators"),
    (dict(validator_bonds=(1, 2)), "tasks: one bond per validator"), (dict(validator_bonds=(0,)), "tasks: zero validator bond"),
    (dict(deadline=0), "tasks: deadline passed"), (dict(settle_every=0), "tasks: bad settlement period"),
    (dict(settle_every=4), "tasks: bad settlement period"),
])
def test_create_task_rejects_bad_rules(system, actors, change, reason):
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    task_rules = dataclasses.replace(
        rules((actors.validator.address,), (100 * TOKEN,), deadline=system.backend.timestamp() + 99), **change)
    fund(system, actors.requester, 1_000 * TOKEN)
    system.token.approve(system.market.address, 1_000 * TOKEN, sender=actors.requester)
    with pytest.raises(ContractRevert, match=reason):
        system.market.create_task(task_rules, sender=actors.requester)


def test_create_task_requires_registered_validators(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match="tasks: validator not registered"):
        open_task(system, actors.requester, (actors.trainer.address,))


def test_a_validator_without_free_stake_cannot_join(system, actors):
    stake(system, actors.validator, MIN_STAKE, Role.VALIDATOR)
    system.registry.request_unbond(MIN_STAKE, sender=actors.validator)
    with pytest.raises(ContractRevert, match="stake: not enough free stake"):
        open_task(system, actors.requester, (actors.validator,), asks=(MIN_STAKE,))


def test_create_task_rejects_duplicate_validators(system, actors):
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    with pytest.raises(ContractRevert, match="tasks: duplicate validator"):
        open_task(system, actors.requester, (actors.validator.address, actors.validator.address))


def test_create_task_without_allowance_reverts(system, actors):
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    task_rules = rules((actors.validator.address,), (100 * TOKEN,), deadline=system.backend.timestamp() + 100)
    fund(system, actors.requester, task_rules.budget)
    with pytest.raises(ContractRevert, match="erc20: insufficient allowance"):
        system.market.create_task(task_rules, sender=actors.requester)


def test_pause_stops_new_tasks_only_and_unpause_restores_them(system, actors):
    task = staked_task(system, actors)
    system.market.pause(sender=actors.owner)
    assert system.market.view("paused") is True
    with pytest.raises(ContractRevert, match="pausable: contract is paused"):
        open_task(system, actors.requester, (actors.validator.address,))
    system.market.unpause(sender=actors.owner)
    assert open_task(system, actors.requester, (actors.validator.address,)) == task + 1


def test_pause_is_owner_only(system, actors):
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        system.market.pause(sender=actors.outsider)
    system.market.pause(sender=actors.owner)
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        system.market.unpause(sender=actors.outsider)


@pytest.mark.parametrize("bond", [0, MIN_STAKE // 10 - 1])
def test_market_refuses_a_challenge_bond_below_a_tenth_of_the_minimum_stake(backend, actors, bond):
    from deployers import PARAMS, deploy

    with pytest.raises(ContractRevert, match="disputes: bond below minimum"):
        deploy(backend, actors, dataclasses.replace(PARAMS, challenge_bond=bond))
    deploy(backend, actors, dataclasses.replace(PARAMS, challenge_bond=MIN_STAKE // 10))
