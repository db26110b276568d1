"""Sweeps: one scenario under every combination of a few varied keys.

Each combination is a full run (training, screening, the chain), played
in worker processes; the sweep writes every run's headline numbers and a
pivot table (first varied key down, second across) of a chosen metric,
again after every finished run, so an interrupted sweep keeps what it did.
"""

from __future__ import annotations

import csv
import gc
import itertools
import json
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator

from fedstake.errors import ConfigError
from fedstake.sim.config import load_scenario, parse_override
from fedstake.sim.outdir import OutputDir
from fedstake.signals import as_worker

METRICS = ("final_accuracy", "best_accuracy", "rejected")
SWEEP_FILES = ("sweep.json", "sweep.csv", "sweep.md")  # what write_sweep writes, for the claim


def check_metric(metric: str) -> str:
    """The pivot table's metric, checked before any run."""
    if metric not in METRICS:
        raise ConfigError("--metric", f"{metric!r} is not one of {', '.join(METRICS)}")
    return metric


@dataclass(frozen=True)
class Axis:
    key: str
    values: tuple[str, ...]


def parse_axis(text: str) -> Axis:
    """`section.key=a,b,c`."""
    key, _ = parse_override(text.split(",", 1)[0])
    values = tuple(v.strip() for v in text.partition("=")[2].split(",") if v.strip())
    if not values:
        raise ConfigError(text, "a --vary needs at least one value: section.key=a,b,c")
    return Axis(key, values)


def combinations(axes: list[Axis]) -> Iterator[dict[str, str]]:
    for values in itertools.product(*(a.values for a in axes)):
        yield {a.key: v for a, v in zip(axes, values)}


def _run_one(config: str | None, base: list[str], combo: dict[str, str]) -> dict[str, Any]:
    """One run's headline numbers; a run that fails records its error instead of ending the sweep."""
    import torch

    torch.set_num_threads(1)
    from fedstake.errors import FedstakeError
    from fedstake.sim.runner import run_scenario

    scenario = load_scenario(Path(config) if config else None, base + [f"{k}={v}" for k, v in combo.items()])
    try:
        results, _ = run_scenario(scenario)
    except FedstakeError as exc:
        return {"vary": combo, "error": str(exc), "final_accuracy": float("nan"), "best_accuracy": float("nan"),
                "paid": 0, "rejected": 0, "seconds": 0.0}
    return {"vary": combo, "final_accuracy": results.final["accuracy"],
            "best_accuracy": max(r.accuracy for r in results.rounds), "paid": results.final["paid"],
            "rejected": sum(len(r.rejected) for r in results.rounds), "seconds": results.timing["total_s"]}


def _run_indexed(job: tuple[int, str | None, list[str], dict[str, str]]) -> tuple[int, dict[str, Any]]:
    index, config, base, combo = job
    return index, _run_one(config, base, combo)


def run_sweep(config: Path | None, base: list[str], axes: list[Axis], *, workers: int,
              on_done: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Every combination's headline numbers, in combination order; `on_done` gets the finished
    rows (in that order) after each run. Workers ignore Ctrl-C and unwind on SIGTERM: an
    interrupted sweep terminates them, and each stops its own children (e.g. an anvil) first."""
    combos = list(combinations(axes))
    for combo in combos:  # refuse bad values before spending minutes on the good ones
        load_scenario(config, base + [f"{k}={v}" for k, v in combo.items()])
    rows: list[dict[str, Any] | None] = [None] * len(combos)
    jobs = [(i, str(config) if config else None, base, c) for i, c in enumerate(combos)]
    pool = get_context("spawn").Pool(min(workers, len(jobs)), initializer=as_worker)
    try:
        for index, row in pool.imap_unordered(_run_indexed, jobs):
            rows[index] = row
            if on_done is not None:
                on_done([r for r in rows if r is not None])
        pool.close()  # done: idle workers exit on their own, quietly
    except BaseException:
        pool.terminate()  # an interrupt or a failure: SIGTERM unwinds the running ones
        raise
    finally:
        pool.join()
        del pool  # its queues' semaphores are unregistered as it goes, while the tracker still runs:
        gc.collect()  # stopped first, the tracker would warn of "leaked" ones and fail to unlink them
        _stop_resource_tracker()
    return [r for r in rows if r is not None]


def _stop_resource_tracker() -> None:
    """Reap the helper process that spawned workers leave behind: otherwise it ends only after
    fedstake exits (when its pipe closes), so for a moment a child outlives its parent."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # private, present in 3.8-3.13
    if stop is not None:
        stop()


def _cell(value: float) -> str:
    """A count as the whole number it is (`rejected` 3, not 3.000), a measure to three decimals."""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def pivot_markdown(rows: list[dict[str, Any]], axes: list[Axis], metric: str = "final_accuracy") -> str:
    """First axis down, second across (or a single column), cells the metric; the corner
    cell names both axes (`down \\ across`) and the metric."""
    down, across = axes[0], axes[1] if len(axes) > 1 else None
    cols = across.values if across else (metric,)
    corner = f"{down.key} \\ {across.key} ({metric})" if across else down.key
    lines = [f"| {corner} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for value in down.values:
        cells = []
        for col in cols:
            match = [r for r in rows if r["vary"][down.key] == value and (not across or r["vary"][across.key] == col)]
            cells.append("failed" if match and "error" in match[0] else _cell(match[0][metric]) if match else "")
        lines.append(f"| {value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_sweep(rows: list[dict[str, Any]], axes: list[Axis], out: OutputDir, metric: str) -> Path:
    """sweep.json (every finished run), sweep.csv and sweep.md (the pivot table), published at once."""

    def fill(staging: Path) -> None:
        (staging / "sweep.json").write_text(json.dumps(rows, indent=2) + "\n")
        with open(staging / "sweep.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([a.key for a in axes] + ["final_accuracy", "best_accuracy", "rejected", "seconds"])
            for r in rows:
                writer.writerow([r["vary"][a.key] for a in axes] + [f"{r['final_accuracy']:.4f}",
                                f"{r['best_accuracy']:.4f}", r["rejected"], r["seconds"]])
        (staging / "sweep.md").write_text(pivot_markdown(rows, axes, metric))

    return out.publish(fill)
