"""A client that knows web3.py and a manifest, nothing of fedstake, rebuilds a published
rewards table's root, checks it against the chain and claims a trainer's rewards.

This module imports nothing from fedstake (the last test checks its own source): what
it relies on is in the published artifacts. Its fixture (conftest.py) builds them.
"""

import ast
import json
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

pytestmark = pytest.mark.anvil


def leaf(account: str, amount: int, rounds: int) -> bytes:
    """OpenZeppelin's StandardMerkleTree leaf: keccak of keccak of the abi-encoded value."""
    return keccak(keccak(encode(["address", "uint256", "uint256"], [account, amount, rounds])))


def parent(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def build_tree(leaves: list[bytes]) -> list[bytes]:
    """OpenZeppelin's array layout: the root first, the sorted leaves last (the smallest at the end)."""
    size = 2 * len(leaves) - 1
    tree = [b""] * (size - len(leaves)) + sorted(leaves, reverse=True)
    for i in range(size - len(leaves) - 1, -1, -1):
        tree[i] = parent(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def proof_for(tree: list[bytes], index: int) -> list[bytes]:
    path = []
    while index > 0:
        path.append(tree[index + 1 if index % 2 else index - 1])
        index = (index - 1) // 2
    return path


@pytest.fixture(scope="module")
def client(published):
    run_dir: Path = published["run_dir"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    w3 = Web3(Web3.HTTPProvider(published["rpc_url"]))
    assert w3.eth.chain_id == manifest["chain_id"]
    contracts = {name: w3.eth.contract(address=c["address"], abi=c["abi"]) for name, c in manifest["contracts"].items()}
    dump = json.loads((run_dir / "tables" / "round-1.json").read_text())
    return w3, manifest, contracts, dump


def rebuilt(dump) -> tuple[list[bytes], dict[str, tuple[int, int, int]]]:
    """The tree rebuilt from the dump's values alone, and each account's (amount, rounds, leaf index)."""
    assert dump["format"] == "standard-v1" and dump["leafEncoding"] == ["address", "uint256", "uint256"]
    values = {v["value"][0]: (int(v["value"][1]), int(v["value"][2])) for v in dump["values"]}
    tree = build_tree([leaf(a, amount, rounds) for a, (amount, rounds) in values.items()])
    return tree, {a: (amount, rounds, tree.index(leaf(a, amount, rounds))) for a, (amount, rounds) in values.items()}


def test_the_tables_root_rebuilt_from_its_values_is_the_dumps_and_the_chains(client):
    _, manifest, contracts, dump = client
    tree, where = rebuilt(dump)
    assert len(where) == 5 and all(isinstance(v["value"][1], str) for v in dump["values"])
    assert ["0x" + node.hex() for node in tree] == dump["tree"]
    assert {v["value"][0]: v["treeIndex"] for v in dump["values"]} == {a: i for a, (_, _, i) in where.items()}
    assert contracts["TaskMarket"].functions.rewards_root(manifest["task_id"]).call() == tree[0]


def test_a_trainer_claims_with_a_proof_from_the_table_and_its_keystore(client, published):
    w3, manifest, contracts, dump = client
    trainer = w3.eth.account.from_key(w3.eth.account.decrypt(published["keystore"].read_text(),
                                                            published["passphrase"]))
    tree, where = rebuilt(dump)
    amount, rounds, index = where[trainer.address]
    token, market = contracts["FedToken"], contracts["TaskMarket"]
    before = token.functions.balanceOf(trainer.address).call()
    claim = market.functions.claim(manifest["task_id"], amount, rounds, proof_for(tree, index))
    tx = claim.build_transaction({"from": trainer.address, "nonce": w3.eth.get_transaction_count(trainer.address),
                                  "chainId": manifest["chain_id"]})
    tx_hash = w3.eth.send_raw_transaction(trainer.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.01)
    assert receipt["status"] == 1
    assert token.functions.balanceOf(trainer.address).call() - before == amount > 2**53
    assert market.functions.claimed(manifest["task_id"], trainer.address).call() == amount
    (event,) = market.events.Claimed().process_receipt(receipt, errors=DISCARD)  # the token's Transfer too
    assert event["args"]["account"] == trainer.address and event["args"]["amount"] == amount


def test_history_starts_at_the_manifests_deployment_block(client):
    w3, manifest, contracts, _ = client
    first = manifest["deployment_block"]
    token = manifest["contracts"]["FedToken"]["address"]
    assert w3.eth.get_code(token, first - 1) == b"" and w3.eth.get_code(token, first) != b""
    created = contracts["TaskMarket"].events.TaskCreated().get_logs(from_block=first)
    assert [log["args"]["task_id"] for log in created] == [manifest["task_id"]]


def test_this_module_imports_nothing_from_fedstake():
    tree = ast.parse(Path(__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} == {"ast", "json", "pathlib", "pytest", "eth_abi", "eth_utils",
                                                         "web3"}
