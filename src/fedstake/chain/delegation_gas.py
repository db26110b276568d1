"""The gas of delegation, measured from receipts, and a claim's gas at growing pool sizes.

One validator opens a pool; delegators join it until it has 10, 100 and
1,000 of them, and at each size a fresh delegator's first claim after a
reward is shared is measured: with a per-share accumulator that gas must
not depend on how many delegators the pool has.
"""

from __future__ import annotations

from fedstake.chain.accounts import Account, derive_account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.deployment import TOKEN, Deployment, deploy_system
from fedstake.chain.staking import Role

POOL_SIZES = (10, 100, 1_000)
AMOUNT = 10 * TOKEN


def _fund(system: Deployment, account: Account, amount: int, spender: str) -> None:
    system.token.mint(account.address, amount, sender=system.owner)
    system.token.approve(spender, amount, sender=account)


def measure_delegation_gas(backend: ChainBackend, *, pool_sizes: tuple[int, ...] = POOL_SIZES,
                           seed: int = 0) -> dict[str, int]:
    """Operation -> receipt gas: open, set_take (cut / raise), delegate, share_rewards,
    request_undelegate, withdraw_delegation, and claim_delegation_N for each pool size N."""
    acct = lambda label: derive_account(seed, f"delegation-gas-{label}")  # noqa: E731
    owner, delegate = acct("owner"), acct("delegate")
    system = deploy_system(backend, owner, insurance=acct("insurance").address)
    delegation = system.delegation
    _fund(system, delegate, 100 * TOKEN, system.registry.address)
    system.registry.stake(100 * TOKEN, Role.VALIDATOR, sender=delegate)
    gas = {"open": delegation.open(sender=delegate).gas_used,
           "set_take_cut": delegation.set_take(1_000, sender=delegate).gas_used,
           "set_take_raise": delegation.set_take(1_800, sender=delegate).gas_used}
    joined = 0
    for size in pool_sizes:
        for i in range(joined, size - 1):
            if i == 1:  # a reward before any measured claimer joins, so each starts with a nonzero debt
                _fund(system, delegate, 100 * TOKEN, delegation.address)
                delegation.share_rewards(100 * TOKEN, sender=delegate)
            filler = acct(f"delegator-{i}")
            _fund(system, filler, AMOUNT, delegation.address)
            gas["delegate"] = delegation.delegate(delegate.address, AMOUNT, sender=filler).gas_used
        joined = max(joined, size - 1)
        measured = acct(f"claimer-{size}")
        _fund(system, measured, AMOUNT, delegation.address)
        delegation.delegate(delegate.address, AMOUNT, sender=measured)
        _fund(system, delegate, 100 * TOKEN, delegation.address)
        gas["share_rewards"] = delegation.share_rewards(100 * TOKEN, sender=delegate).gas_used
        gas[f"claim_delegation_{size}"] = delegation.claim(delegate.address, sender=measured).gas_used
    shares = delegation.shares_of(measured.address, delegate.address)
    gas["request_undelegate"] = delegation.request_undelegate(delegate.address, shares, sender=measured).gas_used
    backend.advance_time(system.params.unbond_delay)
    gas["withdraw_delegation"] = delegation.withdraw(sender=measured).gas_used
    return gas
