"""A run's published artifacts: what any party needs to check the run against the chain.

Beside results.json a run directory carries the layout of
`protocol.store`: `manifest.json` (chain id, task id, deployment block,
every contract's address and ABI), every round's global model under
its keccak256, every settled rewards table as an OpenZeppelin
StandardMerkleTree dump, and in a reverse-auction task every round's
signed asks. A deployment's validators publish the same
files, so one reader checks both.
"""

from __future__ import annotations

from pathlib import Path

from fedstake.chain.manifest import MANIFEST, build_manifest, write_manifest
from fedstake.protocol.store import ASKS, MODELS, TABLES, ArtifactStore
from fedstake.sim.config import Scenario
from fedstake.sim.world import World

ARTIFACT_NAMES = (MANIFEST, f"{MODELS}/", f"{TABLES}/")  # what write_artifacts writes, for the claim


def artifact_names(scenario: Scenario) -> tuple[str, ...]:
    """`ARTIFACT_NAMES`, and asks/ for a reverse-auction task: exactly what write_artifacts writes."""
    return ARTIFACT_NAMES + ((f"{ASKS}/",) if scenario.task.pricing == "reverse-auction" else ())


def write_artifacts(world: World, out: Path) -> None:
    """manifest.json, models/, tables/ and (in a reverse-auction task) asks/ of `world`'s run, into `out`."""
    rpc_url = world.scenario.chain.rpc_url if world.scenario.chain.backend == "rpc" else None
    write_manifest(build_manifest(world.deployment, task_id=world.task_id, deployment_block=world.deployment_block,
                                  rpc_url=rpc_url), out / MANIFEST)
    store = ArtifactStore(out)
    for payload in world.models.values():
        store.put_model(payload)
    for round, table in sorted(world.tables.items()):
        store.put_table(round, table)
    for round, asks in sorted(world.asks.items()):
        store.put_asks(round, asks)
