"""A trainer's or a validator's node: fedstake's ClientApp, each node with its own key.

A SuperNode runs this app with its own node config:

    role             "trainer" or "validator"
    index            its place among the scenario's trainers (or validators)
    scenario         the scenario TOML the federation plays (its data and rules)
    run-dir          the federation's directory: manifest.json, and this node's
                     folder nodes/<role>-<index>/ (its state; a validator's
                     published models and tables, which its server serves)
    key              its keystore file; passphrase-file: the file holding its passphrase
    rpc-url          the chain node

Flower starts a fresh process for every message, so a node keeps what it
needs between messages in its folder (a validator's desk: model hash,
ledger, histories, this round's assessment and outcome, its aggregator's
state; never its key) and reopens its key, the chain and the scenario's
data each time. Every question is checked against the chain, never taken
from the coordinator on trust: the model it is asked to train from must
be the chain's latest, the round seed the chain's, the validators it seals
its update for the task's own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

from fedstake.chain.keystore import load_keystore, read_passphrase
from fedstake.chain.manifest import MANIFEST, attach, read_manifest
from fedstake.chain.market import reward_leaf
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation.courier import ANSWER
from fedstake.deploy.federation.wire import (
    json_record, model_bytes, read_json, read_report, read_sealed_submission, read_summary, read_task, report_doc,
    sealed_submission, summary_doc,
)
from fedstake.deploy.publish import fetch_table
from fedstake.errors import ConfigError, ProtocolError
from fedstake.proof.sealing import public_key, seal
from fedstake.protocol.clock import WallClock
from fedstake.protocol.desk import ValidatorDesk
from fedstake.protocol.ledger import ClaimTicket, claim
from fedstake.protocol.messages import Submission
from fedstake.protocol.settlement import LocalPort, ValidatorSettlement
from fedstake.protocol.store import ArtifactStore
from fedstake.sim.config import Scenario, load_scenario
from fedstake.sim.world import BOND_FUNDS, TOKEN, cast_of, task_terms

ROLES = ("trainer", "validator")
STATE = "state.pt"
PUBLISHED = "published"


@dataclass(frozen=True)
class NodeConfig:
    role: str
    index: int
    scenario: Path
    run_dir: Path
    key: Path
    passphrase_file: Path
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
        return cls(role, int(get("index")), Path(get("scenario")), Path(get("run-dir")), Path(get("key")),
                   Path(get("passphrase-file")), get("rpc-url"))

    @property
    def folder(self) -> Path:
        return self.run_dir / "nodes" / f"{self.role}-{self.index}"


class Node:
    """One message's worth of a node: its key, its role from the scenario, the chain."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.account = load_keystore(config.key, read_passphrase(file=config.passphrase_file))
        self.scenario: Scenario = load_scenario(config.scenario, [])
        self.backend = RpcBackend.over_http(config.rpc_url)
        self.manifest = read_manifest(config.run_dir / MANIFEST)
        self.contracts = attach(self.manifest, self.backend)
        self.market, self.task_id = self.contracts.market, self.manifest.task_id

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
        """Stake, register and join the task, each only if the chain does not show it done yet."""
        registry, token, market = self.contracts.registry, self.contracts.token, self.market
        amount, me = self.stake_amount(), self.account.address
        if registry.stake_of(me) < amount:
            self.role.stake(token, registry, amount - registry.stake_of(me))
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

    def train(self, question: ConfigRecord) -> ConfigRecord:
        task = read_task(question, self.cast.spec, self.market.domain())
        round = self.market.rounds_done(self.task_id) + 1
        if (task.task_id, task.round) != (self.task_id, round):
            raise ProtocolError(f"asked to train task {task.task_id} round {task.round}; the chain is at round {round}")
        if task.round_seed != self.market.round_seed(self.task_id, round):
            raise ProtocolError(f"round {round}: the round seed sent is not the chain's")
        if task.model_hash != self.expected_model():
            raise ProtocolError(f"round {round}: the model sent is not the chain's latest")
        keys = {str(a): bytes.fromhex(k.removeprefix("0x")) for a, k in read_json(question)["validators"].items()}
        listed = set(self.market.validators(self.task_id))
        if not keys or set(keys) - listed:
            raise ProtocolError(f"round {round}: asked to seal for accounts that are not the task's validators")
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
        task = read_task(question, self.cast.spec, self.market.domain())
        cohort = {str(a): int(v) for a, v in read_json(question)["cohort"].items()}
        subs = []
        for record in submissions:
            signed, sealed = read_sealed_submission(record)
            subs.append(Submission(signed, b"", sealed=sealed))
        report = self.desk.assess(task, subs, cohort)
        self.keep()
        return json_record(report=report_doc(report))

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


def _hello(node: Node) -> ConfigRecord:
    node.onboard()
    return json_record(role=node.config.role, index=node.config.index, address=node.account.address,
                       public_key="0x" + public_key(node.account).hex())


def _answer(msg: Message, record: ConfigRecord) -> Message:
    return Message(RecordDict({ANSWER: record}), reply_to=msg)


def _node(context: Context) -> Node:
    torch.set_num_threads(1)  # one thread, as the simulator: the same float results
    return Node(NodeConfig.of(context.node_config))


app = ClientApp()


@app.query("hello")
def hello(msg: Message, context: Context) -> Message:
    return _answer(msg, _hello(_node(context)))


@app.train()
def train(msg: Message, context: Context) -> Message:
    return _answer(msg, _node(context).train(msg.content.config_records["question"]))


@app.query("claim")
def claim_rewards(msg: Message, context: Context) -> Message:
    return _answer(msg, _node(context).claim(msg.content.config_records["question"]))


@app.query("assess")
def assess(msg: Message, context: Context) -> Message:
    records = msg.content.config_records
    subs = [records[k] for k in sorted((k for k in records if k.startswith("sub.")), key=lambda k: int(k[4:]))]
    return _answer(msg, _node(context).assess(records["question"], subs))


@app.query("conclude")
def conclude(msg: Message, context: Context) -> Message:
    return _answer(msg, _node(context).conclude(msg.content.config_records["question"]))


@app.query("settle")
def settle(msg: Message, context: Context) -> Message:
    return _answer(msg, _node(context).settle(msg.content.config_records["question"]))


@app.query("adopt")
def adopt(msg: Message, context: Context) -> Message:
    return _answer(msg, _node(context).adopt(msg.content.config_records["question"]))
