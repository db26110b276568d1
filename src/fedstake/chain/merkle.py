"""Merkle trees whose proofs snekmate's `merkle_proof_verification` accepts.

The layout is OpenZeppelin's StandardMerkleTree, the one snekmate points
to: leaves sorted, a complete binary tree stored in an array, pairs hashed
in sorted order. Sorting the leaves makes the root independent of the
order participants were listed in, so every validator computes the same
root from the same set.
"""

from __future__ import annotations

from typing import Sequence

from eth_utils import keccak


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two hashes concatenated in ascending order."""
    return keccak(a + b) if a < b else keccak(b + a)


class MerkleTree:
    """A tree over 32-byte leaf hashes; `proof(leaf)` gives what `_verify` needs."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        if any(len(leaf) != 32 for leaf in leaves):
            raise ValueError("Merkle leaves must be 32-byte hashes")
        ordered = sorted(set(leaves))
        if len(ordered) != len(leaves):
            raise ValueError("Merkle leaves must be distinct")
        size = 2 * len(ordered) - 1
        nodes: list[bytes] = [b""] * size
        self._position: dict[bytes, int] = {}
        for i, leaf in enumerate(ordered):
            nodes[size - 1 - i] = leaf
            self._position[leaf] = size - 1 - i
        for i in range(size - 1 - len(ordered), -1, -1):
            nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
        self._nodes = nodes

    @property
    def root(self) -> bytes:
        return self._nodes[0]

    def __len__(self) -> int:
        return len(self._position)

    def __contains__(self, leaf: bytes) -> bool:
        return leaf in self._position

    @property
    def nodes(self) -> tuple[bytes, ...]:
        """Every node in StandardMerkleTree's array layout: the root first, the sorted leaves
        last (the smallest at the end); node i's children are 2i + 1 and 2i + 2."""
        return tuple(self._nodes)

    def index(self, leaf: bytes) -> int:
        """Where `leaf` sits in `nodes` (a StandardMerkleTree dump's `treeIndex`)."""
        try:
            return self._position[leaf]
        except KeyError:
            raise KeyError(f"leaf 0x{leaf.hex()} is not in the tree") from None

    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from `leaf` up to (not including) the root."""
        index = self.index(leaf)
        path = []
        while index > 0:
            sibling = index + 1 if index % 2 == 1 else index - 1
            path.append(self._nodes[sibling])
            index = (index - 1) // 2
        return path


def verify_proof(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """The off-chain twin of snekmate's `_verify`."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
