"""The requester's cost per point of accuracy: reverse auction against fixed per-sample payment.

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/auction_cost.py \
        --seeds 1 2 3 4 5 --out benchmarks/auction_cost.json [--set task.partition=dirichlet ...]

Both modes run examples/auction-edge.toml (40 edge devices, 20 a round, 8 rounds, digits) with
the same seed, so the same devices, costs, data and chain: `fixed` draws the cohort by stake and
pays the trainers' part of each round's budget by samples, `reverse-auction` buys the cohort
from the devices' asks (each asks its true cost) and pays critical prices, refunding the rest.
The requester's cost is what left its escrow (`final.paid`: trainers and validators, whose
10% share is the same in both modes); a point of accuracy is 0.01 of the final test accuracy.
It prints, per mode, the typical (median) and worst (highest cost, lowest accuracy) figure over
the seeds, the auction's cost per point over fixed's seed by seed, and what the devices spent
on the rounds they trained (energy and metered bytes; their reservations come on top).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from fedstake.sim.config import load_scenario
from fedstake.sim.runner import run_scenario

EXAMPLE = Path(__file__).parents[1] / "examples" / "auction-edge.toml"
MODES = ("fixed", "reverse-auction")
TOKEN = 10**18


def run(mode: str, seed: int, overrides: list[str]) -> dict:
    results, world = run_scenario(load_scenario(EXAMPLE, [f"task.pricing={mode}", f"task.seed={seed}", *overrides]))
    paid = results.final["paid"] / TOKEN
    accuracy = results.final["accuracy"]
    trainers = [p for p in results.participants if p.role == "trainer"]
    return {"mode": mode, "seed": seed, "accuracy": accuracy, "paid": paid,
            "trainers_paid": sum(p.rewards_claimed for p in trainers) / TOKEN,
            "device_cost": sum(p.device_cost or 0.0 for p in trainers),
            "cost_per_point": paid / (100 * accuracy),
            "mean_cohort": statistics.fmean(len(r.accepted) for r in results.rounds),
            "wall_s": results.timing["total_s"]}


def table(rows: list[dict]) -> str:
    by = {m: [r for r in rows if r["mode"] == m] for m in MODES}
    ratio = [a["cost_per_point"] / f["cost_per_point"] for f, a in zip(by["fixed"], by["reverse-auction"])]
    lines = ["| | fixed | reverse-auction |", "|---|---|---|"]

    def row(label: str, key: str, fmt: str, worst=max) -> None:
        cells = [f"{format(statistics.median(r[key] for r in by[m]), fmt)} "
                 f"(worst {format(worst(r[key] for r in by[m]), fmt)})" for m in MODES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("final accuracy", "accuracy", ".3f", worst=min)
    row("requester cost (tokens)", "paid", ",.1f")
    row("of which to trainers (tokens)", "trainers_paid", ",.1f")
    row("cost per accuracy point (tokens)", "cost_per_point", ",.2f")
    row("devices' spending on the rounds they trained (energy, metered bytes; tokens)", "device_cost", ",.1f")
    lines.append(f"\nauction / fixed cost per point, by seed: {', '.join(f'{x:.3f}' for x in ratio)} "
                 f"(typical {statistics.median(ratio):.3f}, worst {max(ratio):.3f})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="a scenario override, key=value")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for mode in MODES:
            rows.append(run(mode, seed, args.overrides))
            print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps({"overrides": args.overrides, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
