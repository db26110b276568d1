"""A manifest carries what any Ethereum library needs (chain, task, first block,
addresses and ABIs), reads back validated field by field, and attaches typed clients
only to the chain it describes. Chain tests run on the embedded EVM and on anvil."""

import copy
import json
import os

import pytest

from deployers import actors as make_actors
from deployers import deploy, staked_task
from fedstake.chain.compiler import load_artifact
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.manifest import MANIFEST, attach, build_manifest, parse_manifest, read_manifest, write_manifest
from fedstake.chain.staking import Role
from fedstake.errors import ChainError, ManifestError

NAMES = ["FedToken", "StakeRegistry", "ModelRegistry", "TaskMarket", "ModelGovernance", "ScoreBoard"]


def deployed(backend, actors):
    """A deployment, its task and its manifest; the first block is read before deploying."""
    first_block = backend.block_number() + 1
    system = deploy(backend, actors)
    task_id = staked_task(system, actors)
    return system, build_manifest(system, task_id=task_id, deployment_block=first_block)


def test_the_block_number_is_the_latest_receipts(backend, actors):
    before = backend.block_number()
    system = deploy(backend, actors)
    receipt = system.token.mint(actors.trainer.address, 1, sender=actors.owner)
    assert backend.block_number() == receipt.block_number > before


def test_a_manifest_names_the_deployment_and_round_trips_through_its_file(backend, actors, tmp_path):
    system, manifest = deployed(backend, actors)
    path = write_manifest(manifest, tmp_path / MANIFEST)
    data = json.loads(path.read_text())
    assert list(data) == ["chain_id", "task_id", "deployment_block", "contracts"]
    assert data["chain_id"] == backend.chain_id == 31337 and data["task_id"] == 1
    assert data["contracts"] == {name: {"address": address, "abi": load_artifact(name).abi}
                                 for name, address in system.addresses().items()}
    assert read_manifest(path) == manifest
    assert os.listdir(tmp_path) == [MANIFEST]


def test_the_deployment_block_precedes_every_contract_event(backend, actors):
    before = backend.block_number()
    _, manifest = deployed(backend, actors)
    assert manifest.deployment_block == before + 1  # one block per transaction here: the first deploy's


def test_clients_attached_from_a_manifest_read_and_transact(backend, actors, tmp_path):
    system, manifest = deployed(backend, actors)
    clients = attach(read_manifest(write_manifest(manifest, tmp_path / MANIFEST)), backend)
    assert clients.market.task(manifest.task_id).requester == actors.requester.address
    assert clients.registry.role_of(actors.validator.address) == Role.VALIDATOR
    assert clients.models.address == system.models.address
    clients.token.mint(actors.trainer.address, 5, sender=actors.owner)
    assert system.token.balance_of(actors.trainer.address) == 5


def test_attaching_to_another_chain_is_refused(actors):
    _, manifest = deployed(EmbeddedBackend(), actors)
    with pytest.raises(ChainError, match="the manifest is for chain 31337, but the node is chain 5"):
        attach(manifest, EmbeddedBackend(chain_id=5))


def test_attaching_where_a_contract_has_no_code_names_it(backend, actors):
    _, manifest = deployed(backend, actors)
    data = manifest.to_json()
    data["contracts"]["TaskMarket"]["address"] = actors.outsider.address
    with pytest.raises(ChainError, match=f"no contract at {actors.outsider.address} \\(TaskMarket in the manifest\\)"):
        attach(parse_manifest(data), backend)


def test_a_fresh_chain_has_none_of_the_manifests_contracts(actors):
    _, manifest = deployed(EmbeddedBackend(), actors)
    with pytest.raises(ChainError, match="no contract at .* \\(FedToken in the manifest\\) on chain 31337"):
        attach(manifest, EmbeddedBackend())


def test_an_rpc_url_is_kept_when_given(actors):
    backend = EmbeddedBackend()
    system = deploy(backend, actors)
    manifest = build_manifest(system, task_id=3, deployment_block=1, rpc_url="http://127.0.0.1:8545")
    assert list(manifest.to_json())[3] == "rpc_url"
    assert parse_manifest(json.dumps(manifest.to_json())) == manifest


@pytest.fixture(scope="module")
def good():
    return deployed(EmbeddedBackend(), make_actors())[1].to_json()


DROP = object()


def _set(path, value=DROP):
    """A change to a manifest's JSON: set the field at `path` to `value`, or drop it."""
    def change(data):
        *parents, last = path
        for key in parents:
            data = data[key]
        if value is DROP:
            del data[last]
        else:
            data[last] = value
    return change


MARKET = ["contracts", "TaskMarket"]


@pytest.mark.parametrize("change, where", [
    (_set(["chain_id"]), "chain_id"),
    (_set(["chain_id"], "31337"), "chain_id"),
    (_set(["chain_id"], True), "chain_id"),
    (_set(["task_id"], -1), "task_id"),
    (_set(["deployment_block"], -1), "deployment_block"),
    (_set(["deployment_block"], 1.5), "deployment_block"),
    (_set(["extra"], 1), "extra"),
    (_set(["rpc_url"], "ftp://node"), "rpc_url"),
    (_set(["contracts"]), "contracts"),
    (_set(["contracts"], []), "contracts"),
    (_set(MARKET), "contracts.TaskMarket"),
    (_set(["contracts", "Oracle"], {}), "contracts.Oracle"),
    (_set(MARKET, {"address": "0x" + "11" * 20}), "contracts.TaskMarket"),
    (_set(MARKET + ["address"], "0x1234"), "contracts.TaskMarket.address"),
    (_set(MARKET + ["address"], "11" * 20), "contracts.TaskMarket.address"),
    (_set(MARKET + ["address"], "0xAaAaAaAAaAaAaAAaAaaaaaaaaAAAaAaAaAAaAAaA"), "contracts.TaskMarket.address"),
    (_set(MARKET + ["abi"], []), "contracts.TaskMarket.abi"),
    (_set(MARKET + ["abi"], [{"name": "claim"}]), "contracts.TaskMarket.abi[0]"),
    (_set(MARKET + ["abi"], [{"type": "function", "name": "claim"}]), "contracts.TaskMarket.abi[0]"),
])
def test_a_malformed_manifest_is_refused_naming_the_field(good, change, where):
    data = copy.deepcopy(good)
    change(data)
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data)
    assert refused.value.where == where


@pytest.mark.parametrize("text, problem", [("{", "not JSON"), ("[]", "not a JSON object")])
def test_a_document_that_is_not_a_manifest_is_named(tmp_path, text, problem):
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(ManifestError, match=problem) as refused:
        read_manifest(tmp_path / MANIFEST)
    assert refused.value.where == str(tmp_path / MANIFEST)


def test_a_missing_manifest_is_named(tmp_path):
    with pytest.raises(ManifestError, match="cannot read the manifest"):
        read_manifest(tmp_path / MANIFEST)


def test_a_lowercase_address_is_accepted_and_checksummed(good):
    data = copy.deepcopy(good)
    data["contracts"]["TaskMarket"]["address"] = good["contracts"]["TaskMarket"]["address"].lower()
    assert parse_manifest(data).address("TaskMarket") == good["contracts"]["TaskMarket"]["address"]


def test_a_manifest_from_before_delegation_still_reads(good):
    data = copy.deepcopy(good)
    del data["contracts"]["Delegation"]
    assert list(parse_manifest(data).contracts) == NAMES
    assert "Delegation" in parse_manifest(good).contracts
