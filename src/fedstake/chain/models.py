"""Typed client for ModelRegistry (the model NFT)."""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle


@dataclass(frozen=True)
class ModelRecord:
    market: str
    task_id: int
    model_hash: bytes
    provenance: bytes
    rounds: int
    minted_at: int


class ModelRegistry:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def record(self, token_id: int) -> ModelRecord:
        return ModelRecord(*self.handle.call("models", token_id))

    def owner_of(self, token_id: int) -> str:
        return self.handle.call("ownerOf", token_id)

    def token_uri(self, token_id: int) -> str:
        return self.handle.call("tokenURI", token_id)

    def bind_market(self, market: str, *, sender: Account) -> Receipt:
        """Owner only, once: the one task market whose closed tasks this registry records."""
        return self.handle.transact("bind_market", market, sender=sender)

    def mint_model(self, task_id: int, *, sender: Account) -> Receipt:
        """Mint a closed task's model NFT to its requester (anyone may send it)."""
        return self.handle.transact("mint_model", task_id, sender=sender)

    def market(self) -> str:
        return self.handle.call("market")

    def bind_splitter(self, blueprint: str, royalty_bps: int, *, sender: Account) -> Receipt:
        """Owner only, once: the RevenueSplitter blueprint each mint creates the model's splitter from."""
        return self.handle.transact("bind_splitter", blueprint, royalty_bps, sender=sender)

    def splitter_of(self, token_id: int) -> str:
        """The model's RevenueSplitter (the zero address before the mint)."""
        return self.handle.call("splitter_of", token_id)

    def royalty_info(self, token_id: int, sale_price: int) -> tuple[str, int]:
        """EIP-2981: who receives the royalty on a sale at `sale_price`, and how much."""
        return self.handle.call("royaltyInfo", token_id, sale_price)
