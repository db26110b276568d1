"""The dashboard's view of a finished run: its results.json and published tables.

One run is one task. What only a live chain knows (reputation) is None;
what a run records and the chain does not (accuracy, loss, who was
selected and accepted, the edge) is shown from results.json. Claims are
proved against the last round's rewards root as results.json records it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedstake.chain.market import ZERO32, RoundResult, chain_provenance
from fedstake.dashboard.source import DashboardSource
from fedstake.dashboard.tables import PublishedTables
from fedstake.dashboard.views import (
    DisputeView,
    EdgeRound,
    HistoryItem,
    ModelView,
    ParticipantDetail,
    ParticipantView,
    ProvenanceLink,
    RoundView,
    TaskView,
)
from fedstake.errors import ArtifactError, NotFound
from fedstake.files import json_object
from fedstake.protocol.store import ArtifactStore

RESULTS = "results.json"


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:])


class ResultsSource(DashboardSource):
    participants_note = ("Reputation is a view of a live chain: read a task's chain (--manifest) for it. "
                         "Agreement: a validator's mean trust share in the round consensus.")

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        path = self.directory / RESULTS
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ArtifactError(str(path), f"cannot read the run's results: {exc.strerror}") from None
        self.data: dict[str, Any] = dict(json_object(text, source=str(path)))
        for key in ("chain", "rounds", "participants", "final", "scenario"):
            if key not in self.data:
                raise ArtifactError(f"{path}: {key}", "missing: not a fedstake results.json")
        self.label = f"results {self.directory}"
        self.task_id: int = self.data["chain"]["task_id"]
        self.tables = PublishedTables(ArtifactStore(self.directory))
        self._rows = self._participant_rows()

    def _check(self, task_id: int) -> None:
        if task_id != self.task_id:
            raise NotFound(f"task {task_id} is not in {self.directory} (its task is {self.task_id})")

    def tasks(self) -> list[TaskView]:
        return [self.task(self.task_id)]

    def task(self, task_id: int) -> TaskView:
        self._check(task_id)
        rounds, task = self.data["rounds"], self.data["scenario"]["task"]
        requester = next((p["address"] for p in self.data["participants"] if p["role"] == "requester"), "")
        final = [r for r in rounds if r["finalized_at"]]
        committed = final[-1]["cumulative_rewards"] if final else 0
        claimed = sum(p["rewards_claimed"] for p in self.data["participants"])
        return TaskView(task_id, requester, self.data["final"]["budget"], task["rounds"], len(final),
                        task.get("settle-every", 1), len(final) == task["rounds"], committed, claimed)

    def rounds(self, task_id: int) -> list[RoundView]:
        self._check(task_id)
        views, previous = [], 0
        for r in self.data["rounds"]:
            paid, previous = r["cumulative_rewards"] - previous, r["cumulative_rewards"]
            views.append(RoundView(r["round"], "final" if r["finalized_at"] else "proposed", r["accuracy"], r["loss"],
                                   paid, None, r["model_hash"], r["rewards_root"], len(r["proposals"]),
                                   len(r["disputes"])))
        return views

    def _participant_rows(self) -> list[ParticipantView]:
        rounds = self.data["rounds"]
        selected: dict[str, int] = {}
        accepted: dict[str, int] = {}
        earned: dict[str, int] = {}
        accused: dict[str, int] = {}
        trust: dict[str, list[float]] = {}
        for r in rounds:
            for a in r["selected"]:
                selected[a] = selected.get(a, 0) + 1
            for a in r["accepted"]:
                accepted[a] = accepted.get(a, 0) + 1
            for a, amount in {**r["rewards"], **r["validator_rewards"]}.items():
                earned[a] = earned.get(a, 0) + amount
            for d in r["disputes"]:
                accused[d["accused"]] = accused.get(d["accused"], 0) + 1
            for v, share in r["validator_trust"].items():
                trust.setdefault(v, []).append(share)
        rows = []
        for p in self.data["participants"]:
            a, trainer = p["address"], p["role"] == "trainer"
            agreement = sum(trust[a]) / len(trust[a]) if a in trust else None
            rows.append(ParticipantView(a, p["role"], p["behaviour"], p["stake_final"], None,
                                        selected.get(a, 0) if trainer else None,
                                        accepted.get(a, 0) if trainer else None,
                                        earned.get(a, 0) if p["role"] != "requester" else None,
                                        p["rewards_claimed"], p["slashed"], accused.get(a, 0), agreement))
        return rows

    def participants(self, task_id: int) -> list[ParticipantView]:
        self._check(task_id)
        return self._rows

    def participant(self, task_id: int, address: str) -> ParticipantDetail:
        self._check(task_id)
        row = next((p for p in self._rows if p.address.lower() == address.lower()), None)
        if row is None:
            raise NotFound(f"{address} is not a participant of task {task_id}")
        history = []
        for r in self.data["rounds"]:
            rejected = next((x["reason"] for x in r["rejected"] if x["trainer"] == row.address), "")
            reward = r["rewards"].get(row.address, r["validator_rewards"].get(row.address))
            history.append(HistoryItem(r["round"], row.address in r["selected"], row.address in r["accepted"],
                                       reward, f"rejected: {rejected}" if rejected else ""))
        roots = [r for r in self.data["rounds"] if r["rewards_root"] != "0x" + ZERO32.hex()]
        claim = None
        if roots:
            claim = self.tables.claim([r["round"] for r in roots], _bytes(roots[-1]["rewards_root"]), row.address,
                                      market=self.data["chain"]["contracts"]["TaskMarket"], task_id=task_id,
                                      claimed=row.claimed, root_source="results.json")
        return ParticipantDetail(row, history, claim)

    def disputes(self, task_id: int) -> list[DisputeView]:
        self._check(task_id)
        bond = self.data["scenario"]["chain"].get("challenge-bond")
        bond = None if bond is None else int(bond * 10**18)
        return [DisputeView(d["id"], r["round"], d["kind"], d["accused"], d["challenger"], bond, d["votes"],
                            "upheld" if d["upheld"] else "dismissed", d["slashed"])
                for r in self.data["rounds"] for d in r["disputes"]]

    def model(self, task_id: int) -> ModelView | None:
        self._check(task_id)
        finals = [r for r in self.data["rounds"] if r["finalized_at"]]
        if not finals:
            return None
        links, provenance = [], ZERO32
        for r in finals:
            links.append(ProvenanceLink(r["round"], r["model_hash"], r["updates_root"], r["rewards_root"]))
            result = RoundResult(_bytes(r["model_hash"]), _bytes(r["updates_root"]), _bytes(r["rewards_root"]))
            provenance = chain_provenance(provenance, r["round"], result)
        owner = self.task(task_id).requester
        return ModelView(task_id, owner, self.data["final"]["model_hash"], "0x" + provenance.hex(), links)

    def edge(self, task_id: int) -> list[EdgeRound] | None:
        self._check(task_id)
        rows = [(r["round"], r["edge"]) for r in self.data["rounds"] if r.get("edge")]
        if not rows:
            return None
        return [EdgeRound(n, e["round_s"], e["devices"], e["on_time"], len(e["stragglers"]), e["energy_j"],
                          e.get("payout_latency_s")) for n, e in rows]
