"""The robustness grid of issue 12: every rule over training settings, partitions, attacks and shares.

`fedstake sweep` produces the same cells from `[attackers]` (`--vary
attackers.kinds=... --vary attackers.share=...`); this driver adds the
rule, the seeds and the partitions (a partition is two keys, kind and
alpha) as axes of one run, and runs each cell with the simulator's own
functions. Rows append to a CSV and a cell
already there is skipped, so a grid can be stopped and resumed.

    python benchmarks/robust_grid.py run --base examples/robustness-grid-digits.toml \\
        --out results/grid-digits.csv --rules centered-clipping,fltrust --seeds 7,8
    python benchmarks/robust_grid.py table results/grid-digits.csv
    python benchmarks/robust_grid.py from-sweeps --out results/grid.csv results/sweep-a results/sweep-b
    python benchmarks/robust_grid.py summary results/grid-digits.csv --rule fltrust --against fedavg
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
import tomllib
from itertools import product
from pathlib import Path
from typing import Any, Iterator

ATTACKS = {  # the single attacks and its three mixes; a mix splits the attackers evenly
    **{name: (name,) for name in ("sign-flip", "scaling", "label-flip", "alie", "ipm", "gaussian",
                                  "free-rider-zero")},
    "sign-flip+scaling": ("sign-flip", "scaling"),
    "alie+label-flip": ("alie", "label-flip"),
    "ipm+gaussian+free-rider": ("ipm", "gaussian", "free-rider-zero"),
}
PARTITIONS = {"dirichlet-0.1": {"partition": "dirichlet", "dirichlet-alpha": 0.1},
              "dirichlet-0.5": {"partition": "dirichlet", "dirichlet-alpha": 0.5},
              "iid": {"partition": "iid"}, "natural": {}}
FIELDS = ("rule", "epochs", "batch", "partition", "attack", "share", "seed", "accuracy", "seconds")


def cell_scenario(base: dict[str, Any], cell: dict[str, Any]) -> dict[str, Any]:
    """The base scenario with one cell's rule, training settings, partition and `[attackers]`
    (the config splits the base's honest trainers into the attack's groups)."""
    raw = {**base, "task": {**base["task"], "aggregator": cell["rule"], "local-epochs": cell["epochs"],
                            "batch-size": cell["batch"], "seed": cell["seed"], **PARTITIONS[cell["partition"]]}}
    if cell["attack"] != "none":
        raw["attackers"] = {"share": cell["share"], "kinds": "+".join(ATTACKS[cell["attack"]])}
    return raw


def cells(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    for rule, epochs, batch, partition, attack, share, seed in product(
            args.rules, args.epochs, args.batch, args.partitions, args.attacks, args.shares, args.seeds):
        yield {"rule": rule, "epochs": epochs, "batch": batch, "partition": partition, "attack": attack,
               "share": share if attack != "none" else 0.0, "seed": seed}


def _key(row: dict[str, Any]) -> tuple:
    return tuple(str(row[f]) for f in FIELDS[:7])


def run(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(1)
    from fedstake.sim.config import parse_scenario
    from fedstake.sim.runner import run_scenario

    base = tomllib.loads(Path(args.base).read_text())
    out = Path(args.out)
    done = {_key(r) for r in csv.DictReader(out.open())} if out.exists() else set()
    with out.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if not done:
            writer.writeheader()
        for cell in cells(args):
            if _key(cell) in done:
                continue
            done.add(_key(cell))
            start = time.perf_counter()
            results, _ = run_scenario(parse_scenario(cell_scenario(base, cell)))
            writer.writerow({**cell, "accuracy": f"{results.final['accuracy']:.4f}",
                             "seconds": f"{time.perf_counter() - start:.1f}"})
            f.flush()
            print(cell, results.final["accuracy"], flush=True)


def _sweep_rows(folder: Path) -> Iterator[dict[str, Any]]:
    """A `fedstake sweep` folder's cells as this driver's rows: the varied keys from each row, the
    rest from the sweep's resolved base scenario (sweep-grid.json)."""
    base = json.loads((folder / "sweep-grid.json").read_text())["scenario"]["task"]
    named = {"+".join(kinds): name for name, kinds in ATTACKS.items()}
    for row in json.loads((folder / "sweep.json").read_text()):
        vary = row["vary"]
        task = lambda key: vary.get(f"task.{key}", base[key])  # noqa: E731
        partition = str(task("partition"))
        if partition == "dirichlet":
            partition = f"dirichlet-{float(task('dirichlet-alpha')):g}"
        kinds, share = vary.get("attackers.kinds"), float(vary.get("attackers.share", 0))
        attack = named.get(kinds, kinds) if kinds and share > 0 else "none"
        yield {"rule": task("aggregator"), "epochs": int(task("local-epochs")), "batch": int(task("batch-size")),
               "partition": partition, "attack": attack, "share": share if attack != "none" else 0.0,
               "seed": int(base["seed"]), "accuracy": f"{row['final_accuracy']:.4f}", "seconds": ""}


def from_sweeps(args: argparse.Namespace) -> None:
    """Write the rows of `fedstake sweep` folders as one CSV that `table` reads."""
    with Path(args.out).open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for folder in args.folders:
            writer.writerows(_sweep_rows(Path(folder)))


def _clean(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, float]]:
    """Per training setting, each rule's mean accuracy with no attack."""
    runs: dict[tuple, dict[str, list[float]]] = {}
    for r in rows:
        if r["attack"] == "none":
            runs.setdefault(_setting(r), {}).setdefault(r["rule"], []).append(float(r["accuracy"]))
    return {k: {rule: statistics.fmean(v) for rule, v in by_rule.items()} for k, by_rule in runs.items()}


def _setting(row: dict[str, Any]) -> tuple:
    return row["epochs"], row["batch"], row["partition"]


def table(args: argparse.Namespace) -> None:
    """Per rule and attacked cell: mean accuracy over seeds, the worst seed, and the gaps (of the mean)
    to clean FedAvg and to the best clean rule at the same training settings; then each rule's
    typical (median) and worst gap."""
    rows = list(csv.DictReader(Path(args.csv).open()))
    clean = _clean(rows)
    cell_acc: dict[tuple, list[float]] = {}
    for r in rows:
        if r["attack"] != "none":
            cell_acc.setdefault((r["rule"], *_setting(r), r["attack"], r["share"]), []).append(float(r["accuracy"]))
    print("| rule | epochs | batch | partition | attack | share | accuracy (seeds) | worst seed "
          "| gap to clean FedAvg | gap to best clean rule |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    gaps: dict[str, list[tuple[float, float, tuple]]] = {}
    nan = float("nan")
    for key, accs in sorted(cell_acc.items()):
        base = clean.get(key[1:4], {})
        mean = statistics.fmean(accs)
        to_fedavg = base["fedavg"] - mean if "fedavg" in base else nan
        to_best = max(base.values()) - mean if base else nan
        gaps.setdefault(key[0], []).append((to_fedavg, to_best, key))
        print(f"| {' | '.join(map(str, key))} | {mean:.3f} ({len(accs)}) | {min(accs):.3f} "
              f"| {to_fedavg:+.3f} | {to_best:+.3f} |")
    print()
    for rule, items in gaps.items():
        for i, against in ((0, "clean FedAvg"), (1, "the best clean rule")):
            valid = sorted((g[i], g[2]) for g in items if g[i] == g[i])
            if valid:
                typical = statistics.median(g for g, _ in valid)
                print(f"{rule} vs {against}: {len(valid)} cells, median gap {typical:+.3f}, "
                      f"worst {valid[-1][0]:+.3f} at {valid[-1][1][1:]}")


def summary(args: argparse.Namespace) -> None:
    """One row per training setting: the reference (clean FedAvg, the best clean rule with `--against
    best`, or with `--against honest-data` the rule's own cell at the same share of zero-update free
    riders, which FLTrust gives zero trust: the rule trained on the honest trainers' data alone), the
    rule's median and worst attacked cell (named), and the worst gap; then the cells that miss
    `--target`. The README's robustness table."""
    rows = list(csv.DictReader(Path(args.csv).open()))
    clean = _clean(rows)
    attacked: dict[tuple, list[tuple[float, str, str]]] = {}
    for r in rows:
        if r["rule"] == args.rule and r["attack"] != "none":
            attacked.setdefault(_setting(r), []).append((float(r["accuracy"]), r["attack"], r["share"]))
    print(f"| epochs | batch | partition | reference | clean {args.rule} | {args.rule} median "
          f"| {args.rule} worst | worst gap (cell) | cells |")
    print("|---|---|---|---|---|---|---|---|---|")
    misses = []
    for setting in sorted(attacked, key=lambda k: (int(k[0]), int(k[1]), k[2])):
        base = clean.get(setting, {})
        cells = attacked[setting]
        if args.against == "honest-data":
            floor = {share: a for a, attack, share in cells if attack == "free-rider-zero"}
            refs = {share: floor[share] for _, _, share in cells}
            shown = "free-rider-zero " + "/".join(f"{floor[k]:.3f}" for k in sorted(floor))
        else:
            name, ref = max(base.items(), key=lambda kv: kv[1]) if args.against == "best" \
                else (args.against, base[args.against])
            refs = {share: ref for _, _, share in cells}
            shown = f"{ref:.3f} ({name})"
        gaps = sorted(((refs[share] - a, a, f"{attack} {float(share):.0%}") for a, attack, share in cells), reverse=True)
        worst_gap, worst, where = gaps[0]
        own = f"{base[args.rule]:.3f}" if args.rule in base else "-"
        print(f"| {' | '.join(setting)} | {shown} | {own} | {statistics.median(a for _, a, _ in gaps):.3f} "
              f"| {min(a for _, a, _ in gaps):.3f} | {worst_gap:+.3f} ({where}) | {len(gaps)} |")
        misses += [(gap, setting, cell) for gap, _, cell in gaps if gap > args.target]
    print(f"\n{len(misses)} cells more than {args.target:.2f} under the reference")
    for gap, setting, cell in sorted(misses, reverse=True):
        print(f"- {' '.join(setting)}, {cell}: {gap:+.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--out", required=True)
    listed = lambda cast: lambda text: [cast(v) for v in text.split(",")]  # noqa: E731
    r.add_argument("--rules", type=listed(str), default=["fedavg"])
    r.add_argument("--epochs", type=listed(int), default=[1, 2, 5])
    r.add_argument("--batch", type=listed(int), default=[16, 32])
    r.add_argument("--partitions", type=listed(str), default=["dirichlet-0.1", "dirichlet-0.5", "iid"])
    r.add_argument("--attacks", type=listed(str), default=list(ATTACKS))
    r.add_argument("--shares", type=listed(float), default=[0.1, 0.2, 0.3])
    r.add_argument("--seeds", type=listed(int), default=[7])
    t = sub.add_parser("table")
    t.add_argument("csv")
    w = sub.add_parser("from-sweeps", help="the rows of fedstake sweep folders as one CSV")
    w.add_argument("--out", required=True)
    w.add_argument("folders", nargs="+")
    m = sub.add_parser("summary", help="one row per training setting for a rule, worst cell named")
    m.add_argument("csv")
    m.add_argument("--rule", default="fltrust")
    m.add_argument("--against", default="fedavg", help="a rule's clean accuracy; best: the best clean rule; honest-data: the rule's own "
                   "free-rider-zero cell at the same share")
    m.add_argument("--target", type=float, default=0.03, help="list the cells further than this under it")
    args = parser.parse_args()
    {"run": run, "table": table, "from-sweeps": from_sweeps, "summary": summary}[args.command](args)


if __name__ == "__main__":
    main()
