"""Typed client for StakeRegistry."""

from __future__ import annotations

from enum import IntEnum

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle


class Role(IntEnum):
    """Mirrors the contract's ROLE_* constants."""

    NONE = 0
    TRAINER = 1
    VALIDATOR = 2


class StakeRegistry:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def stake(self, amount: int, role: Role, *, sender: Account) -> Receipt:
        return self.handle.transact("stake", amount, int(role), sender=sender)

    def request_unbond(self, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("request_unbond", amount, sender=sender)

    def withdraw(self, *, sender: Account) -> Receipt:
        return self.handle.transact("withdraw", sender=sender)

    def bond(self, account: str, task_id: int, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("bond", account, task_id, amount, sender=sender)

    def release(self, account: str, task_id: int, *, sender: Account) -> Receipt:
        return self.handle.transact("release", account, task_id, sender=sender)

    def slash(self, account: str, task_id: int, amount: int, recipient: str, *, sender: Account) -> Receipt:
        return self.handle.transact("slash", account, task_id, amount, recipient, sender=sender)

    def slashed_of(self, account: str) -> int:
        return self.handle.call("slashed_of", account)

    def bonded_of(self, account: str) -> int:
        """Active stake bonded to tasks (not unbondable until released)."""
        return self.handle.call("bonded_of", account)

    def bond_of(self, slasher: str, task_id: int, account: str) -> int:
        return self.handle.call("bond_of", slasher, task_id, account)

    def bonds_of(self, slasher: str, task_id: int, accounts: list[str]) -> list[int]:
        """Many accounts' bonds to one task in one call (chunks of 1,024)."""
        return [v for i in range(0, len(accounts), 1024)
                for v in self.handle.call("bonds_of", slasher, task_id, accounts[i:i + 1024])]

    def set_slasher(self, slasher: str, status: bool, *, sender: Account) -> Receipt:
        return self.handle.transact("set_slasher", slasher, status, sender=sender)

    def set_trust(self, slasher: str, status: bool, *, sender: Account) -> Receipt:
        """Let `slasher` (the market) bond the sender's stake when it joins its tasks, or stop it
        bonding more: an authorised slasher bonds only accounts that trust it."""
        return self.handle.transact("set_trust", slasher, status, sender=sender)

    def trusts(self, account: str, slasher: str) -> bool:
        return self.handle.call("trusts", account, slasher)

    def set_min_stake(self, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("set_min_stake", amount, sender=sender)

    def stake_of(self, account: str) -> int:
        return self.handle.call("stake_of", account)

    def stakes_of(self, accounts: list[str]) -> list[int]:
        """Many accounts' active stakes in one call (chunks of 1,024)."""
        return [v for i in range(0, len(accounts), 1024) for v in self.handle.call("stakes_of", accounts[i:i + 1024])]

    def delegated_of(self, account: str) -> int:
        """The part of `stake_of` delegated to `account` (see chain/delegation.py)."""
        return self.handle.call("delegated_of", account)

    def delegation(self) -> str:
        return self.handle.call("delegation")

    def set_delegation(self, delegation: str, *, sender: Account) -> Receipt:
        return self.handle.transact("set_delegation", delegation, sender=sender)

    def unbonding_of(self, account: str) -> int:
        return self.handle.call("unbonding_of", account)

    def unbond_ready_at(self, account: str) -> int:
        return self.handle.call("unbond_ready_at", account)

    def role_of(self, account: str) -> Role:
        return Role(self.handle.call("role_of", account))

    def total_staked(self, role: Role) -> int:
        return self.handle.call("total_staked", int(role))

    def min_stake(self) -> int:
        return self.handle.call("min_stake")

    def unbond_delay(self) -> int:
        return self.handle.call("unbond_delay")

    def is_slasher(self, account: str) -> bool:
        return self.handle.call("is_slasher", account)
