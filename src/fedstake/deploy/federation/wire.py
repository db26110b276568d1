"""The protocol's messages as Flower records, and back.

Everything a round moves between the coordinator and the nodes is a
protocol dataclass (`RoundTask`, `Submission`, `Report`, `RoundSummary`,
settlement steps); here each becomes a `ConfigRecord` of JSON text and
raw bytes, and each read re-checks what it can: a model against the hash
it is sent under, a commitment's fields. Nothing here trusts the relay:
the signature, the seal and the chain are checked by the roles.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from eth_utils import keccak
from flwr.app import ConfigRecord

from fedstake.chain.eip712 import Domain
from fedstake.chain.market import RoundResult
from fedstake.chain.rewards_dump import dumps_rewards, load_rewards
from fedstake.errors import ProtocolError
from fedstake.learn.models import ParamSpec
from fedstake.proof.codec import DecodeError, decode_update, params_bytes
from fedstake.proof.commitment import Commitment, SignedCommitment
from fedstake.proof.sealing import Sealed
from fedstake.protocol.desk import Report, RoundSummary
from fedstake.protocol.ledger import PublishedTable
from fedstake.protocol.messages import RoundTask
from fedstake.protocol.scoring import RoundRewards
from fedstake.protocol.validator import Rejection


def _h(data: bytes) -> str:
    return "0x" + data.hex()


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def json_record(**fields: Any) -> ConfigRecord:
    """A record of one JSON document (`doc`) and raw byte fields."""
    blobs = {k: v for k, v in fields.items() if isinstance(v, bytes)}
    doc = {k: v for k, v in fields.items() if not isinstance(v, bytes)}
    return ConfigRecord({"doc": json.dumps(doc, sort_keys=True), **blobs})


def read_json(record: ConfigRecord) -> dict[str, Any]:
    try:
        return json.loads(str(record["doc"]))
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"a message record without its JSON document: {exc}") from None


def model_bytes(spec: ParamSpec, flat: torch.Tensor) -> bytes:
    return params_bytes(spec.unflatten(flat))


def model_from_bytes(spec: ParamSpec, payload: bytes, model_hash: bytes) -> torch.Tensor:
    """The flat model in `payload`, once its bytes hash to `model_hash` (the chain's)."""
    if keccak(payload) != model_hash:
        raise ProtocolError(f"the model sent does not hash to 0x{model_hash.hex()}")
    try:
        return spec.flatten(decode_update(payload))
    except (DecodeError, KeyError, RuntimeError) as exc:
        raise ProtocolError(f"the model sent is not this task's model: {exc}") from None


def task_record(task: RoundTask, spec: ParamSpec, **extra: Any) -> ConfigRecord:
    """The round's task (its model as canonical bytes), plus `extra` JSON fields the message carries."""
    previous = b"" if task.previous_change is None else model_bytes(spec, task.previous_change)
    return json_record(task_id=task.task_id, round=task.round, round_seed=_h(task.round_seed),
                       model_hash=_h(task.model_hash), model=model_bytes(spec, task.global_params),
                       previous=previous, **extra)


def read_task(record: ConfigRecord, spec: ParamSpec, domain: Domain) -> RoundTask:
    doc = read_json(record)
    model_hash = _b(doc["model_hash"])
    params = model_from_bytes(spec, bytes(record["model"]), model_hash)
    previous = bytes(record["previous"])
    change = spec.flatten(decode_update(previous)) if previous else None
    return RoundTask(int(doc["task_id"]), int(doc["round"]), _b(doc["round_seed"]), params, model_hash, domain, change)


def commitment_doc(signed: SignedCommitment) -> dict[str, Any]:
    c = signed.commitment
    return {"task_id": c.task_id, "round": c.round, "trainer": c.trainer, "update_hash": _h(c.update_hash),
            "samples": c.samples, "transcript_root": _h(c.transcript_root), "signature": _h(signed.signature)}


def read_commitment(doc: Mapping[str, Any]) -> SignedCommitment:
    try:
        commitment = Commitment(int(doc["task_id"]), int(doc["round"]), str(doc["trainer"]), _b(doc["update_hash"]),
                                int(doc["samples"]), _b(doc["transcript_root"]))
        return SignedCommitment(commitment, _b(doc["signature"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise ProtocolError(f"a malformed commitment: {exc}") from None


def sealed_submission(signed: SignedCommitment, sealed: Sealed) -> ConfigRecord:
    """A trainer's answer as it travels: the signed commitment in the clear, the update sealed."""
    return json_record(commitment=commitment_doc(signed), ephemeral=_h(sealed.ephemeral), nonce=_h(sealed.nonce),
                       keys={a: _h(k) for a, k in sealed.keys.items()}, ciphertext=sealed.ciphertext)


def read_sealed_submission(record: ConfigRecord) -> tuple[SignedCommitment, Sealed]:
    doc = read_json(record)
    try:
        sealed = Sealed(_b(doc["ephemeral"]), _b(doc["nonce"]), bytes(record["ciphertext"]),
                        {str(a): _b(k) for a, k in doc["keys"].items()})
    except (KeyError, ValueError, TypeError) as exc:
        raise ProtocolError(f"a malformed sealed update: {exc}") from None
    return read_commitment(doc["commitment"]), sealed


def report_doc(report: Report) -> dict[str, Any]:
    return {"validator": report.validator, "trainers": list(report.trainers), "scores": report.scores,
            "samples": report.samples, "held": report.held}


def read_report(doc: Mapping[str, Any]) -> Report:
    return Report(str(doc["validator"]), tuple(doc["trainers"]), {str(k): float(v) for k, v in doc["scores"].items()},
                  {str(k): int(v) for k, v in doc["samples"].items()}, doc["held"])


def result_doc(result: RoundResult) -> dict[str, Any]:
    return {"model_hash": _h(result.model_hash), "updates_root": _h(result.updates_root),
            "rewards_root": _h(result.rewards_root), "cumulative_total": str(result.cumulative_total),
            "scores_root": _h(result.scores_root)}


def read_result(doc: Mapping[str, Any]) -> RoundResult:
    return RoundResult(_b(doc["model_hash"]), _b(doc["updates_root"]), _b(doc["rewards_root"]),
                       int(doc["cumulative_total"]), _b(doc["scores_root"]))


def summary_doc(summary: RoundSummary) -> dict[str, Any]:
    r = summary.rewards
    rewards = {"trainers": list(r.trainers), "reported": r.reported, "consensus": r.consensus,
               "validator_trust": r.validator_trust, "sybil_weights": r.sybil_weights,
               "trainer_rewards": {a: str(v) for a, v in r.trainer_rewards.items()},
               "validator_rewards": {a: str(v) for a, v in r.validator_rewards.items()},
               "scores_root": _h(r.scores_root), "validator_bonds": r.validator_bonds}
    table = json.loads(dumps_rewards(summary.table.entries)) if summary.table and summary.table.entries else None
    return {"accepted": list(summary.accepted), "rejected": [[x.trainer, x.reason] for x in summary.rejected],
            "held": summary.held, "result": result_doc(summary.result), "rewards": rewards,
            "credits": {a: [str(v), r] for a, (v, r) in summary.credits.items()},
            "table": table, "settles": summary.table is not None}


def read_summary(doc: Mapping[str, Any]) -> RoundSummary:
    r = doc["rewards"]
    rewards = RoundRewards(tuple(r["trainers"]), {k: list(v) for k, v in r["reported"].items()}, dict(r["consensus"]),
                           dict(r["validator_trust"]), dict(r["sybil_weights"]),
                           {a: int(v) for a, v in r["trainer_rewards"].items()},
                           {a: int(v) for a, v in r["validator_rewards"].items()}, _b(r["scores_root"]),
                           dict(r["validator_bonds"]))
    table = None
    if doc["settles"]:
        table = PublishedTable({}, None)
        if doc["table"] is not None:
            entries, tree = load_rewards(json.dumps(doc["table"]), source="a validator's round summary")
            table = PublishedTable(entries, tree)
    return RoundSummary(tuple(doc["accepted"]), tuple(Rejection(t, why) for t, why in doc["rejected"]), doc["held"],
                        read_result(doc["result"]), rewards,
                        {a: (int(v), int(n)) for a, (v, n) in doc["credits"].items()}, table)
