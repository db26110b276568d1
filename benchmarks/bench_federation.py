"""`fedstake up` against `fedstake simulate` on the same scenario, in one run: bring-up time,
time per round (and its ratio to the simulator's), and the peak RSS of every process.

    .venv/bin/python benchmarks/bench_federation.py [--config examples/deploy-local.toml]

Both commands run as subprocesses, one after the other, on the same file. The federation's
process tree (anvil, SuperLink, every participant's agent and its SuperNode, the coordinator,
the requester's commands) is sampled from /proc every 0.5 s; each process is named by
federation.json or by its command line. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from fedstake.deploy.federation.launcher import descendants, parents as process_tree

ROOT = Path(__file__).resolve().parents[1]
FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))
_PAGE_KB = 4  # /proc/<pid>/statm counts pages


def _rss_mb(pid: int) -> float | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB / 1024
    except (OSError, IndexError, ValueError):
        return None


def _label(pid: int, parents: dict[int, int], named: dict[int, str]) -> str:
    """federation.json's name, a SuperNode named after its agent, else the program's name."""
    if pid in named:
        return named[pid]
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    program = " ".join(Path(a.decode()).name for a in argv[:3] if a)
    if "flower-supernode" in program and parents.get(pid) in named:
        return f"{named[parents[pid]]}/supernode"
    for known in ("flwr-serverapp", "flwr-clientapp", "flower-superlink", "anvil"):
        if known in program:
            return known
    if "fedstake.cli" in program or program.startswith("fedstake"):
        return "fedstake " + " ".join(a.decode() for a in argv[3:5])
    return program


class Sampler(threading.Thread):
    """The peak RSS of each process below `root`, by label (one process per label: the largest)."""

    def __init__(self, root: int, run_dir: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.run_dir, self.peak = root, run_dir, defaultdict(float)
        self.done = threading.Event()

    def _named(self) -> dict[int, str]:
        try:
            services = json.loads((self.run_dir / "federation.json").read_text())["processes"]
        except (OSError, ValueError, KeyError):
            return {}
        return {s["pid"]: s["name"] for s in services}

    def run(self) -> None:
        while not self.done.wait(0.5):
            parents, named = process_tree(), self._named()
            for pid in [self.root, *descendants(self.root, parents)]:
                rss = _rss_mb(pid)
                label = _label(pid, parents, named)
                if rss and label:  # a zombie has no memory and no command line
                    self.peak[label] = max(self.peak[label], rss)


def _run(args: list[str], run_dir: Path) -> tuple[float, dict[str, float]]:
    started = time.monotonic()
    process = subprocess.Popen([FEDSTAKE, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(process.pid, run_dir)
    sampler.start()
    output, _ = process.communicate()
    sampler.done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"fedstake {' '.join(args)} failed ({process.returncode}):\n{output[-3000:]}")
    return time.monotonic() - started, dict(sampler.peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "deploy-local.toml")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-federation-") as scratch:
        federation_dir, simulation_dir = Path(scratch) / "federation", Path(scratch) / "simulation"
        sim_wall, sim_rss = _run(["simulate", "--config", str(options.config), "--out", str(simulation_dir), "-q"],
                                 simulation_dir)
        fed_wall, fed_rss = _run(["up", "--config", str(options.config), "--out", str(federation_dir)],
                                 federation_dir)
        simulated = json.loads((simulation_dir / "results.json").read_text())
        federated = json.loads((federation_dir / "results.json").read_text())
        logged = [json.loads(line) for line in (federation_dir / "rounds.jsonl").read_text().splitlines()]
    rounds = len(simulated["rounds"])
    sim_round = (simulated["timing"]["total_s"] - simulated["timing"]["setup_s"]) / rounds
    fed_round = sum(row["seconds"] for row in logged) / len(logged)
    same = [r["model_hash"] for r in federated["rounds"]] == [r["model_hash"] for r in simulated["rounds"]]
    print(f"{'':<24}{'simulate':>12}{'up':>12}{'ratio':>10}")
    print(f"{'wall (s)':<24}{sim_wall:>12.1f}{fed_wall:>12.1f}{fed_wall / sim_wall:>10.1f}")
    print(f"{'set-up (s)':<24}{simulated['timing']['setup_s']:>12.1f}{federated['timing']['setup_s']:>12.1f}"
          f"{federated['timing']['setup_s'] / simulated['timing']['setup_s']:>10.1f}")
    print(f"{'per round (s)':<24}{sim_round:>12.2f}{fed_round:>12.2f}{fed_round / sim_round:>10.1f}")
    print(f"model hashes equal round by round: {same}")
    print("peak RSS (MB), federation processes:")
    for label, rss in sorted(fed_rss.items(), key=lambda item: -item[1]):
        print(f"  {label:<32}{rss:>8.0f}")
    print(json.dumps({
        "rounds": rounds, "same_hashes": same, "simulate_wall_s": round(sim_wall, 2), "up_wall_s": round(fed_wall, 2),
        "up_setup_s": federated["timing"]["setup_s"], "simulate_setup_s": simulated["timing"]["setup_s"],
        "simulate_round_s": round(sim_round, 3), "up_round_s": round(fed_round, 3),
        "round_ratio": round(fed_round / sim_round, 1), "simulate_rss_mb": round(max(sim_rss.values(), default=0)),
        "up_rss_mb": {label: round(rss) for label, rss in sorted(fed_rss.items())},
        "up_rss_total_mb": round(sum(fed_rss.values()))}))


if __name__ == "__main__":
    main()
