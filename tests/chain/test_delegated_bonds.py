"""Delegated stake in the protocol: it raises quorum weight and selection weight through the bond
a delegate posts, and a slash of that bond takes delegators pro rata."""

import pytest

from deployers import TOKEN, delegate_to, open_task, stake
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert


def test_a_validator_bonds_delegated_stake_for_more_quorum_weight(system, actors):
    validator = actors.validator
    stake(system, validator, 100 * TOKEN, Role.VALIDATOR)
    system.delegation.open(sender=validator)
    task = open_task(system, actors.requester, (validator.address,), asks=(300 * TOKEN,))
    with pytest.raises(ContractRevert, match="stake: not enough free stake"):
        system.market.join_task(task, 300 * TOKEN, sender=validator)
    delegate_to(system, actors.outsider, validator.address, 200 * TOKEN)
    system.market.join_task(task, 300 * TOKEN, sender=validator)
    assert system.market.handle.call("weight", task, validator.address) == 300 * TOKEN


def test_a_trainer_bonds_delegated_stake_for_more_selection_weight(system, actors):
    for v in actors.validators:
        stake(system, v, 100 * TOKEN, Role.VALIDATOR)
    task = open_task(system, actors.requester, actors.validators)
    trainer = actors.trainer
    stake(system, trainer, 20 * TOKEN, Role.TRAINER)
    system.delegation.open(0, sender=trainer)
    delegate_to(system, actors.outsider, trainer.address, 60 * TOKEN)
    system.market.join_task(task, 80 * TOKEN, sender=trainer)
    assert system.registry.bonds_of(system.market.address, task, [trainer.address]) == [80 * TOKEN]


def test_delegated_stake_backing_a_bond_cannot_leave(system, actors):
    trainer, delegator = actors.trainer, actors.outsider
    stake(system, trainer, 20 * TOKEN, Role.TRAINER)
    system.delegation.open(0, sender=trainer)
    delegate_to(system, delegator, trainer.address, 80 * TOKEN)
    system.registry.set_slasher(actors.challenger.address, True, sender=actors.owner)
    system.registry.set_trust(actors.challenger.address, True, sender=trainer)
    system.registry.bond(trainer.address, 1, 90 * TOKEN, sender=actors.challenger)
    shares = system.delegation.shares_of(delegator.address, trainer.address)
    with pytest.raises(ContractRevert, match="stake: bonded to a task"):
        system.delegation.request_undelegate(trainer.address, shares, sender=delegator)
    system.delegation.request_undelegate(trainer.address, shares // 8, sender=delegator)  # 10 of the 10 free
    assert system.delegation.unbonding_of(delegator.address) == 10 * TOKEN


def test_a_slash_takes_delegators_pro_rata(system, actors):
    """25 own + 75 delegated (25 and 50): a 40-token slash takes 10 / 10 / 20."""
    trainer, slasher = actors.trainer, actors.challenger
    stake(system, trainer, 25 * TOKEN, Role.TRAINER)
    system.delegation.open(0, sender=trainer)
    delegate_to(system, actors.outsider, trainer.address, 25 * TOKEN)
    delegate_to(system, actors.second_trainer, trainer.address, 50 * TOKEN)
    registry = system.registry
    registry.set_slasher(slasher.address, True, sender=actors.owner)
    registry.set_trust(slasher.address, True, sender=trainer)
    registry.bond(trainer.address, 1, 100 * TOKEN, sender=slasher)
    registry.slash(trainer.address, 1, 40 * TOKEN, actors.insurance.address, sender=slasher)
    assert registry.stake_of(trainer.address) == 60 * TOKEN
    assert registry.delegated_of(trainer.address) == 45 * TOKEN
    assert system.delegation.value_of(actors.outsider.address, trainer.address) == 15 * TOKEN
    assert system.delegation.value_of(actors.second_trainer.address, trainer.address) == 30 * TOKEN
    registry.release(trainer.address, 1, sender=slasher)
    shares = system.delegation.shares_of(actors.second_trainer.address, trainer.address)
    system.delegation.request_undelegate(trainer.address, shares, sender=actors.second_trainer)
    assert system.delegation.unbonding_of(actors.second_trainer.address) == 30 * TOKEN
