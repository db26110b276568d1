"""The coordinator: fedstake's ServerApp, an untrusted relay that holds no key.

It plays `protocol.round.run_round`, the simulator's round, with Flower
underneath: the transport sends the round's task to the selected trainers'
nodes and brings back their commitments and sealed updates; each validator
is a port whose steps are messages to its node. It reads the round seed,
the cohort's bonds and reputations, and every result from the chain, and
stops when the chain says the task is done. Killed and started again, it
resumes at the chain's last final round: the models it needs come from the
validators' published stores, checked against the hashes on chain.

Run config (set by `fedstake up`, or by hand with `flwr run -c`):

    run-dir        the federation's directory (manifest.json; rounds.jsonl is written here)
    scenario       the scenario TOML
    rpc-url        the chain node
    servers        the validators' artifact servers, space-separated URLs
    node-wait      seconds to wait for every node to say hello
    answer-timeout seconds a node may take to answer one message
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import torch
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fedstake.chain.manifest import MANIFEST, attach, read_manifest
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation.courier import Courier, NodeSilent
from fedstake.deploy.federation.wire import (
    json_record, model_from_bytes, read_json, read_report, read_sealed_submission, read_summary, report_doc,
    sealed_submission, summary_doc, task_record,
)
from fedstake.deploy.publish import fetch_model
from fedstake.errors import ConfigError, FedstakeError, ProtocolError
from fedstake.learn.train import evaluate
from fedstake.proof.sealing import address_of
from fedstake.protocol.clock import WallClock
from fedstake.protocol.desk import Report, RoundSummary
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.round import RoundReport, TaskSession, run_round
from fedstake.sim.config import load_scenario
from fedstake.sim.results import hex0x, settlement_rows
from fedstake.sim.world import cast_of, task_terms

ROUNDS_LOG = "rounds.jsonl"


@dataclass(frozen=True)
class CoordinatorConfig:
    run_dir: Path
    scenario: Path
    rpc_url: str
    servers: tuple[str, ...]
    node_wait: float
    answer_timeout: float

    @classmethod
    def of(cls, config: Mapping) -> CoordinatorConfig:
        def get(key: str) -> str:
            try:
                return str(config[key])
            except KeyError:
                raise ConfigError(f"run-config.{key}", "missing (see fedstake.deploy.federation.coordinator)") \
                    from None

        return cls(Path(get("run-dir")), Path(get("scenario")), get("rpc-url"), tuple(get("servers").split()),
                   float(get("node-wait")), float(get("answer-timeout")))


@dataclass(frozen=True)
class Hello:
    node_id: int
    role: str
    index: int
    address: str
    public_key: bytes


class RemoteValidatorPort:
    """A validator's steps as messages to its node; what the node answers is checked where it can be."""

    def __init__(self, courier: Courier, hello: Hello, spec, task_id: int) -> None:
        self.courier, self.node_id, self.address = courier, hello.node_id, hello.address
        self.spec, self.task_id = spec, task_id
        self.result_hash = b""
        self._round = 0  # the round it last concluded: every settlement step defends that result
        self._summary: RoundSummary | None = None
        self._model: torch.Tensor | None = None

    def _ask(self, kind: str, question, **more):
        return self.courier.ask(self.node_id, kind, question, **more)

    def assess(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int]) -> Report:
        subs = {f"sub.{i}": sealed_submission(s.signed, s.sealed) for i, s in enumerate(submissions)}
        answer = self._ask("query.assess", task_record(task, self.spec, cohort={a: str(v) for a, v in cohort.items()}),
                           **subs)
        report = read_report(read_json(answer)["report"])
        if report.validator != self.address:
            raise ProtocolError(f"node {self.node_id} reported as {report.validator}, not as {self.address}")
        return report

    def conclude(self, task: RoundTask, reports: Mapping[str, Report]) -> bytes:
        answer = self._ask("query.conclude", task_record(task, self.spec,
                                                         reports=[report_doc(r) for r in reports.values()]))
        doc = read_json(answer)
        self._round, self._summary = task.round, read_summary(doc["summary"])
        self.result_hash = bytes.fromhex(doc["result_hash"][2:])
        if self._summary.result.hash(self.task_id, task.round) != self.result_hash:
            raise ProtocolError(f"validator {self.address}: its summary is not the result it stands for")
        self._model = model_from_bytes(self.spec, bytes(answer["model"]), self._summary.result.model_hash)
        return self.result_hash

    def summary(self) -> RoundSummary:
        if self._summary is None:
            raise ProtocolError(f"validator {self.address} has not concluded")
        return self._summary

    def new_model(self) -> torch.Tensor:
        if self._model is None:
            raise ProtocolError(f"validator {self.address} has not concluded")
        return self._model

    def adopt(self, final: RoundSummary) -> None:
        self._ask("query.adopt", json_record(summary=summary_doc(final)))

    def _step(self, step: str, **args):
        return read_json(self._ask("query.settle", json_record(step=step, round=self._round, **args)))["value"]

    def post(self, round: int) -> bool:
        return bool(self._step("post"))

    def challenge(self, round: int, posted: Sequence[bytes]) -> list[tuple[bytes, int]]:
        opened = self._step("challenge", posted=[hex0x(h) for h in posted])
        return [(bytes.fromhex(h[2:]), int(d)) for h, d in opened]

    def vote(self, dispute_id: int, disputed: bytes) -> bool | None:
        return self._step("vote", dispute=dispute_id, disputed=hex0x(disputed))

    def resolve(self, dispute_id: int) -> tuple[bool, int]:
        upheld, slashed = self._step("resolve", dispute=dispute_id)
        return bool(upheld), int(slashed)

    def check_quorum(self, round: int, result_hash: bytes) -> bytes:
        return bytes.fromhex(self._step("check_quorum", result=hex0x(result_hash))[2:])

    def finalize(self, round: int) -> str:
        return str(self._step("finalize"))


class FlowerTransport:
    """The round's task to the selected trainers' nodes; their commitments and sealed updates back.
    A selected trainer with no node, or one that does not answer in time, sends nothing."""

    def __init__(self, courier: Courier, trainers: Mapping[str, Hello], validators: Sequence[Hello], spec) -> None:
        self.courier, self.trainers, self.spec = courier, trainers, spec
        self.keys = {v.address: hex0x(v.public_key) for v in validators}
        self.silent: dict[str, str] = {}

    def __call__(self, cohort: Sequence[str], task: RoundTask) -> list[Submission]:
        question = task_record(task, self.spec, validators=self.keys)
        present = [a for a in cohort if a in self.trainers]
        self.silent = {a: "no node" for a in cohort if a not in self.trainers}
        answers = self.courier.ask_many({self.trainers[a].node_id: ("train", {"question": question}) for a in present})
        submissions = []
        for address in present:
            answer = answers[self.trainers[address].node_id]
            if answer.record is None:
                self.silent[address] = answer.problem
                continue
            signed, sealed = read_sealed_submission(answer.record)
            submissions.append(Submission(signed, b"", sealed=sealed))
        return submissions

    def reveal(self, trainer: str, task: RoundTask, segments: Sequence[int]):
        return None  # proof-of-learning spot checks are not relayed yet (fedstake up refuses proof.pol)


def at_once(items: Sequence, step) -> list:
    """`step` on every item in its own thread (each a message to another node); results in order."""
    if len(items) <= 1:
        return [step(item) for item in items]
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(step, items))


def greet(courier: Courier, expected: int, *, within_s: float) -> list[Hello]:
    """Every node's hello (each stakes and joins first if it has not); a node's public key must be
    its address's."""
    deadline, known = time.monotonic() + within_s, {}
    while True:
        nodes = [n for n in courier.node_ids() if n not in known]
        if nodes:
            for node, answer in courier.ask_many({n: ("query.hello", {"question": json_record()}) for n in nodes}).items():
                if answer.record is not None:
                    doc = read_json(answer.record)
                    key = bytes.fromhex(doc["public_key"][2:])
                    if address_of(key) != doc["address"]:
                        raise ProtocolError(f"node {node} says it is {doc['address']} with another account's key")
                    known[node] = Hello(node, doc["role"], int(doc["index"]), doc["address"], key)
        if len(known) >= expected:
            return sorted(known.values(), key=lambda h: (h.role, h.index))
        if time.monotonic() >= deadline:
            raise ProtocolError(f"{len(known)} of the {expected} nodes said hello within {within_s:g} s")
        time.sleep(1.0)


def _model_from_servers(servers: Sequence[str], spec, model_hash: bytes) -> torch.Tensor:
    for url in servers:
        try:
            return model_from_bytes(spec, fetch_model(url, model_hash), model_hash)
        except FedstakeError:
            continue
    raise ProtocolError(f"no validator's server has model 0x{model_hash.hex()}")


def run_coordinator(courier: Courier, config: CoordinatorConfig) -> None:
    scenario = load_scenario(config.scenario, [])
    cast = cast_of(scenario)
    manifest = read_manifest(config.run_dir / MANIFEST)
    backend = RpcBackend.over_http(config.rpc_url)
    contracts = attach(manifest, backend)
    market, task_id = contracts.market, manifest.task_id
    hellos = greet(courier, scenario.trainer_count + sum(g.count for g in scenario.validators),
                   within_s=config.node_wait)
    listed = market.validators(task_id)
    validators = sorted((h for h in hellos if h.role == "validator"), key=lambda h: listed.index(h.address))
    trainers = {h.address: h for h in hellos if h.role == "trainer"}
    if {v.address for v in validators} - set(listed):
        raise ProtocolError("a validator node holds a key that is not one of the task's validators")
    done = market.rounds_done(task_id)
    global_params, previous = cast.genesis, None
    if done:  # resume where the chain is: the models come from the validators' stores, checked by hash
        global_params = _model_from_servers(config.servers, cast.spec, market.view("latest_model_hash", task_id))
        before = market.final_result(task_id, done - 1).model_hash if done > 1 else \
            market.task(task_id).genesis_model_hash
        previous = global_params - _model_from_servers(config.servers, cast.spec, before) if done > 1 else \
            global_params - cast.genesis
    ports = [RemoteValidatorPort(courier, v, cast.spec, task_id) for v in validators
             if market.view("weight", task_id, v.address)]
    session = TaskSession(market=market, registry=contracts.registry, terms=task_terms(scenario, task_id), ports=ports,
                          candidates=sorted(trainers), global_params=global_params,
                          model_hash=market.view("latest_model_hash", task_id) if done else
                          market.task(task_id).genesis_model_hash,
                          clock=WallClock(backend), previous_change=previous, fan_out=at_once)
    transport = FlowerTransport(courier, trainers, validators, cast.spec)
    log = config.run_dir / ROUNDS_LOG
    for round in range(done + 1, scenario.task.rounds + 1):
        started = time.monotonic()
        report = run_round(session, round, transport)
        accuracy, loss = evaluate(cast.trainers[0].module, cast.spec, report.new_params, cast.dataset.x_test,
                                  cast.dataset.y_test)
        with log.open("a") as out:
            out.write(json.dumps(_row(report, accuracy, loss, transport.silent, time.monotonic() - started)) + "\n")
    claimants = [*trainers.values(), *validators]  # validators are paid for validating, from the same table
    question = json_record(servers=list(config.servers), round=scenario.task.rounds)
    claims = courier.ask_many({c.node_id: ("query.claim", {"question": question}) for c in claimants})
    silent = {c.address: claims[c.node_id].problem for c in claimants if claims[c.node_id].record is None}
    if silent:
        raise NodeSilent(0, "query.claim", f"nodes did not claim: {silent}")


def _row(report: RoundReport, accuracy: float, loss: float, silent: Mapping[str, str], seconds: float) -> dict:
    proposals, disputes = settlement_rows(report.settlement)
    return {"round": report.round, "accuracy": accuracy, "loss": loss, "selected": list(report.selected),
            "summary": summary_doc(report.summary), "proposals": proposals, "disputes": disputes,
            "tx_hash": report.settlement.finalize_tx, "finalized_at": report.settlement.finalized_at,
            "silent": dict(silent), "seconds": round(seconds, 2)}


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    torch.set_num_threads(1)
    config = CoordinatorConfig.of(context.run_config)
    run_coordinator(Courier(grid, timeout_s=config.answer_timeout), config)
