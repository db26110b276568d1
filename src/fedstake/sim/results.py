"""The results of a run and how they are written.

`results.json` follows the schema in the README; token amounts are
integers in base units, hashes and roots 0x-hex. A run's files are
written whole or not at all, and only into a directory fedstake owns
(`sim.outdir`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from fedstake.protocol.desk import RoundSummary
from fedstake.sim.outdir import OutputDir


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


@dataclass
class RoundRow:
    round: int
    accuracy: float
    loss: float
    selected: list[str]
    accepted: list[str]
    rejected: list[dict[str, str]]
    model_hash: str
    updates_root: str
    rewards_root: str
    tx_hash: str
    cumulative_rewards: int
    rewards: dict[str, int] = field(default_factory=dict)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    finalized_at: int = 0
    privacy: dict[str, Any] | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    consensus: dict[str, float] = field(default_factory=dict)
    validator_trust: dict[str, float] = field(default_factory=dict)
    sybil_weights: dict[str, float] = field(default_factory=dict)
    validator_rewards: dict[str, int] = field(default_factory=dict)
    edge: dict[str, Any] | None = None
    pol: list[dict[str, Any]] = field(default_factory=list)
    held: str | None = None  # why the round kept the previous model and paid nothing
    silent: dict[str, str] = field(default_factory=dict)  # deployed: who the round went on without, and why
    task: int = 0  # the chain's task id (a sequence of tasks numbers its rounds from 1 in each)
    concentration: dict[str, dict[str, float | int]] = field(default_factory=dict)  # measure -> Nakamoto, Gini, HHI


@dataclass
class ParticipantRow:
    address: str
    role: str
    behaviour: str
    samples: int
    stake_initial: int
    stake_final: int
    slashed: int
    rewards_claimed: int
    energy_j: float = 0.0
    bytes_sent: int = 0
    device_cost: float = 0.0
    device_class: str = ""
    link: str = ""


@dataclass
class Results:
    fedstake_version: str
    scenario: dict[str, Any]
    chain: dict[str, Any]
    learning: dict[str, Any]
    rounds: list[RoundRow]
    participants: list[ParticipantRow]
    final: dict[str, Any]
    timing: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_ROUND_CSV = ["round", "accuracy", "loss", "selected", "accepted", "rejected", "cumulative_rewards", "proposals",
              "disputes", "epsilon", "model_hash", "updates_root", "rewards_root", "tx_hash"]


def _write_csvs(results: Results, out: Path) -> None:
    with open(out / "rounds.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_ROUND_CSV)
        for r in results.rounds:
            epsilon = "" if r.privacy is None else f"{r.privacy['epsilon']:.6f}"
            writer.writerow([r.round, f"{r.accuracy:.6f}", f"{r.loss:.6f}", len(r.selected), len(r.accepted),
                             len(r.rejected), r.cumulative_rewards, len(r.proposals), len(r.disputes), epsilon,
                             r.model_hash, r.updates_root, r.rewards_root, r.tx_hash])
    with open(out / "participants.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(results.participants[0])))
        writer.writeheader()
        writer.writerows(asdict(p) for p in results.participants)


def summary_row(round: int, summary: RoundSummary, *, accuracy: float, loss: float, selected: list[str],
                proposals: list[dict[str, Any]], disputes: list[dict[str, Any]], tx_hash: str,
                finalized_at: int, silent: dict[str, str] | None = None) -> RoundRow:
    """A round's row from its final result's summary: alike for a simulation and a federation."""
    result, shared = summary.result, summary.rewards
    return RoundRow(
        round=round, accuracy=accuracy, loss=loss, selected=selected, accepted=list(summary.accepted),
        rejected=[{"trainer": r.trainer, "reason": r.reason} for r in summary.rejected],
        model_hash=hex0x(result.model_hash), updates_root=hex0x(result.updates_root),
        rewards_root=hex0x(result.rewards_root), tx_hash=tx_hash, cumulative_rewards=result.cumulative_total,
        rewards={a: v for a, v in shared.trainer_rewards.items() if v}, proposals=proposals, disputes=disputes,
        finalized_at=finalized_at, scores={v: dict(zip(shared.trainers, row)) for v, row in shared.reported.items()},
        consensus=shared.consensus, validator_trust=shared.validator_trust, sybil_weights=shared.sybil_weights,
        validator_rewards={v: a for v, a in shared.validator_rewards.items() if a}, held=summary.held,
        silent=dict(silent or {}),
    )


def settlement_rows(settlement) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A round's proposals and disputes as JSON-ready rows."""
    proposals = [{"result_hash": hex0x(p.result_hash), "proposer": p.proposer, "attesters": p.attesters,
                  "rejected": p.rejected, "final": p.final} for p in settlement.proposals]
    disputes = [{"id": d.dispute_id, "kind": d.kind, "accused": d.accused, "challenger": d.challenger,
                 "votes": d.votes, "upheld": d.upheld, "slashed": d.slashed} for d in settlement.disputes]
    return proposals, disputes


RUN_FILES = ("results.json", "rounds.csv", "participants.csv")  # what write_run writes, for the claim


def write_run(results: Results, out: OutputDir, extra: Callable[[Path], None] | None = None) -> Path:
    """Write results.json, the CSVs and whatever `extra` adds, then publish them into `out` at once."""

    def fill(staging: Path) -> None:
        (staging / "results.json").write_text(json.dumps(results.to_json(), indent=2) + "\n")
        _write_csvs(results, staging)
        if extra is not None:
            extra(staging)

    return out.publish(fill)
