"""Sweeps: one scenario under every combination of a few varied keys.

Each combination (a cell) is a full run (training, screening, the chain), played in
worker processes (`sweep_pool`) or as tasks on a Ray cluster (`sweep_ray`); rows are
kept in combination order whatever order the runs finish in, and nothing in a row
depends on the runner (wall time goes to its own file), so `--jobs 2` writes the same
bytes as `--jobs 1`. The files are rewritten after every finished run (`sweep_files`),
so an interrupted sweep keeps what it did and a rerun resumes it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from fedstake import __version__
from fedstake.errors import ConfigError
from fedstake.sim.config import Scenario, load_scenario, parse_override, resolved

METRICS = ("final_accuracy", "best_accuracy", "rejected")


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
    """`section.key=a,b,c`; a value given twice is refused (it would be one cell twice)."""
    key, _ = parse_override(text.split(",", 1)[0])
    values = tuple(v.strip() for v in text.partition("=")[2].split(",") if v.strip())
    if not values:
        raise ConfigError(text, "a --vary needs at least one value: section.key=a,b,c")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ConfigError(key, f"--vary gives {', '.join(twice)} more than once")
    return Axis(key, values)


def combinations(axes: list[Axis]) -> Iterator[dict[str, str]]:
    for values in itertools.product(*(a.values for a in axes)):
        yield {a.key: v for a, v in zip(axes, values)}


@dataclass(frozen=True)
class Grid:
    """The base scenario, the axes, and every cell's checked scenario, in combination order."""

    base: Scenario
    axes: tuple[Axis, ...]
    cells: tuple[tuple[dict[str, str], Scenario], ...]

    def record(self) -> dict[str, Any]:
        """What a resumed sweep must match: fedstake's version, the resolved base scenario
        (the config file's contents with --set applied and every default filled in), the axes."""
        return {"fedstake_version": __version__, "scenario": resolved(self.base),
                "axes": [{"key": a.key, "values": list(a.values)} for a in self.axes]}


def make_grid(config: Path | None, base: list[str], axes: list[Axis]) -> Grid:
    """Every cell's scenario, loaded and checked now: bad values are refused before minutes
    are spent on the good ones."""
    keys = [a.key for a in axes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ConfigError("--vary", f"{', '.join(twice)} is varied more than once")
    cells = tuple((combo, load_scenario(config, base + [f"{k}={v}" for k, v in combo.items()]))
                  for combo in combinations(axes))
    return Grid(load_scenario(config, base), tuple(axes), cells)


def _one_thread() -> None:
    """One CPU thread per run; set once per process (setting it again slowed vmap 40x)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def run_cell(job: tuple[int, dict[str, str], Scenario]) -> tuple[int, dict[str, Any]]:
    """One run's headline numbers (and its wall time, `seconds`); a run that fails records its
    error instead of ending the sweep."""
    index, combo, scenario = job
    _one_thread()
    from fedstake.errors import FedstakeError
    from fedstake.sim.runner import run_scenario

    started = time.perf_counter()
    try:
        results, _ = run_scenario(scenario)
    except FedstakeError as exc:
        return index, {"vary": combo, "error": str(exc), "final_accuracy": float("nan"),
                       "best_accuracy": float("nan"), "paid": 0, "rejected": 0,
                       "seconds": round(time.perf_counter() - started, 3)}
    return index, {"vary": combo, "final_accuracy": results.final["accuracy"],
                   "best_accuracy": max(r.accuracy for r in results.rounds), "paid": results.final["paid"],
                   "rejected": sum(len(r.rejected) for r in results.rounds),
                   "seconds": round(time.perf_counter() - started, 3)}


def run_sweep(grid: Grid, *, jobs: int, ray: str | None = None, finished: dict[int, dict[str, Any]] | None = None,
              on_done: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Every cell's row, in combination order. `finished` (rows by cell index, from an earlier
    sweep) are kept and not run again; `on_done` gets the finished rows (in that order) after
    each new run. `jobs` runs at a time in a local process pool, or with `ray` (an address, or
    "auto" for a local instance of `jobs` CPUs) as Ray tasks."""
    rows: dict[int, dict[str, Any]] = dict(finished or {})
    todo = [(i, combo, scenario) for i, (combo, scenario) in enumerate(grid.cells) if i not in rows]
    if todo:
        if ray is None:
            from fedstake.sim.sweep_pool import pool_results as results
        else:
            from fedstake.sim.sweep_ray import ray_results as results
        with results(todo, jobs=jobs, address=ray) as finishing:
            for index, row in finishing:
                rows[index] = row
                if on_done is not None:
                    on_done([rows[i] for i in sorted(rows)])
    return [rows[i] for i in sorted(rows)]
