"""Delegation: delegating, the take, undelegating through the unbonding delay, rewards by pull."""

import pytest

from deployers import MIN_STAKE, TOKEN, UNBOND_DELAY, delegate_to, share_rewards, stake
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert


@pytest.fixture
def pool(system, actors):
    """A validator staked 100 tokens and open as a delegate at the default 18% take."""
    stake(system, actors.validator, 100 * TOKEN, Role.VALIDATOR)
    system.delegation.open(sender=actors.validator)
    return actors.validator


def test_delegated_tokens_add_to_the_delegates_stake(system, actors, pool):
    delegate_to(system, actors.outsider, pool.address, 50 * TOKEN)
    registry = system.registry
    assert registry.stake_of(pool.address) == 150 * TOKEN
    assert registry.delegated_of(pool.address) == 50 * TOKEN
    assert registry.total_staked(Role.VALIDATOR) == 150 * TOKEN
    assert system.delegation.value_of(actors.outsider.address, pool.address) == 50 * TOKEN
    assert system.token.balance_of(registry.address) == 150 * TOKEN


@pytest.mark.parametrize("amount, reason", [(0, "delegate: zero amount")])
def test_delegate_rejects_bad_input(system, actors, pool, amount, reason):
    with pytest.raises(ContractRevert, match=reason):
        system.delegation.delegate(pool.address, amount, sender=actors.outsider)


def test_only_an_open_delegate_takes_delegations(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match="delegate: not a delegate"):
        system.delegation.delegate(actors.trainer.address, TOKEN, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="delegate: not staked"):
        system.delegation.open(sender=actors.outsider)
    system.delegation.open(0, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="delegate: already open"):
        system.delegation.open(0, sender=actors.trainer)


def test_the_take_is_at_most_18_percent(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match="delegate: take above 18%"):
        system.delegation.open(1_801, sender=actors.trainer)
    system.delegation.open(1_800, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="delegate: take above 18%"):
        system.delegation.set_take(1_801, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="delegate: not a delegate"):
        system.delegation.set_take(0, sender=actors.outsider)


def test_a_cut_applies_at_once_and_a_raise_after_the_unbonding_delay(system, actors, pool):
    delegation = system.delegation
    receipt = delegation.set_take(500, sender=pool)
    assert delegation.handle.events(receipt, "TakeChanged") == [{"delegate": pool.address, "take_bps": 500}]
    assert delegation.take_of(pool.address) == 500
    receipt = delegation.set_take(1_000, sender=pool)
    (queued,) = delegation.handle.events(receipt, "TakeRaiseQueued")
    assert queued["ready_at"] == system.backend.timestamp() + UNBOND_DELAY
    assert delegation.take_of(pool.address) == 500
    system.backend.advance_time(UNBOND_DELAY - 10)
    assert delegation.take_of(pool.address) == 500
    system.backend.advance_time(10)
    assert delegation.take_of(pool.address) == 1_000


def test_a_cut_drops_a_queued_raise(system, actors, pool):
    delegation = system.delegation
    delegation.set_take(0, sender=pool)
    delegation.set_take(1_800, sender=pool)
    delegation.set_take(100, sender=pool)
    system.backend.advance_time(UNBOND_DELAY)
    assert delegation.take_of(pool.address) == 100


def test_undelegating_waits_the_unbonding_delay(system, actors, pool):
    delegation, delegator = system.delegation, actors.outsider
    delegate_to(system, delegator, pool.address, 40 * TOKEN)
    shares = delegation.shares_of(delegator.address, pool.address)
    delegation.request_undelegate(pool.address, shares // 2, sender=delegator)
    assert system.registry.stake_of(pool.address) == 120 * TOKEN
    assert delegation.unbonding_of(delegator.address) == 20 * TOKEN
    assert delegation.unbond_ready_at(delegator.address) == system.backend.timestamp() + UNBOND_DELAY
    system.backend.advance_time(UNBOND_DELAY - 10)
    with pytest.raises(ContractRevert, match="delegate: still unbonding"):
        delegation.withdraw(sender=delegator)
    system.backend.advance_time(10)
    delegation.withdraw(sender=delegator)
    assert system.token.balance_of(delegator.address) == 20 * TOKEN
    with pytest.raises(ContractRevert, match="delegate: nothing unbonding"):
        delegation.withdraw(sender=delegator)


@pytest.mark.parametrize("shares, reason", [(0, "delegate: zero shares"), (10**30, "delegate: insufficient shares")])
def test_request_undelegate_rejects_bad_shares(system, actors, pool, shares, reason):
    delegate_to(system, actors.outsider, pool.address, TOKEN)
    with pytest.raises(ContractRevert, match=reason):
        system.delegation.request_undelegate(pool.address, shares, sender=actors.outsider)


def test_the_delegate_cannot_unbond_delegated_stake(system, actors, pool):
    delegate_to(system, actors.outsider, pool.address, 50 * TOKEN)
    with pytest.raises(ContractRevert, match="stake: insufficient stake"):
        system.registry.request_unbond(101 * TOKEN, sender=pool)
    system.registry.request_unbond(100 * TOKEN, sender=pool)  # its own stake, all of it
    assert system.registry.stake_of(pool.address) == 50 * TOKEN


def test_only_the_delegation_moves_delegated_stake(system, actors, pool):
    with pytest.raises(ContractRevert, match="stake: caller is not the delegation"):
        system.registry.handle.transact("add_delegated", pool.address, 1, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="stake: caller is not the delegation"):
        system.registry.handle.transact("remove_delegated", pool.address, 1, sender=actors.outsider)
    with pytest.raises(ContractRevert, match="stake: delegation already set"):
        system.registry.set_delegation(actors.outsider.address, sender=actors.owner)


def test_rewards_split_by_stake_less_the_take(system, actors, pool):
    """100 own + 300 delegated (1 : 2 between two delegators), 18% take: of 400 earned the
    pool gets 400 x 3/4 x 82% = 246, 82 and 164."""
    delegation = system.delegation
    delegate_to(system, actors.outsider, pool.address, 100 * TOKEN)
    delegate_to(system, actors.trainer, pool.address, 200 * TOKEN)
    share_rewards(system, pool, 400 * TOKEN)
    assert system.token.balance_of(delegation.address) == 246 * TOKEN
    assert delegation.claimable(actors.outsider.address, pool.address) == 82 * TOKEN
    delegation.claim(pool.address, sender=actors.outsider)
    delegation.claim(pool.address, sender=actors.trainer)
    assert system.token.balance_of(actors.outsider.address) == 82 * TOKEN
    assert system.token.balance_of(actors.trainer.address) == 164 * TOKEN
    with pytest.raises(ContractRevert, match="delegate: nothing to claim"):
        delegation.claim(pool.address, sender=actors.outsider)


def test_a_late_delegator_earns_nothing_shared_before_it_joined(system, actors, pool):
    delegation = system.delegation
    delegate_to(system, actors.outsider, pool.address, 100 * TOKEN)
    share_rewards(system, pool, 100 * TOKEN)
    delegate_to(system, actors.trainer, pool.address, 100 * TOKEN)
    assert delegation.claimable(actors.trainer.address, pool.address) == 0
    share_rewards(system, pool, 150 * TOKEN)  # 150 x 2/3 x 82% = 82, half each
    assert delegation.claimable(actors.trainer.address, pool.address) == 41 * TOKEN
    assert delegation.claimable(actors.outsider.address, pool.address) == 41 * TOKEN + 41 * TOKEN


def test_rewards_survive_undelegating(system, actors, pool):
    delegation = system.delegation
    delegate_to(system, actors.outsider, pool.address, 100 * TOKEN)
    share_rewards(system, pool, 200 * TOKEN)
    shares = delegation.shares_of(actors.outsider.address, pool.address)
    delegation.request_undelegate(pool.address, shares, sender=actors.outsider)
    delegation.claim(pool.address, sender=actors.outsider)
    assert system.token.balance_of(actors.outsider.address) == 82 * TOKEN


def test_only_a_delegate_shares_rewards(system, actors):
    with pytest.raises(ContractRevert, match="delegate: not a delegate"):
        system.delegation.share_rewards(TOKEN, sender=actors.outsider)
