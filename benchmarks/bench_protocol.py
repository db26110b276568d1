"""Time the quickstart's `fedstake simulate` spends outside its rounds, against
`python -c "import torch"` measured in the same run.

    .venv/bin/python benchmarks/bench_protocol.py [--config examples/quickstart.toml] [--runs 1]

Every figure comes from a fresh subprocess. `import torch` runs three times before the
scenario and twice after it; its median is the yardstick (machines differ 3x, so only the
ratio counts). `fedstake simulate -q` runs `--runs` times: its wall time is the whole
command (interpreter, imports, scenario, world set-up, rounds, report, artifacts), its
rounds' time is results.json `timing.total_s - timing.setup_s` (every round with its
claims, then closing the task). Outside the rounds is the difference; medians over runs.
The last line printed is one JSON object; `outside_rounds_vs_torch_import` is this
benchmark's share of issue 13's bench-protocol keys, with `sweep_jobs2_speedup`: the wall
time of `fedstake sweep --jobs 1` over `--jobs 2` on one 12-cell sweep, and
`sweep_tables_identical`: whether both wrote the same sweep.json, sweep.csv, sweep.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _simulate(config: Path, out: Path) -> dict[str, float]:
    wall = _wall([FEDSTAKE, "simulate", "--config", str(config), "--out", str(out), "-q"])
    timing = json.loads((out / "results.json").read_text())["timing"]
    rounds = timing["total_s"] - timing["setup_s"]
    return {"wall_s": wall, "setup_s": timing["setup_s"], "rounds_s": rounds, "outside_rounds_s": wall - rounds}


SWEEP = ["--vary", "task.seed=1,2,3,4", "--vary", "task.aggregator=fedavg,median,trimmed-mean", "--set",
         "task.rounds=2", "--set", "task.local-epochs=1", "--set", "trainers.0.count=6", "--set",
         "task.clients-per-round=3"]  # 12 cells


def _sweeps(tmp: Path) -> dict[str, float | bool]:
    """`fedstake sweep --jobs 2` against `--jobs 1` on the same 12 cells, and whether the two
    wrote the same sweep.json, sweep.csv and sweep.md."""
    walls = {jobs: _wall([FEDSTAKE, "sweep", "-o", str(tmp / f"jobs{jobs}"), "--jobs", str(jobs), *SWEEP])
             for jobs in (1, 2)}
    same = all((tmp / "jobs1" / n).read_bytes() == (tmp / "jobs2" / n).read_bytes()
               for n in ("sweep.json", "sweep.csv", "sweep.md"))
    return {"sweep_jobs1_s": round(walls[1], 3), "sweep_jobs2_s": round(walls[2], 3),
            "sweep_jobs2_speedup": round(walls[1] / walls[2], 3), "sweep_tables_identical": same}


def _protocol_rounds() -> dict[str, float]:
    """`protocol_over_training_10` and `_100` from `protocol_rounds.py` (its last line)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "protocol_rounds.py")], check=True,
                         capture_output=True, text=True).stdout
    figures = json.loads(out.splitlines()[-1])
    return {key: figures[key] for key in ("protocol_over_training_10", "protocol_over_training_100")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "quickstart.toml")
    parser.add_argument("--runs", type=int, default=1, help="simulate runs (medians are reported)")
    args = parser.parse_args()
    torch_import = [sys.executable, "-c", "import torch"]
    imports = [_wall(torch_import) for _ in range(3)]
    with tempfile.TemporaryDirectory(prefix="bench-protocol-") as tmp:
        runs = [_simulate(args.config, Path(tmp) / "run") for _ in range(args.runs)]
        sweeps = _sweeps(Path(tmp))
    imports += [_wall(torch_import) for _ in range(2)]
    torch_s = statistics.median(imports)
    figures = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(f"import torch        {torch_s:7.2f} s   (median of {len(imports)}: "
          + ", ".join(f"{s:.2f}" for s in imports) + ")")
    print(f"fedstake simulate   {figures['wall_s']:7.2f} s   ({args.config.name}, median of {len(runs)})")
    print(f"  rounds            {figures['rounds_s']:7.2f} s   (results.json total_s - setup_s)")
    print(f"  world set-up      {figures['setup_s']:7.2f} s   (results.json setup_s)")
    print(f"  outside rounds    {figures['outside_rounds_s']:7.2f} s   "
          f"= {figures['outside_rounds_s'] / torch_s:.2f}x import torch")
    print(f"fedstake sweep      {sweeps['sweep_jobs1_s']:7.2f} s --jobs 1, {sweeps['sweep_jobs2_s']:.2f} s --jobs 2 "
          f"(12 cells): {sweeps['sweep_jobs2_speedup']:.2f}x, tables identical: {sweeps['sweep_tables_identical']}")
    print(json.dumps({
        "torch_import_s": round(torch_s, 3),
        "simulate_wall_s": round(figures["wall_s"], 3),
        "rounds_s": round(figures["rounds_s"], 3),
        "setup_s": round(figures["setup_s"], 3),
        "outside_rounds_s": round(figures["outside_rounds_s"], 3),
        "outside_rounds_vs_torch_import": round(figures["outside_rounds_s"] / torch_s, 3),
        **sweeps,
        **_protocol_rounds(),
    }))


if __name__ == "__main__":
    main()
