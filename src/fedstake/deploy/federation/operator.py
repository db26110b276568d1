"""The operator's part of a deployment, with the contracts owner's key: deploy them once, and on a
test chain mint tokens to the participants.

The owner can pause new tasks and authorise the market as the registry's
slasher; it moves nobody's tokens and holds no task's escrow. Everything
else a deployment needs (the requester's task, every stake, every claim) is
done by each party with its own key. Minting is a test chain's faucet: on a
network with a real token the participants bring their own.
"""

from __future__ import annotations

from typing import Sequence

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.deployment import deploy_system
from fedstake.chain.manifest import Contracts, Manifest, build_manifest
from fedstake.errors import ConfigError
from fedstake.sim.config import Scenario
from fedstake.sim.world import settlement_params


def deploy(backend: ChainBackend, owner: Account, scenario: Scenario, *, insurance: str,
           rpc_url: str | None = None) -> Manifest:
    """Deploy token, registries and market with the settlement rules of the scenario's [chain];
    returns the contracts' manifest (task_id 0), which names `rpc_url` as the chain's node."""
    block = backend.block_number() + 1
    system = deploy_system(backend, owner, insurance=insurance, params=settlement_params(scenario))
    return build_manifest(system, task_id=0, deployment_block=block, rpc_url=rpc_url)


def mint(contracts: Contracts, owner: Account, grants: Sequence[tuple[str, int]]) -> None:
    """Mint each (address, base units) grant, checking first that `owner` may mint, so that a wrong
    key mints nothing rather than failing on the first grant."""
    if not contracts.token.is_minter(owner.address):
        raise ConfigError("--key", f"{owner.address} is not a minter of the token at {contracts.token.address}")
    for address, amount in grants:
        contracts.token.mint(address, amount, sender=owner)
