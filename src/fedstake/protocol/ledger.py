"""Cumulative rewards, accepted rounds, and the Merkle tree claims prove against.

Each round the validator credits that round's rewards and accepted
trainers; at a settlement round it publishes the table, whose root goes
on chain. Tickets always come from the last published table, the one
the chain can check, even while later rounds accumulate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from fedstake.chain.accounts import Account
from fedstake.chain.market import ZERO32, TaskMarket, reward_leaf
from fedstake.errors import ProtocolError
from fedstake.chain.merkle import MerkleTree, verify_proof

EMPTY_ROOT = ZERO32


@dataclass(frozen=True)
class ClaimTicket:
    """What a trainer sends to `claim`: cumulative amount, accepted rounds, proof."""

    account: str
    cumulative: int
    accepted_rounds: int
    proof: tuple[bytes, ...]

    def verify(self, root: bytes) -> bool:
        return verify_proof(self.proof, root, reward_leaf(self.account, self.cumulative, self.accepted_rounds))


@dataclass(frozen=True)
class PublishedTable:
    """A settled rewards table and its tree."""

    entries: dict[str, tuple[int, int]]
    tree: MerkleTree | None

    @property
    def root(self) -> bytes:
        return self.tree.root if self.tree else EMPTY_ROOT

    @property
    def total(self) -> int:
        return sum(v for v, _ in self.entries.values())


@dataclass
class RewardLedger:
    amounts: dict[str, int] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    published: PublishedTable = field(default_factory=lambda: PublishedTable({}, None))

    def credit(self, rewards: Mapping[str, int], accepted: Iterable[str] = ()) -> None:
        """Add a round: amounts earned (any account) and trainers whose update was accepted."""
        for account, amount in rewards.items():
            if amount < 0:
                raise ValueError(f"negative reward for {account}")
            if amount:
                self.amounts[account] = self.amounts.get(account, 0) + amount
        for account in accepted:
            self.rounds[account] = self.rounds.get(account, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    def table(self) -> dict[str, tuple[int, int]]:
        accounts = set(self.amounts) | set(self.rounds)
        return {a: (self.amounts.get(a, 0), self.rounds.get(a, 0)) for a in sorted(accounts)}

    def preview(self) -> PublishedTable:
        """The table as it would be published now (not yet the one tickets use)."""
        entries = self.table()
        tree = MerkleTree([reward_leaf(a, v, r) for a, (v, r) in entries.items()]) if entries else None
        return PublishedTable(entries, tree)

    def publish(self, table: PublishedTable | None = None) -> PublishedTable:
        """Makes `table` (default: the current one) the table tickets prove against."""
        self.published = table or self.preview()
        return self.published

    def ticket(self, account: str) -> ClaimTicket | None:
        """The claim for `account` from the published table, or None if it is not in it."""
        entry = self.published.entries.get(account)
        if entry is None or self.published.tree is None:
            return None
        value, rounds = entry
        proof = self.published.tree.proof(reward_leaf(account, value, rounds))
        return ClaimTicket(account, value, rounds, tuple(proof))

    def fork(self) -> RewardLedger:
        """An independent copy: a validator's proposal credits its own copy. The counts are copied;
        the published table is shared, since nothing changes a table once built (publishing
        replaces it), and deep-copying its tree cost more than the rest of concluding a round."""
        return RewardLedger(dict(self.amounts), dict(self.rounds), self.published)


def claim(market: TaskMarket, task_id: int, account: Account, ticket: ClaimTicket, *, operation: str = "claim",
          root: bytes | None = None) -> int:
    """Claim `ticket` for `account` after checking its proof against the on-chain root (read
    here unless the caller already has it): a stale or wrong ticket fails here, not in a
    reverted transaction. Returns base units paid."""
    if ticket.account != account.address:
        raise ProtocolError(f"ticket for {ticket.account} presented by {account.address}")
    if not ticket.verify(root if root is not None else market.rewards_root(task_id)):
        raise ProtocolError(f"claim ticket for {account.address} does not match the on-chain rewards root")
    receipt = market.claim(task_id, ticket.cumulative, ticket.accepted_rounds, ticket.proof, sender=account,
                           operation=operation)
    return market.handle.events(receipt, "Claimed")[0]["amount"]
