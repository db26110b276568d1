"""What the manifest-only client starts from, built with fedstake: a fresh anvil, the
deployed system, staked validators, a task whose first round settled a rewards root over
five trainers, and a run directory holding manifest.json, tables/round-1.json and one
trainer's keystore file (its passphrase handed over separately, as an operator would)."""

import pytest

from deployers import Rewards, actors, deploy, finalize, staked_task
from fedstake.chain.accounts import derive_account
from fedstake.chain.anvil import start_anvil
from fedstake.chain.keystore import save_keystore
from fedstake.chain.manifest import MANIFEST, build_manifest, write_manifest
from fedstake.chain.rpc import RpcBackend
from fedstake.protocol.ledger import PublishedTable
from fedstake.protocol.store import ArtifactStore

PASSPHRASE = "trainer passphrase"
SHARE = 12_345_678_900_000_000_000  # 12.3456789 tokens: above 2**53, as token amounts usually are


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    with start_anvil() as node:  # stopped by its PID when the module is done
        backend = RpcBackend.over_http(node.url)
        crew = actors()
        first_block = backend.block_number() + 1
        system = deploy(backend, crew)
        task_id = staked_task(system, crew)
        trainers = [crew.trainer, crew.second_trainer, *(derive_account(1, f"trainer-{i}") for i in range(3))]
        rewards = Rewards({t.address: (SHARE * (i + 1), 1) for i, t in enumerate(trainers)})
        finalize(system, crew, task_id, 1, rewards.result(b"round-1"))
        run_dir = tmp_path_factory.mktemp("run")
        write_manifest(build_manifest(system, task_id=task_id, deployment_block=first_block), run_dir / MANIFEST)
        ArtifactStore(run_dir).put_table(1, PublishedTable(rewards.table, rewards.tree))
        keystore = save_keystore(crew.second_trainer, run_dir / "second-trainer.json", PASSPHRASE)
        backend.ensure_gas(crew.second_trainer.address)  # ETH for gas, as an operator funds its trainers
        yield {"rpc_url": node.url, "run_dir": run_dir, "keystore": keystore, "passphrase": PASSPHRASE}
