import pytest

from deployers import MIN_STAKE, TOKEN, UNBOND_DELAY, fund, stake, staked_task
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert


def test_stake_pulls_tokens_and_records_role(system, actors):
    stake(system, actors.trainer, 20 * TOKEN, Role.TRAINER)
    registry = system.registry
    assert registry.stake_of(actors.trainer.address) == 20 * TOKEN
    assert registry.role_of(actors.trainer.address) == Role.TRAINER
    assert registry.total_staked(Role.TRAINER) == 20 * TOKEN
    assert system.token.balance_of(registry.address) == 20 * TOKEN


def test_stake_adds_to_existing_stake(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    stake(system, actors.trainer, 1, Role.TRAINER)
    assert system.registry.stake_of(actors.trainer.address) == MIN_STAKE + 1


@pytest.mark.parametrize(
    "amount, role, reason",
    [(0, Role.TRAINER, "stake: zero amount"), (MIN_STAKE, Role.NONE, "stake: unknown role"),
     (MIN_STAKE - 1, Role.TRAINER, "stake: below minimum")],
)
def test_stake_rejects_bad_input(system, actors, amount, role, reason):
    fund(system, actors.trainer, MIN_STAKE)
    system.token.approve(system.registry.address, MIN_STAKE, sender=actors.trainer)
    with pytest.raises(ContractRevert, match=reason):
        system.registry.stake(amount, role, sender=actors.trainer)


def test_stake_cannot_switch_role(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    fund(system, actors.trainer, MIN_STAKE)
    system.token.approve(system.registry.address, MIN_STAKE, sender=actors.trainer)
    with pytest.raises(ContractRevert, match="stake: role mismatch"):
        system.registry.stake(MIN_STAKE, Role.VALIDATOR, sender=actors.trainer)


def test_stake_without_allowance_reverts(system, actors):
    fund(system, actors.trainer, MIN_STAKE)
    with pytest.raises(ContractRevert, match="erc20: insufficient allowance"):
        system.registry.stake(MIN_STAKE, Role.TRAINER, sender=actors.trainer)


def test_request_unbond_moves_stake_to_unbonding(system, actors):
    stake(system, actors.trainer, 30 * TOKEN, Role.TRAINER)
    system.registry.request_unbond(10 * TOKEN, sender=actors.trainer)
    assert system.registry.stake_of(actors.trainer.address) == 20 * TOKEN
    assert system.registry.unbonding_of(actors.trainer.address) == 10 * TOKEN
    assert system.registry.unbond_ready_at(actors.trainer.address) == system.backend.timestamp() + UNBOND_DELAY
    assert system.registry.total_staked(Role.TRAINER) == 20 * TOKEN


def test_full_exit_is_allowed_below_minimum(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    system.registry.request_unbond(MIN_STAKE, sender=actors.trainer)
    assert system.registry.stake_of(actors.trainer.address) == 0


@pytest.mark.parametrize(
    "amount, reason",
    [(0, "stake: zero amount"), (MIN_STAKE + 1, "stake: insufficient stake"), (1, "stake: below minimum")],
)
def test_request_unbond_rejects_bad_amounts(system, actors, amount, reason):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match=reason):
        system.registry.request_unbond(amount, sender=actors.trainer)


def test_withdraw_pays_after_the_delay(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    system.registry.request_unbond(MIN_STAKE, sender=actors.trainer)
    system.backend.advance_time(UNBOND_DELAY)
    system.registry.withdraw(sender=actors.trainer)
    assert system.token.balance_of(actors.trainer.address) == MIN_STAKE
    assert system.registry.unbonding_of(actors.trainer.address) == 0


def test_withdraw_before_the_delay_reverts(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    system.registry.request_unbond(MIN_STAKE, sender=actors.trainer)
    system.backend.advance_time(UNBOND_DELAY - 10)
    with pytest.raises(ContractRevert, match="stake: still unbonding"):
        system.registry.withdraw(sender=actors.trainer)


def test_withdraw_with_nothing_unbonding_reverts(system, actors):
    with pytest.raises(ContractRevert, match="stake: nothing unbonding"):
        system.registry.withdraw(sender=actors.trainer)


def test_a_slasher_bonds_free_stake_which_then_cannot_unbond(system, actors):
    registry = system.registry
    registry.set_slasher(actors.validator.address, True, sender=actors.owner)
    stake(system, actors.trainer, 30 * TOKEN, Role.TRAINER)
    registry.set_trust(actors.validator.address, True, sender=actors.trainer)
    registry.bond(actors.trainer.address, 7, 20 * TOKEN, sender=actors.validator)
    assert registry.bonded_of(actors.trainer.address) == 20 * TOKEN
    assert registry.bond_of(actors.validator.address, 7, actors.trainer.address) == 20 * TOKEN
    with pytest.raises(ContractRevert, match="stake: not enough free stake"):
        registry.bond(actors.trainer.address, 8, 11 * TOKEN, sender=actors.validator)
    with pytest.raises(ContractRevert, match="stake: bonded to a task"):
        registry.request_unbond(11 * TOKEN, sender=actors.trainer)
    registry.request_unbond(10 * TOKEN, sender=actors.trainer)  # the free part leaves as before
    registry.release(actors.trainer.address, 7, sender=actors.validator)
    assert registry.bonded_of(actors.trainer.address) == 0
    registry.request_unbond(20 * TOKEN, sender=actors.trainer)


def test_slash_takes_only_what_the_caller_bonded(system, actors):
    registry = system.registry
    stake(system, actors.trainer, 30 * TOKEN, Role.TRAINER)
    for slasher in (actors.validator, actors.second_validator):
        registry.set_slasher(slasher.address, True, sender=actors.owner)
        registry.set_trust(slasher.address, True, sender=actors.trainer)
    registry.bond(actors.trainer.address, 1, 10 * TOKEN, sender=actors.validator)
    registry.bond(actors.trainer.address, 1, 15 * TOKEN, sender=actors.second_validator)
    with pytest.raises(ContractRevert, match="stake: not bonded by caller"):
        registry.slash(actors.trainer.address, 1, 11 * TOKEN, actors.outsider.address, sender=actors.validator)
    with pytest.raises(ContractRevert, match="stake: not bonded by caller"):
        registry.slash(actors.trainer.address, 2, 1, actors.outsider.address, sender=actors.validator)
    registry.slash(actors.trainer.address, 1, 4 * TOKEN, actors.outsider.address, sender=actors.validator)
    assert registry.stake_of(actors.trainer.address) == 26 * TOKEN
    assert registry.bond_of(actors.validator.address, 1, actors.trainer.address) == 6 * TOKEN
    assert registry.bond_of(actors.second_validator.address, 1, actors.trainer.address) == 15 * TOKEN
    assert registry.bonded_of(actors.trainer.address) == 21 * TOKEN
    assert registry.slashed_of(actors.trainer.address) == 4 * TOKEN
    assert registry.total_staked(Role.TRAINER) == 26 * TOKEN
    assert system.token.balance_of(actors.outsider.address) == 4 * TOKEN


def test_a_revoked_slasher_still_settles_and_releases_its_bonds(system, actors):
    registry = system.registry
    registry.set_slasher(actors.validator.address, True, sender=actors.owner)
    stake(system, actors.trainer, 30 * TOKEN, Role.TRAINER)
    registry.set_trust(actors.validator.address, True, sender=actors.trainer)
    registry.bond(actors.trainer.address, 1, 20 * TOKEN, sender=actors.validator)
    registry.set_slasher(actors.validator.address, False, sender=actors.owner)
    with pytest.raises(ContractRevert, match="stake: caller is not a slasher"):
        registry.bond(actors.trainer.address, 2, 1, sender=actors.validator)
    registry.slash(actors.trainer.address, 1, 5 * TOKEN, actors.outsider.address, sender=actors.validator)
    registry.release(actors.trainer.address, 1, sender=actors.validator)
    assert registry.bonded_of(actors.trainer.address) == 0
    with pytest.raises(ContractRevert, match="stake: nothing bonded"):
        registry.release(actors.trainer.address, 1, sender=actors.validator)


def test_a_slasher_the_owner_authorises_cannot_bond_or_slash_an_account_that_never_trusted_it(system, actors):
    """Issue 16, finding A: the owner's key alone must slash nobody. It may authorise a rogue
    slasher, but that slasher bonds (and so slashes) only accounts that trust it."""
    registry, rogue = system.registry, actors.challenger
    registry.set_slasher(rogue.address, True, sender=actors.owner)
    stake(system, actors.trainer, 30 * TOKEN, Role.TRAINER)
    with pytest.raises(ContractRevert, match="stake: not trusted"):
        registry.bond(actors.trainer.address, 1, 30 * TOKEN, sender=rogue)
    with pytest.raises(ContractRevert, match="stake: not bonded by caller"):
        registry.slash(actors.trainer.address, 1, 30 * TOKEN, rogue.address, sender=rogue)
    assert registry.stake_of(actors.trainer.address) == 30 * TOKEN


def test_revoking_trust_stops_new_bonds_and_frees_none_already_held(system, actors):
    registry, slasher, trainer = system.registry, actors.validator, actors.trainer
    registry.set_slasher(slasher.address, True, sender=actors.owner)
    stake(system, trainer, 30 * TOKEN, Role.TRAINER)
    registry.set_trust(slasher.address, True, sender=trainer)
    assert registry.trusts(trainer.address, slasher.address)
    registry.bond(trainer.address, 1, 20 * TOKEN, sender=slasher)
    registry.set_trust(slasher.address, False, sender=trainer)
    assert not registry.trusts(trainer.address, slasher.address)
    with pytest.raises(ContractRevert, match="stake: not trusted"):
        registry.bond(trainer.address, 2, 1, sender=slasher)
    with pytest.raises(ContractRevert, match="stake: bonded to a task"):
        registry.request_unbond(30 * TOKEN, sender=trainer)
    registry.slash(trainer.address, 1, 5 * TOKEN, actors.outsider.address, sender=slasher)
    registry.release(trainer.address, 1, sender=slasher)
    assert registry.bonded_of(trainer.address) == 0


def test_joining_a_task_needs_trust_in_its_market(system, actors):
    market, registry, trainer = system.market, system.registry, actors.trainer
    task = staked_task(system, actors)
    stake(system, trainer, MIN_STAKE, Role.TRAINER)
    registry.set_trust(market.address, False, sender=trainer)
    with pytest.raises(ContractRevert, match="stake: not trusted"):
        market.join_task(task, MIN_STAKE, sender=trainer)
    registry.set_trust(market.address, True, sender=trainer)
    market.join_task(task, MIN_STAKE, sender=trainer)
    assert registry.bond_of(market.address, task, trainer.address) == MIN_STAKE


def test_bond_by_a_non_slasher_reverts(system, actors):
    stake(system, actors.trainer, MIN_STAKE, Role.TRAINER)
    with pytest.raises(ContractRevert, match="stake: caller is not a slasher"):
        system.registry.bond(actors.trainer.address, 1, 1, sender=actors.outsider)


def test_slash_to_zero_recipient_reverts(system, actors):
    system.registry.set_slasher(actors.validator.address, True, sender=actors.owner)
    with pytest.raises(ContractRevert, match="stake: zero recipient"):
        system.registry.slash(actors.trainer.address, 1, 1, "0x" + "00" * 20, sender=actors.validator)


def test_market_is_the_authorised_slasher_after_deployment(system):
    assert system.registry.is_slasher(system.market.address)


def test_set_slasher_is_owner_only(system, actors):
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        system.registry.set_slasher(actors.outsider.address, True, sender=actors.outsider)


def test_set_slasher_refuses_zero_address(system, actors):
    with pytest.raises(ContractRevert, match="stake: zero slasher"):
        system.registry.set_slasher("0x" + "00" * 20, True, sender=actors.owner)


def test_set_min_stake_is_owner_only(system, actors):
    receipt = system.registry.set_min_stake(5, sender=actors.owner)
    assert system.registry.handle.events(receipt, "MinStakeChanged") == [{"min_stake": 5}]
    assert system.registry.min_stake() == 5
    with pytest.raises(ContractRevert, match="ownable: caller is not the owner"):
        system.registry.set_min_stake(1, sender=actors.outsider)
