"""A trainer's or a validator's node: its key, its data, its state, and its answer to each message.

What a node is given (`fedstake trainer` / `fedstake validator` flags, or
a SuperNode's `--node-config` when the ClientApp runs it in process):

    role             "trainer" or "validator"
    index            its place among the scenario's trainers (or validators): its data
    scenario         the scenario TOML the task plays (its data and rules)
    manifest         the task's manifest.json
    folder           this node's own directory: its state (a validator's desk: model
                     hash, ledger, histories, this round's assessment and outcome, its
                     aggregator's state; never its key) and a validator's published
                     models and tables, which its server serves
    key              its keystore file; passphrase-file: the file holding its passphrase
    rpc-url          the chain node

Every question is checked against the chain, never taken from the
coordinator on trust: the model it is asked to train from must be the
chain's latest, the round seed the chain's, the validators it seals its
update for the task's own. A node keeps its state on disk after every
step, so a node killed and started again carries on where it was.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Mapping

import torch
from flwr.app import ConfigRecord

from fedstake.chain.accounts import Account
from fedstake.chain.keystore import load_keystore, read_passphrase
from fedstake.chain.manifest import attach, read_manifest
from fedstake.chain.market import reward_leaf
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation.wire import (
    json_record, model_bytes, read_json, read_report, read_sealed_submission, read_summary, read_task, report_doc,
    sealed_submission, summary_doc,
)
from fedstake.deploy.publish import fetch_table
from fedstake.errors import ConfigError, ProtocolError
from fedstake.proof.sealing import address_of, public_key, seal
from fedstake.protocol.clock import WallClock
from fedstake.protocol.desk import ValidatorDesk
from fedstake.protocol.ledger import ClaimTicket, claim
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.settlement import LocalPort, ValidatorSettlement
from fedstake.protocol.store import ArtifactStore
from fedstake.sim.config import Scenario, load_scenario
from fedstake.sim.world import BOND_FUNDS, TOKEN, cast_of, task_terms

ROLES = ("trainer", "validator")
NODE_PATIENCE_S = 120.0  # how long a participant waits for a chain node that went away (restarting, say)
STATE = "state.pt"
PUBLISHED = "published"


@dataclass(frozen=True)
class NodeConfig:
    role: str
    index: int
    scenario: Path
    manifest: Path
    folder: Path
    key: Path
    passphrase_file: Path | None  # None: the key comes unlocked (an agent unlocks it once)
    rpc_url: str

    @classmethod
    def of(cls, config) -> NodeConfig:
        def get(key: str) -> str:
            try:
                return str(config[key])
            except KeyError:
                raise ConfigError(f"node-config.{key}", "missing (see fedstake.deploy.federation.node)") from None

        role = get("role")
        if role not in ROLES:
            raise ConfigError("node-config.role", f"{role!r} is not one of {', '.join(ROLES)}")
        return cls(role, int(get("index")), Path(get("scenario")), Path(get("manifest")), Path(get("folder")),
                   Path(get("key")), Path(get("passphrase-file")), get("rpc-url"))


class Node:
    """A participant's node: its key, its role as the scenario casts it, the chain. An agent builds
    it once and keeps it; a ClientApp running it in process builds it for every message."""

    def __init__(self, config: NodeConfig, account: Account | None = None) -> None:
        torch.set_num_threads(1)  # one thread, as the simulator: the same float results, the same hashes
        self.config = config
        self.account = account or load_keystore(config.key, read_passphrase(file=config.passphrase_file))
        self.scenario: Scenario = load_scenario(config.scenario, [])
        self.backend = RpcBackend.over_http(config.rpc_url, patience_s=NODE_PATIENCE_S)
        self.manifest = read_manifest(config.manifest)
        self.contracts = attach(self.manifest, self.backend)
        self.market, self.task_id = self.contracts.market, self.manifest.task_id
        count = self.scenario.trainer_count if config.role == "trainer" else sum(g.count for g in self.scenario.validators)
        if not 0 <= config.index < count:
            raise ConfigError("index", f"{config.index} is not below the scenario's {count} {config.role}s")

    @cached_property
    def cast(self):
        return cast_of(self.scenario)

    @cached_property
    def role(self):
        """Its role as the scenario casts it, holding this node's own key."""
        c, i = self.cast, self.config.index
        role = c.trainers[i] if self.config.role == "trainer" else c.validators[i][0]
        return dataclasses.replace(role, account=self.account)

    def stake_amount(self) -> int:
        if self.config.role == "trainer":
            groups = [g for g in self.scenario.trainers for _ in range(g.count)]
        else:
            groups = [g for g in self.scenario.validators for _ in range(g.count)]
        return groups[self.config.index].stake * TOKEN

    def onboard(self) -> None:
        """Stake, trust the market, register and join the task, each only if the chain does not show it
        done yet."""
        registry, token, market = self.contracts.registry, self.contracts.token, self.market
        amount, me = self.stake_amount(), self.account.address
        if registry.stake_of(me) < amount:
            self.role.stake(token, registry, amount - registry.stake_of(me))
        if not registry.trusts(me, market.address):
            self.role.trust(registry, market)
        if self.config.role == "trainer":
            if market.reputation(me) == 0:
                self.role.register(market)
            if registry.bond_of(market.address, self.task_id, me) == 0:
                self.role.join(market, self.task_id, amount)
            return
        if token.allowance(me, market.address) < BOND_FUNDS * TOKEN:  # what its challenges may need
            token.approve(market.address, BOND_FUNDS * TOKEN, sender=self.account)
        if registry.bond_of(market.address, self.task_id, me) == 0:
            self.role.join(market, self.task_id)

    def expected_model(self) -> bytes:
        done = self.market.rounds_done(self.task_id)
        return self.market.view("latest_model_hash", self.task_id) if done else \
            self.market.task(self.task_id).genesis_model_hash

    # --- the trainer ------------------------------------------------------------------------------------------

    def current_task(self, question: ConfigRecord) -> RoundTask:
        """The round's task as sent, once the chain confirms it: its next round, its seed, its latest model."""
        task = read_task(question, self.cast.spec, self.market.domain())
        round = self.market.rounds_done(self.task_id) + 1
        if (task.task_id, task.round) != (self.task_id, round):
            raise ProtocolError(f"asked about task {task.task_id} round {task.round}; the chain is at round {round}")
        if task.round_seed != self.market.round_seed(self.task_id, round):
            raise ProtocolError(f"round {round}: the round seed sent is not the chain's")
        if task.model_hash != self.expected_model():
            raise ProtocolError(f"round {round}: the model sent is not the chain's latest")
        return task

    def train(self, question: ConfigRecord) -> ConfigRecord:
        task = self.current_task(question)
        round = task.round
        keys = {str(a): bytes.fromhex(k.removeprefix("0x")) for a, k in read_json(question)["validators"].items()}
        listed = set(self.market.validators(self.task_id))
        if not keys or set(keys) - listed:
            raise ProtocolError(f"round {round}: asked to seal for accounts that are not the task's validators")
        forged = [a for a, k in keys.items() if address_of(k) != a]
        if forged:  # a relay swapping in its own key would read the update
            raise ProtocolError(f"round {round}: the public keys sent for {forged} are not those accounts' keys")
        submission = self.role.respond(task)
        return sealed_submission(submission.signed, seal(submission.payload, keys))

    def claim(self, question: ConfigRecord) -> ConfigRecord:
        """Claim what the latest settled table owes it, after checking the table against the chain's root."""
        doc, me = read_json(question), self.account.address
        root = self.market.rewards_root(self.task_id)
        table = None
        for url in doc["servers"]:
            try:
                table = fetch_table(url, int(doc["round"]), root=root)
                break
            except Exception:  # a server down or lying: try the next validator's
                continue
        if table is None:
            raise ProtocolError(f"no validator served a table of round {doc['round']} matching the chain's root")
        entry = table.entries.get(me)
        if entry is None or (entry[0], entry[1]) <= (self.market.claimed(self.task_id, me),
                                                    self.market.view("counted_rounds", self.task_id, me)):
            return json_record(paid="0")
        proof = tuple(table.tree.proof(reward_leaf(me, *entry)))
        paid = claim(self.market, self.task_id, self.account, ClaimTicket(me, entry[0], entry[1], proof), root=root)
        return json_record(paid=str(paid))

    # --- the validator ----------------------------------------------------------------------------------------

    @cached_property
    def desk(self) -> ValidatorDesk:
        settlement = ValidatorSettlement(self.market, self.task_id, self.account, WallClock(self.backend))
        desk = ValidatorDesk(self.role, self.market, task_terms(self.scenario, self.task_id), settlement,
                             model_hash=self.expected_model())
        path = self.config.folder / STATE
        if path.exists():
            desk.restore(torch.load(path, weights_only=False))
        return desk

    def keep(self) -> None:
        self.config.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.config.folder / (STATE + ".tmp")
        torch.save(self.desk.state(), tmp)
        tmp.replace(self.config.folder / STATE)

    def assess(self, question: ConfigRecord, submissions: list[ConfigRecord]) -> ConfigRecord:
        """Its report on the round; or, when it missed a final round (it was down), `behind`: the
        last round it adopted, so the coordinator sends it what it missed (`catch_up`)."""
        task = self.current_task(question)
        self._adopt_own_final()
        if self.desk.adopted != task.round - 1:
            return json_record(behind=self.desk.adopted)
        report = self.desk.assess(task, _submissions(submissions), _cohort(question))
        ArtifactStore(self.config.folder / PUBLISHED).put_scores(task.round, report)
        self.keep()
        return json_record(report=report_doc(report))

    def _adopt_own_final(self) -> None:
        desk = self.desk
        if desk.concluded and desk.adopt_own(self.market.final_result(self.task_id, desk.concluded)):
            self.keep()

    def catch_up(self, question: ConfigRecord, records: Mapping[str, ConfigRecord]) -> ConfigRecord:
        """Replay a final round it missed from what the coordinator relayed then (the task, the
        sealed updates, every validator's report), checked against the chain: the model it starts
        from is its own last one, the final summary is of the chain's final result."""
        doc, desk = read_json(question), self.desk
        round = int(doc["round"])
        self._adopt_own_final()
        final = read_summary(doc["summary"])
        if self.market.final_result(self.task_id, round) != final.result:
            raise ProtocolError(f"round {round}: the summary sent is not of the chain's final result")
        assess, conclude = records.get("assess"), records.get("conclude")
        if assess is None or conclude is None:
            raise ProtocolError(f"round {round}: a catch-up without the round's assess and conclude records")
        task = read_task(assess, self.cast.spec, self.market.domain())
        reports = {r["validator"]: read_report(r) for r in read_json(conclude)["reports"]}
        mine = desk.replay(task, _submissions([records[k] for k in _sub_names(records)]), _cohort(assess), reports,
                           final)
        store = ArtifactStore(self.config.folder / PUBLISHED)
        if mine:
            store.put_model(model_bytes(self.cast.spec, desk.new_model()))
        if final.table is not None and final.table.entries:
            store.put_table(round, final.table)
        self.keep()
        return json_record(adopted=desk.adopted, replayed_own=mine)

    def summary(self, question: ConfigRecord) -> ConfigRecord:
        """Its summary of a round it concluded, for a coordinator that lost its own log of it."""
        round, desk = int(read_json(question)["round"]), self.desk
        if desk.concluded != round or desk.outcome is None:
            raise ProtocolError(f"it holds no summary of round {round} (its last is of round {desk.concluded})")
        return json_record(summary=summary_doc(desk.summary()),
                           result_hash="0x" + desk.outcome.result.hash(self.task_id, round).hex())

    def conclude(self, question: ConfigRecord) -> ConfigRecord:
        task = read_task(question, self.cast.spec, self.market.domain())
        reports = {r["validator"]: read_report(r) for r in read_json(question)["reports"]}
        result = self.desk.conclude(task, reports)
        summary = self.desk.summary()
        store = ArtifactStore(self.config.folder / PUBLISHED)
        store.put_model(model_bytes(self.cast.spec, self.desk.new_model()))
        if summary.table is not None and summary.table.entries:
            store.put_table(task.round, summary.table)
        self.keep()
        return json_record(result_hash="0x" + result.hash(self.task_id, task.round).hex(), summary=summary_doc(summary),
                           model=model_bytes(self.cast.spec, self.desk.new_model()))

    def settle(self, question: ConfigRecord) -> ConfigRecord:
        """One settlement step, with this validator's key, defending the result it concluded."""
        doc = read_json(question)
        step, round = doc["step"], int(doc["round"])
        port = LocalPort(self.desk.settlement, self.desk.summary().result, round)
        if step == "post":
            return json_record(value=port.post(round))
        if step == "challenge":
            opened = port.challenge(round, [bytes.fromhex(h[2:]) for h in doc["posted"]])
            return json_record(value=[["0x" + h.hex(), d] for h, d in opened])
        if step == "vote":
            return json_record(value=port.vote(int(doc["dispute"]), bytes.fromhex(doc["disputed"][2:])))
        if step == "resolve":
            return json_record(value=list(port.resolve(int(doc["dispute"]))))
        if step == "check_quorum":
            return json_record(value="0x" + port.check_quorum(round, bytes.fromhex(doc["result"][2:])).hex())
        if step == "finalize":
            return json_record(value=port.finalize(round))
        raise ProtocolError(f"unknown settlement step {step!r}")

    def adopt(self, question: ConfigRecord) -> ConfigRecord:
        self.desk.adopt(read_summary(read_json(question)["summary"]))
        self.keep()
        return json_record(model_hash="0x" + self.desk.model_hash.hex())


    # --- every message ------------------------------------------------------------------------------------------

    def hello(self) -> ConfigRecord:
        """Who it is (its public key, so trainers can seal for it), once staked and joined."""
        self.onboard()
        return json_record(role=self.config.role, index=self.config.index, address=self.account.address,
                           public_key="0x" + public_key(self.account).hex())

    def handle(self, kind: str, records: Mapping[str, ConfigRecord]) -> ConfigRecord:
        """The answer to one message of type `kind` (`train`, `query.<step>`) carrying `records`."""
        question = records.get("question")
        if question is None:
            raise ProtocolError(f"a {kind} message without its question")
        if kind == "query.hello":
            return self.hello()
        if kind == "train":
            return self.train(question)
        if kind == "query.claim":
            return self.claim(question)
        if kind == "query.assess":
            return self.assess(question, [records[k] for k in _sub_names(records)])
        if kind == "query.catch_up":
            return self.catch_up(question, records)
        steps = {"query.conclude": self.conclude, "query.settle": self.settle, "query.adopt": self.adopt,
                 "query.summary": self.summary}
        if kind not in steps:
            raise ProtocolError(f"a message of unknown type {kind!r}")
        return steps[kind](question)


def _sub_names(records: Mapping) -> list[str]:
    """The submissions a message carries (`sub.0`, `sub.1`, ...), in order."""
    return sorted((k for k in records if k.startswith("sub.")), key=lambda k: int(k[4:]))


def _submissions(records: list[ConfigRecord]) -> list[Submission]:
    subs = []
    for record in records:
        signed, sealed = read_sealed_submission(record)
        subs.append(Submission(signed, b"", sealed=sealed))
    return subs


def _cohort(question: ConfigRecord) -> dict[str, int]:
    return {str(a): int(v) for a, v in read_json(question)["cohort"].items()}


def open_node(config: Mapping) -> Node:
    """The node a config describes (see the module's docstring for its keys)."""
    return Node(NodeConfig.of(config))
