"""Our rewards-table dumps are @openzeppelin/merkle-tree's own: node loads ours to our
roots and proofs, builds the same bytes from the same values, and its dumps load here.

One node process answers for every table (a start costs ~0.1 s); it needs `npm install`.
"""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from fedstake.chain.accounts import derive_account
from fedstake.chain.market import reward_leaf
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.rewards_dump import dump_rewards, dumps_rewards, load_rewards
from fedstake.errors import ArtifactError

SCRIPT = Path(__file__).parents[1] / "js" / "oz_standard_tree.cjs"
SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 40, 100]


def random_table(rng: random.Random, n: int) -> dict[str, tuple[int, int]]:
    """Amounts across uint256 (many above 2**53, where JSON numbers fail JavaScript)."""
    return {derive_account(n, f"trainer-{i}").address: (rng.randrange(2 ** rng.choice([8, 60, 128, 256])),
                                                        rng.randrange(1, 1000)) for i in range(n)}


def oz(dumps: list[str], builds: list[list[list[str]]]) -> dict:
    node = shutil.which("node")
    assert node, "node is not on PATH (the Makefile's npm install needs it too)"
    done = subprocess.run([node, str(SCRIPT)], input=json.dumps({"dumps": dumps, "builds": builds}),
                          capture_output=True, text=True, timeout=120, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tampered(table) -> str:
    dump = dump_rewards(table)
    dump["values"][0]["value"][1] = str(int(dump["values"][0]["value"][1]) + 1)
    return json.dumps(dump)


@pytest.fixture(scope="module")
def cases():
    rng = random.Random(20261202)
    tables = [random_table(rng, n) for n in SIZES]
    ours = [dumps_rewards(t) for t in tables]
    in_our_order = [json.loads(text)["values"] for text in ours]
    shuffled = [rng.sample([v["value"] for v in values], len(values)) for values in in_our_order]
    answer = oz(ours + [tampered(tables[4])], [[v["value"] for v in values] for values in in_our_order] + shuffled)
    n = len(tables)
    return {"tables": tables, "ours": ours, "loads": answer["loads"][:n], "tampered": answer["loads"][n],
            "same_order": answer["builds"][:n], "shuffled": answer["builds"][n:]}


def test_oz_loads_our_dumps_to_our_roots_and_proofs(cases):
    for table, loaded in zip(cases["tables"], cases["loads"], strict=True):
        assert "error" not in loaded, loaded
        tree = MerkleTree([reward_leaf(a, v, r) for a, (v, r) in table.items()])
        assert loaded["root"] == "0x" + tree.root.hex()
        assert len(loaded["proofs"]) == len(table)
        for item in loaded["proofs"]:
            account, amount, rounds = item["value"]
            assert table[account] == (int(amount), int(rounds)) and item["verified"]
            assert item["proof"] == ["0x" + p.hex() for p in tree.proof(reward_leaf(account, int(amount), int(rounds)))]


def test_oz_dumps_byte_for_byte_what_we_dump(cases):
    assert cases["same_order"] == cases["ours"]


def test_a_dump_made_by_oz_loads_here_to_the_same_table_and_root(cases):
    for table, text, ours in zip(cases["tables"], cases["shuffled"], cases["ours"], strict=True):
        entries, tree = load_rewards(text)
        assert entries == table
        assert "0x" + tree.root.hex() == json.loads(ours)["tree"][0] == json.loads(text)["tree"][0]


def test_oz_and_we_both_refuse_a_dump_with_an_altered_amount(cases):
    assert "does not contain the expected value" in cases["tampered"]["error"]
    with pytest.raises(ArtifactError, match=r"values\[0\]"):
        load_rewards(tampered(cases["tables"][4]))
