"""What a sweep writes, and what a rerun into the same directory reads back to resume.

sweep.json (every finished row, in combination order), sweep.csv and sweep.md (the
pivot table) hold results only: the same grid gives the same bytes however many jobs
ran it. sweep-grid.json records what was swept (fedstake's version, the resolved base
scenario, the axes); sweep-timing.json each run's wall time. A rerun whose grid record
matches keeps the finished rows (a failed one runs again); one that does not is refused
unless --force, which runs the new grid and replaces the old sweep's files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from fedstake.errors import ConfigError
from fedstake.sim.outdir import OutputDir
from fedstake.sim.sweep import Grid
from fedstake.sim.sweep_table import pivot_markdown

GRID_FILE, TIMING_FILE = "sweep-grid.json", "sweep-timing.json"
SWEEP_FILES = ("sweep.json", "sweep.csv", "sweep.md", GRID_FILE, TIMING_FILE)  # for the claim


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "seconds"}


def write_sweep(rows: list[dict[str, Any]], grid: Grid, out: OutputDir, metric: str) -> Path:
    """Every file of the sweep, published at once."""
    axes = list(grid.axes)

    def fill(staging: Path) -> None:
        (staging / "sweep.json").write_text(json.dumps([_result(r) for r in rows], indent=2) + "\n")
        with open(staging / "sweep.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([a.key for a in axes] + ["final_accuracy", "best_accuracy", "rejected"])
            for r in rows:
                writer.writerow([r["vary"][a.key] for a in axes] + [f"{r['final_accuracy']:.4f}",
                                f"{r['best_accuracy']:.4f}", r["rejected"]])
        (staging / "sweep.md").write_text(pivot_markdown(rows, axes, metric))
        (staging / GRID_FILE).write_text(json.dumps(grid.record(), indent=2) + "\n")
        timing = [{"vary": r["vary"], "seconds": r.get("seconds")} for r in rows]
        (staging / TIMING_FILE).write_text(json.dumps(timing, indent=2) + "\n")

    return out.publish(fill)


def _differs(before: dict[str, Any], now: dict[str, Any]) -> str:
    parts = {"fedstake_version": "fedstake's version", "scenario": "base scenario", "axes": "axes"}
    return ", ".join(label for key, label in parts.items() if before.get(key) != now[key])


def finished_rows(out: OutputDir, grid: Grid, *, force: bool) -> dict[int, dict[str, Any]]:
    """The rows by cell index that an earlier sweep of this same grid in `out` finished without
    an error (none for a fresh directory, or with `force` over another grid's sweep)."""
    if "sweep.json" not in out.owned:
        return {}
    try:
        before = json.loads((out.path / GRID_FILE).read_text())
        rows = json.loads((out.path / "sweep.json").read_text())
        timing = json.loads((out.path / TIMING_FILE).read_text())
    except (OSError, ValueError):
        before, rows, timing = {}, [], []
    now = grid.record()
    if before != now:
        if force:
            return {}
        raise ConfigError(out.key, f"{out.path} holds a sweep of another grid (not the same "
                          f"{_differs(before, now) or 'record: it is unreadable'}); choose a new directory, or pass --force to run this grid there (its files "
                          "replace that sweep's)")
    seconds = {json.dumps(t["vary"], sort_keys=True): t["seconds"] for t in timing}
    index = {json.dumps(combo, sort_keys=True): i for i, (combo, _) in enumerate(grid.cells)}
    kept = {}
    for row in rows:
        key = json.dumps(row["vary"], sort_keys=True)
        if "error" not in row and key in index:
            kept[index[key]] = {**row, "seconds": seconds.get(key)}
    return kept
