"""Rewards tables in OpenZeppelin's StandardMerkleTree dump format (`standard-v1`).

A settled table is published so that anyone can rebuild its root, check
it against the chain and take a proof from it, with fedstake or with
`@openzeppelin/merkle-tree` (`StandardMerkleTree.load(JSON.parse(text))`).
Our leaf is OZ's (double-hashed abi encoding of account, cumulative
amount, cumulative accepted rounds) and our tree is OZ's array layout
with sorted leaves, so a dump is OZ's own: `dumps_rewards` writes, byte
for byte, what `JSON.stringify(StandardMerkleTree.of(values,
["address", "uint256", "uint256"]).dump())` writes for the same values
in the same order (accounts in ascending order). Amounts and rounds are
decimal strings: JSON numbers lose precision above 2**53 in JavaScript.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from eth_utils import to_checksum_address

from fedstake.chain.accounts import is_address_text
from fedstake.chain.market import reward_leaf
from fedstake.chain.merkle import MerkleTree, hash_pair
from fedstake.errors import ArtifactError
from fedstake.files import json_object

FORMAT = "standard-v1"
LEAF_ENCODING = ("address", "uint256", "uint256")
_KEYS = ("format", "leafEncoding", "tree", "values")
_HASH = re.compile(r"0x[0-9a-f]{64}")  # lowercase, as OZ writes and compares them
_DECIMAL = re.compile(r"[0-9]+")


def dump_rewards(entries: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The dump of {account: (cumulative amount, accepted rounds)}; an empty table has none
    (OZ refuses a tree without leaves, and the chain's root for it is zero)."""
    if not entries:
        raise ValueError("an empty rewards table has no Merkle tree to dump")
    accounts = sorted((to_checksum_address(a) for a in entries), key=lambda a: int(a, 16))
    leaves = {a: reward_leaf(a, *entries[a]) for a in accounts}
    tree = MerkleTree(list(leaves.values()))
    return {
        "format": FORMAT,
        "leafEncoding": list(LEAF_ENCODING),
        "tree": ["0x" + node.hex() for node in tree.nodes],
        "values": [{"value": [a, str(entries[a][0]), str(entries[a][1])], "treeIndex": tree.index(leaves[a])}
                   for a in accounts],
    }


def dumps_rewards(entries: Mapping[str, tuple[int, int]]) -> str:
    """`dump_rewards` as JSON text, spaced as `JSON.stringify` spaces it (not at all)."""
    return json.dumps(dump_rewards(entries), separators=(",", ":"))


def load_rewards(data: str | bytes | Mapping[str, Any], *,
                 source: str = "rewards table") -> tuple[dict[str, tuple[int, int]], MerkleTree]:
    """The table in a dump and its tree, after recomputing every leaf and every node.

    Raises `ArtifactError` naming the first thing wrong (`source` says
    where the dump came from): the format, a value, a leaf that is not its
    value's hash, a node that is not its children's hash, or leaves out of
    the sorted order every fedstake root (and OZ's default) uses.
    """
    dump = _as_dump(data, source)
    tree = [_node(node, f"{source}: tree[{i}]") for i, node in enumerate(_list(dump["tree"], f"{source}: tree"))]
    values = _list(dump["values"], f"{source}: values")
    if len(tree) != 2 * len(values) - 1:
        raise ArtifactError(f"{source}: tree", f"{len(tree)} nodes for {len(values)} values; "
                                               "a tree over n leaves has 2n - 1 nodes")
    entries = _checked_values(values, tree, source)
    _check_nodes(tree, len(values), source)
    canonical = MerkleTree(tree[len(values) - 1:])
    if canonical.nodes != tuple(tree):
        raise ArtifactError(f"{source}: tree", "leaves are not in ascending order from the end (built with "
                                               "sortLeaves: false?); fedstake's on-chain roots sort them")
    return entries, canonical


def _checked_values(values: list[Any], tree: list[bytes], source: str) -> dict[str, tuple[int, int]]:
    """The table in `values`, each value's leaf found at its own leaf position of `tree`."""
    entries: dict[str, tuple[int, int]] = {}
    taken: dict[int, int] = {}
    for i, item in enumerate(values):
        where = f"{source}: values[{i}]"
        account, amount, rounds, index = _value(item, where)
        if account in entries:
            raise ArtifactError(where, f"{account} appears twice")
        if not len(values) - 1 <= index < len(tree):
            raise ArtifactError(where, f"treeIndex {index} is not a leaf (leaves are {len(values) - 1}..{len(tree) - 1})")
        if index in taken:
            raise ArtifactError(where, f"treeIndex {index} is also values[{taken[index]}]'s")
        leaf = reward_leaf(account, amount, rounds)
        if tree[index] != leaf:
            raise ArtifactError(where, f"({account}, {amount}, {rounds}) hashes to 0x{leaf.hex()}, but tree[{index}] "
                                       f"holds 0x{tree[index].hex()}: the value or the tree was altered")
        entries[account] = (amount, rounds)
        taken[index] = i
    return entries


def _check_nodes(tree: list[bytes], leaves: int, source: str) -> None:
    """Every inner node is the hash of its two children (the root last)."""
    for i in range(leaves - 2, -1, -1):
        if tree[i] != hash_pair(tree[2 * i + 1], tree[2 * i + 2]):
            name = f"tree[{i}] (the root)" if i == 0 else f"tree[{i}]"
            raise ArtifactError(f"{source}: {name}", f"not the hash of tree[{2 * i + 1}] and tree[{2 * i + 2}]: "
                                                     "the tree was altered")


def _as_dump(data: str | bytes | Mapping[str, Any], source: str) -> Mapping[str, Any]:
    data = json_object(data, source=source)
    missing = [k for k in _KEYS if k not in data]
    unknown = [k for k in data if k not in _KEYS]
    if missing or unknown:
        raise ArtifactError(source, f"missing {missing}" if missing else f"unknown keys {unknown}")
    if data["format"] != FORMAT:
        raise ArtifactError(f"{source}: format", f"{data['format']!r} is not {FORMAT!r}")
    if data["leafEncoding"] != list(LEAF_ENCODING):
        raise ArtifactError(f"{source}: leafEncoding", f"{data['leafEncoding']!r} is not a rewards table's "
                                                       f"{list(LEAF_ENCODING)!r}")
    return data


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ArtifactError(where, "not a non-empty list")
    return value


def _node(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise ArtifactError(where, f"{value!r} is not a 32-byte hash in lowercase 0x-hex")
    return bytes.fromhex(value[2:])


def _value(item: Any, where: str) -> tuple[str, int, int, int]:
    """(account, amount, rounds, treeIndex) of one `values` entry, checked for shape."""
    if not isinstance(item, Mapping) or set(item) != {"value", "treeIndex"}:
        raise ArtifactError(where, "not an object with exactly `value` and `treeIndex`")
    value, index = item["value"], item["treeIndex"]
    if not isinstance(index, int) or isinstance(index, bool):
        raise ArtifactError(f"{where}.treeIndex", f"{index!r} is not an integer")
    if not isinstance(value, list) or len(value) != 3:
        raise ArtifactError(f"{where}.value", "not a list of [address, amount, rounds]")
    account, amount, rounds = value
    if not is_address_text(account):
        raise ArtifactError(f"{where}.value[0]", f"{account!r} is not an address (or its checksum is wrong)")
    numbers = []
    for position, number in ((1, amount), (2, rounds)):
        if not isinstance(number, str) or not _DECIMAL.fullmatch(number) or int(number) >= 2**256:
            raise ArtifactError(f"{where}.value[{position}]", f"{number!r} is not a uint256 as a decimal string")
        numbers.append(int(number))
    return to_checksum_address(account), numbers[0], numbers[1], index
