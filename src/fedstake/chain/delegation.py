"""Typed client for Delegation: delegated stake, the delegate's take and the pool's rewards.

Reverts surface as `ContractRevert` with the contract's reason (e.g. "delegate: take above 18%").
"""

from __future__ import annotations

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle

MAX_TAKE_BPS = 1_800
DEFAULT_TAKE_BPS = 1_800  # Bittensor's default delegate take, 18%


class Delegation:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def open(self, take_bps: int = DEFAULT_TAKE_BPS, *, sender: Account) -> Receipt:
        """Make the sender (staked as a trainer or validator) a delegate with this take."""
        return self.handle.transact("open", take_bps, sender=sender)

    def set_take(self, take_bps: int, *, sender: Account) -> Receipt:
        """A cut applies at once; a raise after the registry's unbonding delay."""
        return self.handle.transact("set_take", take_bps, sender=sender)

    def delegate(self, delegate: str, amount: int, *, sender: Account) -> Receipt:
        """Delegate `amount` tokens (approve this contract first)."""
        return self.handle.transact("delegate", delegate, amount, sender=sender)

    def request_undelegate(self, delegate: str, shares: int, *, sender: Account) -> Receipt:
        return self.handle.transact("request_undelegate", delegate, shares, sender=sender)

    def withdraw(self, *, sender: Account) -> Receipt:
        return self.handle.transact("withdraw", sender=sender, operation="withdraw_delegation")

    def share_rewards(self, earned: int, *, sender: Account) -> Receipt:
        """The delegate pays its pool's part of `earned` (approve this contract first)."""
        return self.handle.transact("share_rewards", earned, sender=sender)

    def claim(self, delegate: str, *, sender: Account, operation: str | None = None) -> Receipt:
        return self.handle.transact("claim", delegate, sender=sender, operation=operation or "claim_delegation")

    def is_delegate(self, account: str) -> bool:
        return self.handle.call("is_delegate", account)

    def take_of(self, delegate: str) -> int:
        return self.handle.call("take_of", delegate)

    def shares_of(self, delegator: str, delegate: str) -> int:
        return self.handle.call("shares_of", delegator, delegate)

    def total_shares(self, delegate: str) -> int:
        return self.handle.call("total_shares", delegate)

    def value_of(self, delegator: str, delegate: str) -> int:
        return self.handle.call("value_of", delegator, delegate)

    def claimable(self, delegator: str, delegate: str) -> int:
        return self.handle.call("claimable", delegator, delegate)

    def unbonding_of(self, delegator: str) -> int:
        return self.handle.call("unbonding_of", delegator)

    def unbond_ready_at(self, delegator: str) -> int:
        return self.handle.call("unbond_ready_at", delegator)
