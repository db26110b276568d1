"""Typed client for FedToken (ERC-20)."""

from __future__ import annotations

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle


class FedToken:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def balance_of(self, account: str) -> int:
        return self.handle.call("balanceOf", account)

    def total_supply(self) -> int:
        return self.handle.call("totalSupply")

    def allowance(self, owner: str, spender: str) -> int:
        return self.handle.call("allowance", owner, spender)

    def is_minter(self, account: str) -> bool:
        return self.handle.call("is_minter", account)

    def mint(self, to: str, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("mint", to, amount, sender=sender)

    def transfer(self, to: str, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("transfer", to, amount, sender=sender)

    def approve(self, spender: str, amount: int, *, sender: Account) -> Receipt:
        return self.handle.transact("approve", spender, amount, sender=sender)
