"""`verify-model` from a manifest alone: the node, the ModelRegistry and the task come
from it, and the answer is `read_provenance`'s."""

import dataclasses

import pytest
from eth_utils import keccak

from deployers import TOKEN, Rewards, deploy, finalize, rpc_backend_in_snapshot, staked_task
from fedstake.chain.anvil import free_port
from fedstake.chain.manifest import build_manifest
from fedstake.chain.provenance import read_manifest_provenance, read_provenance
from fedstake.errors import ChainError, ManifestError

pytestmark = pytest.mark.anvil


@pytest.fixture
def closed(anvil_node, actors):
    """A one-round task, final and closed (its model NFT minted), and its manifest naming the node."""
    backend, undo = rpc_backend_in_snapshot(anvil_node.url)
    first_block = backend.block_number() + 1
    system = deploy(backend, actors)
    task_id = staked_task(system, actors, rounds=1)
    finalize(system, actors, task_id, 1, Rewards({actors.trainer.address: (10 * TOKEN, 1)}).result(b"final"))
    system.market.close_task(task_id, sender=actors.requester)
    system.models.mint_model(task_id, sender=actors.requester)
    yield backend, system, build_manifest(system, task_id=task_id, deployment_block=first_block,
                                          rpc_url=anvil_node.url)
    undo()


def test_the_manifest_alone_gives_read_provenances_answer(closed):
    backend, system, manifest = closed
    provenance = read_manifest_provenance(manifest)
    assert provenance == read_provenance(backend, system.models.address, manifest.task_id)
    assert provenance.consistent and provenance.record.model_hash == keccak(b"final")


def test_an_rpc_url_given_overrides_the_manifests(closed, anvil_node):
    _, _, manifest = closed
    stale = dataclasses.replace(manifest, rpc_url=f"http://127.0.0.1:{free_port()}")
    assert read_manifest_provenance(stale, rpc_url=anvil_node.url) == read_manifest_provenance(manifest)
    with pytest.raises(ChainError, match="the node refused"):
        read_manifest_provenance(stale)


def test_without_any_rpc_url_the_missing_field_is_named(closed):
    _, _, manifest = closed
    with pytest.raises(ManifestError) as missing:
        read_manifest_provenance(dataclasses.replace(manifest, rpc_url=None))
    assert missing.value.where == "rpc_url"


def test_a_node_of_another_chain_is_refused(closed):
    _, _, manifest = closed
    with pytest.raises(ChainError, match="the manifest is for chain 10, but the node is chain 31337"):
        read_manifest_provenance(dataclasses.replace(manifest, chain_id=10))
