"""A federation's results.json, in the simulator's schema, from the coordinator's log and the chain.

Rounds come from what the coordinator logged (each the final result's
summary, as its validator published it); stakes, slashes, claims, the
refund and the token supply are read back from the chain, so the file
agrees with the chain whatever happened to the processes in between.
The gas of each operation is not collected: the transactions are sent by
a dozen processes, each with its own key.
"""

from __future__ import annotations

from pathlib import Path

from fedstake import __version__
from fedstake.chain.backend import ChainBackend
from fedstake.chain.manifest import MANIFEST, Manifest, attach, write_manifest
from fedstake.chain.market import ZERO32
from fedstake.deploy.federation.relay_log import RelayLog
from fedstake.deploy.federation.launcher import Cast
from fedstake.deploy.federation.node import PUBLISHED
from fedstake.deploy.federation.wire import read_summary
from fedstake.errors import FedstakeError, FetchError
from fedstake.protocol.store import ArtifactStore
from fedstake.sim.config import Scenario, resolved
from fedstake.sim.results import ParticipantRow, Results, RoundRow, hex0x, summary_row
from fedstake.sim.world import TOKEN


def logged_rounds(run_dir: Path) -> list[RoundRow]:
    rows = []
    for _, doc in sorted(RelayLog(run_dir).rows().items()):
        rows.append(summary_row(doc["round"], read_summary(doc["summary"]), accuracy=doc["accuracy"], loss=doc["loss"],
                                selected=doc["selected"], proposals=doc["proposals"], disputes=doc["disputes"],
                                tx_hash=doc["tx_hash"], finalized_at=doc["finalized_at"],
                                silent={**doc["silent"], **doc.get("absent", {})}))
    return rows


def federation_results(run_dir: Path, scenario: Scenario, manifest: Manifest, backend: ChainBackend, *, refunded: int,
                       timing: dict[str, float], node_stays: bool) -> Results:
    """`node_stays`: the chain outlives the run (a node given, or --keep), so its URL is worth keeping."""
    contracts, cast = attach(manifest, backend), Cast.of(scenario)
    market, registry, token, task_id = contracts.market, contracts.registry, contracts.token, manifest.task_id
    rounds = logged_rounds(run_dir)
    _agree_with_chain(rounds, market, task_id)
    stakes = [g.stake for g in scenario.trainers for _ in range(g.count)]
    behaviours = [g.behaviour for g in scenario.trainers for _ in range(g.count)]
    participants = [ParticipantRow(cast.requester.address, "requester", "honest", 0, 0, 0, 0, 0)]
    validator_stakes = [g.stake for g in scenario.validators for _ in range(g.count)]
    validator_behaviours = [g.behaviour for g in scenario.validators for _ in range(g.count)]
    for role, accounts, amounts, kinds in (("validator", cast.validators, validator_stakes, validator_behaviours),
                                           ("trainer", cast.trainers, stakes, behaviours)):
        for account, stake, kind in zip(accounts, amounts, kinds):
            participants.append(ParticipantRow(account.address, role, kind, 0, stake * TOKEN,
                                               registry.stake_of(account.address),
                                               registry.slashed_of(account.address),
                                               market.claimed(task_id, account.address)))
    task = market.task(task_id)
    holders = [cast.owner, cast.insurance, cast.requester, *cast.trainers, *cast.validators]
    held = sum(token.balance_of(a.address) for a in holders) + token.balance_of(registry.address) + \
        token.balance_of(market.address)
    final_hash = market.view("latest_model_hash", task_id)
    return Results(
        fedstake_version=__version__,
        scenario=resolved(scenario),
        chain={"backend": "rpc", "chain_id": backend.chain_id, "rpc_url": manifest.rpc_url if node_stays else None,
               "contracts": {name: entry.address for name, entry in manifest.contracts.items()}, "task_id": task_id,
               "gas": {}, "gas_total": None},
        learning={"aggregator": {"name": scenario.task.aggregator, "params": scenario.aggregator_params()}},
        rounds=rounds,
        participants=participants,
        final={"accuracy": rounds[-1].accuracy if rounds else None, "model_hash": hex0x(final_hash),
               "budget": task.budget, "paid": task.budget - market.view("escrow_left", task_id) - refunded,
               "refunded": refunded, "supply_conserved": held == token.total_supply(), "time_s": None,
               "payout_latency_p50_s": None, "payout_latency_p95_s": None},
        timing=timing,
    )


def _agree_with_chain(rounds: list[RoundRow], market, task_id: int) -> None:
    """Every final round logged once, each with the chain's final result."""
    done = market.rounds_done(task_id)
    if [r.round for r in rounds] != list(range(1, done + 1)):
        raise FedstakeError(f"the coordinator logged rounds {[r.round for r in rounds]}, the chain has {done} final")
    for row in rounds:
        final = market.final_result(task_id, row.round)
        if (row.model_hash, row.rewards_root) != (hex0x(final.model_hash), hex0x(final.rewards_root)):
            raise FedstakeError(f"round {row.round}: the logged result is not the chain's final result")


def collect_artifacts(run_dir: Path, manifest: Manifest, backend: ChainBackend, into: Path) -> None:
    """The task's published artifacts in one store: its manifest, every final round's model and
    every settled table, taken from whichever validator's store has them and checked against the
    hashes and roots on chain."""
    market, task_id = attach(manifest, backend).market, manifest.task_id
    stores = [ArtifactStore(folder / PUBLISHED) for folder in sorted((run_dir / "nodes").glob("validator-*"))]
    target = ArtifactStore(into)
    write_manifest(manifest, into / MANIFEST)
    model = b""
    for round in range(1, market.rounds_done(task_id) + 1):
        final = market.final_result(task_id, round)
        model = _first(lambda s: s.get_model(final.model_hash), stores, f"round {round}'s model")
        target.put_model(model)
        if final.rewards_root != ZERO32:
            target.put_table(round, _first(lambda s: s.get_table(round, root=final.rewards_root), stores,
                                           f"round {round}'s rewards table"))
    if model:
        (into / "model.safetensors").write_bytes(model)  # the final model, as simulate writes it


def _first(read, stores, what: str):
    for store in stores:
        try:
            return read(store)
        except FedstakeError:
            continue
    raise FetchError(f"no validator's store holds {what} as the chain records it")
