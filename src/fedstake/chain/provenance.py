"""A model NFT's record and the per-round roots it commits to, read from the chain.

The ModelRegistry stores the final model hash and a provenance hash that
chains every final round's (model hash, updates root, rewards root); the
task market keeps each round's result. Reading both and recomputing the
chain shows the record is what the rounds produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.chain.backend import ChainBackend
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import ContractHandle
from fedstake.chain.manifest import Manifest, check_chain
from fedstake.chain.market import ZERO32, RoundResult, TaskMarket, chain_provenance
from fedstake.chain.models import ModelRecord, ModelRegistry
from fedstake.errors import ChainError, ContractRevert, ManifestError


@dataclass(frozen=True)
class Provenance:
    token_id: int
    owner: str
    record: ModelRecord
    rounds: list[RoundResult]

    @property
    def recomputed(self) -> bytes:
        link = ZERO32
        for number, result in enumerate(self.rounds, 1):
            link = chain_provenance(link, number, result)
        return link

    @property
    def consistent(self) -> bool:
        """The rounds' roots chain to the NFT's provenance hash, and the last model is the NFT's."""
        last = self.rounds[-1].model_hash if self.rounds else ZERO32
        return self.recomputed == self.record.provenance and last == self.record.model_hash


def read_provenance(backend: ChainBackend, registry_address: str, task_id: int) -> Provenance:
    """The NFT of `task_id` in the ModelRegistry at `registry_address`, and every final round of its task."""
    artifact = load_artifact("ModelRegistry")
    if not backend.code_at(registry_address).startswith(artifact.runtime_bytecode):  # immutables follow the code
        raise ChainError(f"no fedstake ModelRegistry at {registry_address} on this chain")
    models = ModelRegistry(ContractHandle(backend, registry_address, artifact))
    try:
        owner = models.owner_of(task_id)
    except ContractRevert:
        raise ChainError(f"task {task_id} has no model NFT: not closed yet, no round was final, or not "
                         "minted yet (anyone can send ModelRegistry.mint_model(task) once it is closed)") from None
    record = models.record(task_id)
    market = TaskMarket(ContractHandle(backend, record.market, load_artifact("TaskMarket")))
    rounds = []
    for number in range(1, record.rounds + 1):
        result = market.final_result(task_id, number)
        if result is None:
            raise ChainError(f"round {number} of task {task_id} is not final on chain")
        rounds.append(result)
    return Provenance(task_id, owner, record, rounds)


def read_manifest_provenance(manifest: Manifest, *, rpc_url: str | None = None) -> Provenance:
    """`read_provenance` from a manifest alone: its chain, its ModelRegistry and its task,
    on the node at `rpc_url`, else the one the manifest names."""
    from fedstake.chain.rpc import RpcBackend  # deferred: web3 costs about a second to import

    url = rpc_url or manifest.rpc_url
    if not url:
        raise ManifestError("rpc_url", "missing: the manifest names no node, so an RPC URL must be given")
    with RpcBackend.over_http(url) as chain:
        check_chain(manifest, chain)
        return read_provenance(chain, manifest.address("ModelRegistry"), manifest.task_id)
