"""Typed client for a task's RevenueSplitter, and the blueprint the model registry creates it from.

The registry creates one splitter per minted model (`create_from_blueprint`),
so what is deployed once is an EIP-5202 blueprint: the splitter's initcode
behind the `0xFE7100` preamble, which no call can execute.
"""

from __future__ import annotations

from typing import Sequence

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend, Receipt
from fedstake.chain.compiler import Artifact, load_artifact
from fedstake.chain.contract import ContractHandle

_ERC5202_PREFIX = b"\xfe\x71\x00"


def blueprint_initcode(initcode: bytes) -> bytes:
    """Code that deploys `initcode` as an EIP-5202 blueprint (vyper's own deploy preamble)."""
    blueprint = _ERC5202_PREFIX + initcode
    return b"\x61" + len(blueprint).to_bytes(2, "big") + b"\x3d\x81\x60\x0a\x3d\x39\xf3" + blueprint


def deploy_splitter_blueprint(backend: ChainBackend, sender: Account) -> str:
    """Deploy the RevenueSplitter blueprint; its gas is recorded as `deploy_RevenueSplitter_blueprint`."""
    receipt = backend.deploy(blueprint_initcode(load_artifact("RevenueSplitter").bytecode), sender)
    backend.gas.record("deploy_RevenueSplitter_blueprint", receipt.gas_used)
    assert receipt.contract_address is not None
    return receipt.contract_address


class RevenueSplitter:
    """One model's fee splitter: shares frozen from its task's last rewards root."""

    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    @classmethod
    def at(cls, backend: ChainBackend, address: str, artifact: Artifact | None = None) -> "RevenueSplitter":
        return cls(ContractHandle(backend, address, artifact or load_artifact("RevenueSplitter")))

    def shares_root(self) -> bytes:
        return self.handle.call("shares_root")

    def total_shares(self) -> int:
        return self.handle.call("total_shares")

    def total_received(self) -> int:
        return self.handle.call("total_received")

    def released(self) -> int:
        return self.handle.call("released")

    def paid(self, account: str) -> int:
        return self.handle.call("paid", account)

    def claimable(self, account: str, share: int, accepted_rounds: int, proof: Sequence[bytes]) -> int:
        return self.handle.call("claimable", account, share, accepted_rounds, list(proof))

    def deposit(self, amount: int, memo: bytes = b"\x00" * 32, *, sender: Account,
                operation: str | None = None) -> Receipt:
        """Pay `amount` of fees in (the sender approved the splitter for them)."""
        return self.handle.transact("deposit", amount, memo, sender=sender, operation=operation or "split_deposit")

    def claim(self, share: int, accepted_rounds: int, proof: Sequence[bytes], *, sender: Account,
              operation: str | None = None) -> Receipt:
        """Pay the sender its due; `share`, `accepted_rounds` and `proof` are its rewards leaf."""
        return self.handle.transact("claim", share, accepted_rounds, list(proof), sender=sender,
                                    operation=operation or "split_claim")

    def reclaim_forfeited(self, account: str, share: int, accepted_rounds: int, proof: Sequence[bytes], *,
                          sender: Account) -> Receipt:
        """Pay a forfeited contributor's due to the task's requester."""
        return self.handle.transact("reclaim_forfeited", account, share, accepted_rounds, list(proof),
                                    sender=sender, operation="split_reclaim_forfeited")
