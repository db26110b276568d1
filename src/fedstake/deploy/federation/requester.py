"""The requester's commands, run with its own key: open a scenario's task, and end it.

Opening escrows the budget and posts the rules (the scenario's, with the
validators it lists and the bond asked of each) and writes the task's
manifest; ending it refunds what no final root committed and mints the
model NFT from the market's record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.manifest import Contracts, Manifest, attach, write_manifest
from fedstake.proof.codec import model_hash
from fedstake.protocol.requester import Requester
from fedstake.sim.config import Scenario
from fedstake.sim.world import cast_of, task_rules


def scenario_validators(scenario: Scenario) -> list[tuple[str, int]]:
    """The validators a scenario casts (address, bond asked = its stake), in order."""
    return [(v.address, stake) for v, stake in cast_of(scenario).validators]


def open_task(scenario: Scenario, backend: ChainBackend, contracts_manifest: Manifest, account: Account, out: Path,
              *, validators: list[tuple[str, int]] | None = None) -> Manifest:
    """Escrow the budget, post the rules, write the task's manifest to `out`; returns it."""
    contracts = attach(contracts_manifest, backend)
    cast = cast_of(scenario)
    genesis = model_hash(cast.spec.unflatten(cast.genesis))
    rules = task_rules(scenario, validators or scenario_validators(scenario), genesis, backend.timestamp())
    task_id = Requester(account).open_task(contracts.token, contracts.market, rules)
    manifest = replace(contracts_manifest, task_id=task_id)
    write_manifest(manifest, out)
    return manifest


@dataclass(frozen=True)
class Ending:
    refund: int
    model_minted: bool


def close_task(backend: ChainBackend, manifest: Manifest, account: Account) -> Ending:
    """Refund the unspent escrow; mint the model NFT if a round is final."""
    contracts: Contracts = attach(manifest, backend)
    requester = Requester(account)
    refund = requester.close_task(contracts.market, manifest.task_id)
    minted = bool(contracts.market.rounds_done(manifest.task_id))
    if minted:
        requester.mint_model(contracts.models, manifest.task_id)
    return Ending(refund, minted)
