"""Typed client for ScoreBoard: commit-reveal of the validators' score vectors per round."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle

EMPTY = b"\x00" * 32


def score_commitment(task_id: int, round: int, validator: str, scores_hash: bytes, salt: bytes) -> bytes:
    """What a validator commits: keccak(abi.encode(task, round, validator, scores hash, salt)),
    bound to the round and the sender so it can be neither replayed nor copied."""
    return keccak(encode(["uint256", "uint256", "address", "bytes32", "bytes32"],
                         [task_id, round, to_checksum_address(validator), scores_hash, salt]))


class ScoreBoard:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def commit(self, task_id: int, round: int, commitment: bytes, *, sender: Account) -> Receipt:
        """Commit the sender's scores of the task's open round (reverts "board: ..." otherwise)."""
        return self.handle.transact("commit", task_id, round, commitment, sender=sender, operation="board_commit")

    def reveal(self, task_id: int, round: int, scores_hash: bytes, salt: bytes, *, sender: Account) -> Receipt:
        """Open the sender's commitment once the commit phase has closed."""
        return self.handle.transact("reveal", task_id, round, scores_hash, salt, sender=sender,
                                    operation="board_reveal")

    def commitment(self, task_id: int, round: int, validator: str) -> bytes:
        return self.handle.call("commitments", task_id, round, validator)

    def revealed(self, task_id: int, round: int, validator: str) -> bytes | None:
        """The scores hash `validator` revealed for the round, or None."""
        found = self.handle.call("revealed", task_id, round, validator)
        return None if found == EMPTY else found

    def opened_at(self, task_id: int, round: int) -> int:
        return self.handle.call("opened_at", task_id, round)

    def commit_period(self) -> int:
        return self.handle.call("COMMIT_PERIOD")

    def reveal_period(self) -> int:
        return self.handle.call("REVEAL_PERIOD")

    def reveal_from(self, task_id: int, round: int) -> int:
        """When the round's reveal phase opens (meaningful once someone committed)."""
        return self.opened_at(task_id, round) + self.commit_period()
