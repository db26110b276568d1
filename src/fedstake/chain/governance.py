"""Typed client for ModelGovernance: the contributors' vote on a model's price and licence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from eth_utils import keccak

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle


@dataclass(frozen=True)
class Terms:
    """A model's executed terms; `proposal_id` 0 means none was ever executed."""

    price: int
    licence_uri: str
    licence_hash: bytes
    proposal_id: int


@dataclass(frozen=True)
class Proposal:
    task_id: int
    price: int
    licence_uri: str
    licence_hash: bytes
    voting_ends: int
    yes: int
    no: int
    executed: bool


def licence_hash(text: bytes) -> bytes:
    """What a proposal commits to for a licence: the keccak of its text."""
    return keccak(text)


class ModelGovernance:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def terms(self, task_id: int) -> Terms:
        return Terms(*self.handle.call("terms", task_id))

    def proposal(self, proposal_id: int) -> Proposal:
        return Proposal(*self.handle.call("proposals", proposal_id))

    def voted(self, proposal_id: int, account: str) -> bool:
        return self.handle.call("voted", proposal_id, account)

    def propose(self, task_id: int, *, price: int, licence_uri: str, licence_hash: bytes,
                sender: Account) -> int:
        """Open a vote on new terms for model `task_id`; returns the proposal id."""
        receipt = self.handle.transact("propose", task_id, price, licence_uri, licence_hash, sender=sender,
                                       operation="gov_propose")
        return self.handle.events(receipt, "Proposed")[0]["proposal_id"]

    def vote(self, proposal_id: int, support: bool, share: int, accepted_rounds: int, proof: Sequence[bytes], *,
             sender: Account) -> Receipt:
        """Vote with the sender's share, proven by its rewards leaf."""
        return self.handle.transact("vote", proposal_id, support, share, accepted_rounds, list(proof),
                                    sender=sender, operation="gov_vote")

    def execute(self, proposal_id: int, *, sender: Account) -> Receipt:
        return self.handle.transact("execute", proposal_id, sender=sender, operation="gov_execute")
