"""The coordinator: fedstake's ServerApp, an untrusted relay that holds no key.

It plays `protocol.round.run_round`, the simulator's round, with Flower
underneath: the transport sends the round's task to the selected trainers'
nodes and brings back their commitments and sealed updates; each validator
is a port whose steps are messages to its node. It reads the round seed,
the cohort's bonds and reputations, and every result from the chain, and
stops when the chain says the task is done. Killed and started again, it
resumes at the chain's last final round: the models it needs come from the
validators' published stores, checked against the hashes on chain.
Before each round it greets nodes that joined since (a participant
restarted with its key comes back under a new node id); a validator that
falls silent sits the rest of the round out, and one that missed a final
round replays it from the relay log (`relay_log`) before it assesses.

Run config (set by `fedstake up`, or by hand with `flwr run -c`):

    run-dir        the federation's directory (manifest.json; rounds.jsonl is written here)
    scenario       the scenario TOML
    rpc-url        the chain node
    servers        the validators' artifact servers, space-separated URLs
    node-wait      seconds to wait for every node to say hello
    answer-timeout seconds a node may take to answer one message
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import torch
from flwr.app import ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from fedstake.chain.manifest import MANIFEST, attach, read_manifest
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation.courier import Courier, Exchange, NodeSilent
from fedstake.deploy.federation.directory import Directory
from fedstake.deploy.federation.node import NODE_PATIENCE_S
from fedstake.deploy.federation.relay_log import RelayLog
from fedstake.deploy.federation.wire import (
    json_record, model_from_bytes, read_json, read_report, read_sealed_submission, read_summary, report_doc,
    sealed_submission, summary_doc, task_record,
)
from fedstake.deploy.publish import fetch_model
from fedstake.errors import ConfigError, FedstakeError, ProtocolError
from fedstake.learn.train import evaluate
from fedstake.protocol.clock import WallClock
from fedstake.protocol.desk import Report, RoundSummary
from fedstake.protocol.messages import RoundTask, Submission
from fedstake.protocol.round import RoundReport, TaskSession, run_round
from fedstake.sim.config import load_scenario
from fedstake.sim.results import hex0x, settlement_rows
from fedstake.sim.world import cast_of, task_terms


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


class RoundTape:
    """The round's inputs as relayed to the validators (the same for each), for the relay log."""

    def __init__(self) -> None:
        self.records: dict[str, ConfigRecord] = {}

    def assessed(self, question: ConfigRecord, subs: Mapping[str, ConfigRecord]) -> None:
        self.records = {"assess": question, **subs}

    def concluded(self, question: ConfigRecord) -> None:
        self.records["conclude"] = question


class RemoteValidatorPort:
    """A validator's steps as messages to its node; what the node answers is checked where it can be.
    A node that does not answer, or answers wrongly, is `NodeSilent`: the round goes on without it."""

    def __init__(self, courier: Courier, directory: Directory, address: str, spec, task_id: int, tape: RoundTape,
                 log: RelayLog) -> None:
        self.courier, self.directory, self.address = courier, directory, address
        self.spec, self.task_id, self.tape, self.log = spec, task_id, tape, log
        self.result_hash = b""
        self._round = 0  # the round it last concluded: every settlement step defends that result
        self._summary: RoundSummary | None = None
        self._model: torch.Tensor | None = None

    def _ask(self, kind: str, question, **more):
        return self.courier.ask(self.directory.node_of(self.address), kind, question, **more)

    def _refuse(self, kind: str, problem: str) -> NodeSilent:
        return NodeSilent(self.directory.node_of(self.address), kind, f"validator {self.address}: {problem}")

    def assess(self, task: RoundTask, submissions: Sequence[Submission], cohort: Mapping[str, int]) -> Report:
        subs = {f"sub.{i}": sealed_submission(s.signed, s.sealed) for i, s in enumerate(submissions)}
        question = task_record(task, self.spec, cohort={a: str(v) for a, v in cohort.items()})
        self.tape.assessed(question, subs)
        doc = read_json(self._ask("query.assess", question, **subs))
        if "behind" in doc:  # it was down when a round went final: it replays what it missed, then assesses
            for missed in range(int(doc["behind"]) + 1, task.round):
                self._catch_up(missed)
            doc = read_json(self._ask("query.assess", question, **subs))
        if "report" not in doc:
            raise self._refuse("query.assess", f"no report: {doc}")
        report = read_report(doc["report"])
        if report.validator != self.address:
            raise self._refuse("query.assess", f"reported as {report.validator}")
        return report

    def _catch_up(self, round: int) -> None:
        inputs, row = self.log.inputs(round), self.log.rows().get(round)
        if inputs is None or row is None:
            raise self._refuse("query.catch_up", f"behind at round {round}, which the relay log does not hold")
        self._ask("query.catch_up", json_record(round=round, summary=row["summary"]), **inputs)

    def conclude(self, task: RoundTask, reports: Mapping[str, Report]) -> bytes:
        question = task_record(task, self.spec, reports=[report_doc(r) for r in reports.values()])
        self.tape.concluded(question)
        answer = self._ask("query.conclude", question)
        doc = read_json(answer)
        summary, result_hash = read_summary(doc["summary"]), bytes.fromhex(doc["result_hash"][2:])
        if summary.result.hash(self.task_id, task.round) != result_hash:
            raise self._refuse("query.conclude", "its summary is not the result it stands for")
        try:
            self._model = model_from_bytes(self.spec, bytes(answer["model"]), summary.result.model_hash)
        except ProtocolError as exc:
            raise self._refuse("query.conclude", str(exc)) from None
        self._round, self._summary, self.result_hash = task.round, summary, result_hash
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

    def __init__(self, courier: Courier, directory: Directory, validators: Sequence[str], spec) -> None:
        self.courier, self.directory, self.validators, self.spec = courier, directory, validators, spec
        self.silent: dict[str, str] = {}

    def __call__(self, cohort: Sequence[str], task: RoundTask) -> list[Submission]:
        keys = {h.address: hex0x(h.public_key) for h in self.directory.hellos("validator")
                if h.address in self.validators}
        question = task_record(task, self.spec, validators=keys)
        present = [a for a in cohort if a in self.directory]
        self.silent = {a: "no node" for a in cohort if a not in self.directory}
        nodes = {a: self.directory.node_of(a) for a in present}
        answers = self.courier.ask_many({nodes[a]: ("train", {"question": question}) for a in present})
        submissions = []
        for address in present:
            answer = answers[nodes[address]]
            if answer.record is None:
                self.silent[address] = answer.problem
                continue
            try:
                signed, sealed = read_sealed_submission(answer.record)
            except ProtocolError as exc:  # garbage: it sent nothing the validators could screen
                self.silent[address] = str(exc)
                continue
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
    backend = RpcBackend.over_http(config.rpc_url, patience_s=NODE_PATIENCE_S)
    contracts = attach(manifest, backend)
    market, task_id = contracts.market, manifest.task_id
    log = RelayLog(config.run_dir)
    directory = Directory(courier)
    directory.greet(scenario.trainer_count + sum(g.count for g in scenario.validators), within_s=config.node_wait)
    courier.take_exchanges()  # the hellos are the bring-up's, not round 1's
    listed = market.validators(task_id)
    strangers = [h.address for h in directory.hellos("validator") if h.address not in listed]
    if strangers:
        raise ProtocolError(f"validator nodes hold keys that are not the task's validators: {strangers}")
    done = market.rounds_done(task_id)
    global_params, previous = cast.genesis, None
    if done:  # resume where the chain is: the models come from the validators' stores, checked by hash
        global_params = _model_from_servers(config.servers, cast.spec, market.view("latest_model_hash", task_id))
        before = market.final_result(task_id, done - 1).model_hash if done > 1 else \
            market.task(task_id).genesis_model_hash
        previous = global_params - _model_from_servers(config.servers, cast.spec, before) if done > 1 else \
            global_params - cast.genesis
        _recover_rows(log, courier, directory, market, task_id, done, lambda model_hash: evaluate(
            cast.trainers[0].module, cast.spec, _model_from_servers(config.servers, cast.spec, model_hash),
            cast.dataset.x_test, cast.dataset.y_test))
    tape = RoundTape()
    present = [h.address for h in directory.hellos("validator")]
    ports = [RemoteValidatorPort(courier, directory, a, cast.spec, task_id, tape, log)
             for a in sorted(present, key=listed.index) if market.view("weight", task_id, a)]
    session = TaskSession(market=market, registry=contracts.registry, terms=task_terms(scenario, task_id), ports=ports,
                          candidates=sorted(h.address for h in directory.hellos("trainer")), global_params=global_params,
                          model_hash=market.view("latest_model_hash", task_id) if done else
                          market.task(task_id).genesis_model_hash,
                          clock=WallClock(backend), previous_change=previous, fan_out=at_once)
    transport = FlowerTransport(courier, directory, listed, cast.spec)
    for round in range(done + 1, scenario.task.rounds + 1):
        started = time.monotonic()
        directory.refresh(within_s=15.0)  # a node restarted since: back under its new node id
        report = run_round(session, round, transport)
        log.keep_inputs(round, tape.records)
        accuracy, loss = evaluate(cast.trainers[0].module, cast.spec, report.new_params, cast.dataset.x_test,
                                  cast.dataset.y_test)
        log.append(_row(report, accuracy, loss, transport.silent, time.monotonic() - started,
                        courier.take_exchanges()))
    directory.refresh(within_s=15.0)
    claimants = [*directory.hellos("trainer"), *(h for h in directory.hellos("validator") if h.address in listed)]
    question = json_record(servers=list(config.servers), round=scenario.task.rounds)
    claims = courier.ask_many({c.node_id: ("query.claim", {"question": question}) for c in claimants})
    silent = {c.address: claims[c.node_id].problem for c in claimants if claims[c.node_id].record is None}
    if silent:
        raise NodeSilent(0, "query.claim", f"nodes did not claim: {silent}")


def _recover_rows(log: RelayLog, courier: Courier, directory: Directory, market, task_id: int, done: int,
                  score: Callable[[bytes], tuple[float, float]]) -> None:
    """Rounds that went final after the last coordinator logged its last row (it died between
    finalising and logging): their rows from a validator whose own summary is the chain's final
    (`score` gives the accuracy and loss of a model by its hash)."""
    rows = log.rows()
    for round in (r for r in range(1, done + 1) if r not in rows):
        final = market.view("final_result", task_id, round)
        question = json_record(round=round)
        answers = courier.ask_many({h.node_id: ("query.summary", {"question": question})
                                    for h in directory.hellos("validator")})
        docs = [read_json(a.record) for a in answers.values() if a.record is not None]
        doc = next((d for d in docs if bytes.fromhex(d["result_hash"][2:]) == final), None)
        if doc is None:
            raise ProtocolError(f"round {round} is final on chain, but neither the relay log nor any validator "
                                f"holds its summary")
        accuracy, loss = score(market.proposal(task_id, round, final).model_hash)
        log.append({"round": round, "summary": doc["summary"], "recovered": True, "accuracy": accuracy,
                    "loss": loss, "selected": [], "proposals": [], "disputes": [], "silent": {}, "absent": {},
                    "tx_hash": "", "finalized_at": 0, "seconds": 0.0, "messages": []})


def _row(report: RoundReport, accuracy: float, loss: float, silent: Mapping[str, str], seconds: float,
         exchanges: Sequence[Exchange]) -> dict:
    proposals, disputes = settlement_rows(report.settlement)
    return {"round": report.round, "accuracy": accuracy, "loss": loss, "selected": list(report.selected),
            "summary": summary_doc(report.summary), "proposals": proposals, "disputes": disputes,
            "tx_hash": report.settlement.finalize_tx, "finalized_at": report.settlement.finalized_at,
            "silent": dict(silent), "absent": dict(report.absent), "seconds": round(seconds, 2),
            "messages": [dataclasses.asdict(e) for e in exchanges]}


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    torch.set_num_threads(1)
    config = CoordinatorConfig.of(context.run_config)
    run_coordinator(Courier(grid, timeout_s=config.answer_timeout), config)
