"""Rewards tables dump to OpenZeppelin's StandardMerkleTree format and load back only
when every leaf and node is what the values give; whatever was altered is named."""

import copy
import json

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from fedstake.chain.accounts import derive_account
from fedstake.chain.market import reward_leaf
from fedstake.chain.merkle import MerkleTree, hash_pair
from fedstake.chain.rewards_dump import dump_rewards, dumps_rewards, load_rewards
from fedstake.errors import ArtifactError

UINT256 = st.integers(min_value=0, max_value=2**256 - 1)
addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
tables = st.dictionaries(addresses, st.tuples(UINT256, UINT256), min_size=1, max_size=24)


def trainers(n: int) -> list[str]:
    return [derive_account(7, f"trainer-{i}").address for i in range(n)]


def table_of(n: int) -> dict[str, tuple[int, int]]:
    return {a: ((i + 1) * 10**20 + 7, i + 1) for i, a in enumerate(trainers(n))}  # amounts above 2**53


def tree_of(table) -> MerkleTree:
    return MerkleTree([reward_leaf(a, v, r) for a, (v, r) in table.items()])


@given(tables)
@settings(max_examples=60)
def test_a_dump_loads_back_to_the_same_table_and_root(table):
    entries, tree = load_rewards(dumps_rewards(table))
    assert entries == table
    assert tree.root == tree_of(table).root
    assert json.loads(dumps_rewards(table))["tree"][0] == "0x" + tree.root.hex()


def test_the_dump_has_oz_layout_with_decimal_strings():
    table = table_of(3)
    dump = dump_rewards(table)
    assert list(dump) == ["format", "leafEncoding", "tree", "values"]
    assert dump["format"] == "standard-v1" and dump["leafEncoding"] == ["address", "uint256", "uint256"]
    assert [v["value"][0] for v in dump["values"]] == sorted(table, key=lambda a: int(a, 16))
    tree = tree_of(table)
    for item in dump["values"]:
        account, amount, rounds = item["value"]
        assert (int(amount), int(rounds)) == table[account] and isinstance(amount, str)
        assert dump["tree"][item["treeIndex"]] == "0x" + reward_leaf(account, int(amount), int(rounds)).hex()
    assert dump["tree"] == ["0x" + node.hex() for node in tree.nodes]


def test_an_empty_table_has_no_dump():
    with pytest.raises(ValueError, match="empty"):
        dump_rewards({})


def _tampers(n: int):
    """Ways to alter a dump of n values, each with what the error must name."""
    size = 2 * n - 1

    def bump_amount(d, i):
        d["values"][i]["value"][1] = str(int(d["values"][i]["value"][1]) + 1)
        return f"values[{i}]"

    def bump_rounds(d, i):
        d["values"][i]["value"][2] = str(int(d["values"][i]["value"][2]) + 1)
        return f"values[{i}]"

    def other_account(d, i):
        d["values"][i]["value"][0] = derive_account(99, "thief").address
        return f"values[{i}]"

    def flip_node(d, i):
        j = i % size
        node = bytearray.fromhex(d["tree"][j][2:])
        node[-1] ^= 1
        d["tree"][j] = "0x" + node.hex()
        return "values[" if j >= n - 1 else f"tree[{j}]"

    def drop_value(d, i):
        del d["values"][i % n]
        return "tree: " if n > 1 else "values: "

    return [bump_amount, bump_rounds, other_account, flip_node, drop_value]


@given(tables, st.integers(min_value=0), st.integers(min_value=0, max_value=4))
@settings(max_examples=80)
def test_every_alteration_is_refused_and_named(table, at, kind):
    dump = dump_rewards(table)
    n = len(dump["values"])
    tamper = _tampers(n)[kind]
    expected = tamper(dump, at % n if kind != 3 else at)
    with pytest.raises(ArtifactError) as refused:
        load_rewards(dump)
    assert expected in str(refused.value)


def test_an_altered_root_is_named_as_the_root():
    dump = dump_rewards(table_of(5))
    dump["tree"][0] = "0x" + "ab" * 32
    with pytest.raises(ArtifactError, match=r"tree\[0\] \(the root\): not the hash of tree\[1\] and tree\[2\]"):
        load_rewards(dump, source="round-1.json")


def test_a_changed_amount_is_named_with_its_account():
    table = table_of(4)
    dump = dump_rewards(table)
    dump["values"][2]["value"][1] = "1"
    account, _, rounds = dump["values"][2]["value"]
    with pytest.raises(ArtifactError, match=rf"round-3.json: values\[2\]: \({account}, 1, {rounds}\) hashes to"):
        load_rewards(json.dumps(dump), source="round-3.json")


def oz_layout(leaves: list[bytes]) -> list[bytes]:
    """OZ's makeMerkleTree over leaves in the order given (what sortLeaves: false builds)."""
    size = 2 * len(leaves) - 1
    nodes = [b""] * (size - len(leaves)) + list(reversed(leaves))
    for i in range(size - len(leaves) - 1, -1, -1):
        nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
    return nodes


def test_a_consistent_tree_over_unsorted_leaves_is_refused():
    dump = dump_rewards(table_of(4))
    leaves = sorted(bytes.fromhex(h[2:]) for h in dump["tree"][3:])
    nodes = oz_layout(leaves[::-1])  # every node its children's hash, but the leaves descend
    dump["tree"] = ["0x" + node.hex() for node in nodes]
    for item in dump["values"]:
        account, amount, rounds = item["value"]
        item["treeIndex"] = nodes.index(reward_leaf(account, int(amount), int(rounds)))
    with pytest.raises(ArtifactError, match="not in ascending order"):
        load_rewards(dump)
    dump["tree"] = ["0x" + node.hex() for node in oz_layout(leaves)]  # the same, sorted: accepted
    for item in dump["values"]:
        item["treeIndex"] = dump["tree"].index("0x" + reward_leaf(item["value"][0], *map(int, item["value"][1:])).hex())
    assert load_rewards(dump)[1].root == tree_of(table_of(4)).root


BASE = dump_rewards(table_of(2))


@pytest.mark.parametrize("change, where", [
    (lambda d: d.update(format="simple-v1"), "format"),
    (lambda d: d.update(leafEncoding=["address", "uint256"]), "leafEncoding"),
    (lambda d: d.pop("values"), "missing"),
    (lambda d: d.update(extra=1), "unknown keys"),
    (lambda d: d["tree"].__setitem__(1, "0x12"), "tree[1]"),
    (lambda d: d["tree"].__setitem__(1, d["tree"][1].upper().replace("0X", "0x")), "tree[1]"),
    (lambda d: d.update(tree=[]), "tree"),
    (lambda d: d["values"][0].update(treeIndex="2"), "values[0].treeIndex"),
    (lambda d: d["values"][0].update(treeIndex=0), "values[0]: treeIndex 0 is not a leaf"),
    (lambda d: d["values"][1].update(treeIndex=d["values"][0]["treeIndex"]), "values[1]: treeIndex"),
    (lambda d: d["values"][0]["value"].__setitem__(1, 5), "values[0].value[1]"),
    (lambda d: d["values"][0]["value"].__setitem__(1, "-5"), "values[0].value[1]"),
    (lambda d: d["values"][0]["value"].__setitem__(2, str(2**256)), "values[0].value[2]"),
    (lambda d: d["values"][0]["value"].__setitem__(0, "0x" + d["values"][0]["value"][0][2:].swapcase()),
     "values[0].value[0]"),
    (lambda d: d["values"][0]["value"].pop(), "values[0].value"),
    (lambda d: d["values"][1]["value"].__setitem__(0, d["values"][0]["value"][0]), "appears twice"),
])
def test_malformed_dumps_are_refused_naming_the_field(change, where):
    dump = copy.deepcopy(BASE)
    change(dump)
    with pytest.raises(ArtifactError) as refused:
        load_rewards(dump, source="t.json")
    assert where in str(refused.value)


@pytest.mark.parametrize("text", ["{", "[]", '"standard-v1"'])
def test_text_that_is_not_a_dump_object_is_refused(text):
    with pytest.raises(ArtifactError, match="t.json: not"):
        load_rewards(text, source="t.json")
