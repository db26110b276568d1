"""Stake concentration over a long horizon, with and without sub-linear stake in the draw
(issue 15, item 4).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/concentration.py \
        --seeds 1 2 3 --exponents 1 0.5 --jobs 2

Each run is one mechanism of `fedstake compare` (its variant of
examples/concentration-500.toml: 50 tasks of 10 rounds, rewards restaked
at each task's end) at one `task.selection-stake-exponent` and one seed.
Runs are appended to `<out>.jsonl` as they finish (an interrupted sweep
keeps what it did; `--report` redraws from it): the concentration after
the last round (every measure, every metric), and stake, quorum weight and
rewards every `--every` rounds for the plot. Then it writes `<out>.json`
and `<out>.md` (per mechanism and exponent: the median over seeds and the
worst seed: highest Gini and HHI, lowest Nakamoto coefficient) and the
plot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "concentration-500.toml"
OUT = Path(__file__).parent / "concentration"
PLOT = Path(__file__).parents[1] / "docs" / "concentration" / "concentration.png"
SERIES = (("stake", "gini"), ("stake", "hhi"), ("stake", "nakamoto_33"), ("stake", "nakamoto_50"),
          ("quorum_weight", "gini"), ("rewards_cumulative", "gini"))
WORST_IS_LOW = ("nakamoto_33", "nakamoto_50")  # fewer holders to reach a share is worse


def one_run(config: str, mechanism: str, exponent: float, seed: int, every: int, overrides: list[str]) -> dict:
    """One mechanism's run at one exponent and seed: its final concentration and sampled series."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from fedstake.sim.compare import run_comparison
    from fedstake.sim.config import load_scenario

    scenario = load_scenario(Path(config), [f"task.seed={seed}", f"task.selection-stake-exponent={exponent}",
                                            *overrides])
    started = time.perf_counter()
    row = run_comparison(scenario, (mechanism,))[0]
    by_round = row["concentration_by_round"]
    picked = sorted(set(range(every - 1, len(by_round), every)) | {len(by_round) - 1})
    return {"mechanism": mechanism, "exponent": exponent, "seed": seed, "rounds": len(by_round),
            "wall_s": round(time.perf_counter() - started, 1), "chain_s": row["chain_s"],
            "final": by_round[-1], "sampled_rounds": [i + 1 for i in picked],
            "series": {f"{m}.{k}": [by_round[i][m][k] for i in picked] for m, k in SERIES}}


def worst(metric: str, values: list[float]) -> float:
    return min(values) if metric in WORST_IS_LOW else max(values)


def summarise(runs: list[dict]) -> list[dict]:
    """Per mechanism and exponent, every final measure: median over seeds and the worst seed."""
    groups: dict[tuple[str, float], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["mechanism"], run["exponent"]), []).append(run)
    rows = []
    for (mechanism, exponent), members in groups.items():
        row = {"mechanism": mechanism, "exponent": exponent, "seeds": sorted(r["seed"] for r in members)}
        for measure, metrics in members[0]["final"].items():
            for metric in metrics:
                values = [r["final"][measure][metric] for r in members]
                row[f"{measure}.{metric}"] = {"median": statistics.median(values), "worst": worst(metric, values)}
        rows.append(row)
    return rows


TABLE = (("stake", "nakamoto_33", "stake N33", "{:.0f}"), ("stake", "nakamoto_50", "stake N50", "{:.0f}"),
         ("stake", "gini", "stake Gini", "{:.3f}"), ("stake", "hhi", "stake HHI", "{:.3f}"),
         ("quorum_weight", "nakamoto_33", "quorum N33", "{:.0f}"), ("quorum_weight", "gini", "quorum Gini", "{:.3f}"),
         ("quorum_weight", "hhi", "quorum HHI", "{:.3f}"),
         ("rewards_cumulative", "gini", "rewards Gini", "{:.3f}"))


def markdown(rows: list[dict]) -> str:
    """One line per mechanism and exponent; each cell `median (worst)` over seeds."""
    lines = ["| mechanism | exponent | seeds | " + " | ".join(t[2] for t in TABLE) + " |",
             "|---" * (3 + len(TABLE)) + "|"]
    for row in sorted(rows, key=lambda r: (r["mechanism"], -r["exponent"])):
        cells = [f"{f.format(row[f'{m}.{k}']['median'])} ({f.format(row[f'{m}.{k}']['worst'])})" for m, k, _, f in TABLE]
        lines.append(f"| {row['mechanism']} | {row['exponent']:g} | {len(row['seeds'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _alike(runs: list[dict], exponent: float) -> dict[str, list[dict]]:
    """The runs at `exponent` by mechanism, mechanisms whose runs are identical on every seed
    merged under one label ("per-round = central = epoch"): they drew and paid alike."""
    groups: dict[str, list[dict]] = {}
    for mechanism in sorted({r["mechanism"] for r in runs}):
        members = sorted((r for r in runs if r["mechanism"] == mechanism and r["exponent"] == exponent),
                         key=lambda r: r["seed"])
        if not members:
            continue
        same = next((label for label, other in groups.items()
                     if [(o["seed"], o["final"], o["series"]) for o in other]
                     == [(m["seed"], m["final"], m["series"]) for m in members]), None)
        if same is None:
            groups[mechanism] = members
        else:
            groups[f"{same} = {mechanism}"] = groups.pop(same)
    return groups


def plot(runs: list[dict], path: Path) -> None:
    """Median over seeds per mechanism (line style by exponent), and the band between the best and
    worst seed of each."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = (("stake.gini", "Gini of trainers' stake"), ("stake.nakamoto_50", "Nakamoto (1/2) of trainers' stake"),
              ("stake.hhi", "HHI of trainers' stake"), ("quorum_weight.gini", "Gini of validators' quorum weight"))
    exponents = sorted({r["exponent"] for r in runs}, reverse=True)
    styles = dict(zip(exponents, ("-", "--", ":", "-.")))
    fig = Figure(figsize=(10, 7.5))
    axes = fig.subplots(2, 2, sharex=True).flatten()
    colours: dict[str, str] = {}
    for ax, (key, title) in zip(axes, panels):
        for exponent in exponents:
            for label, members in _alike(runs, exponent).items():
                colour = colours.setdefault(label.split(" = ")[0], f"C{len(colours)}")
                x = members[0]["sampled_rounds"]
                columns = list(zip(*(r["series"][key] for r in members)))
                middle = statistics.median_low if "nakamoto" in key else statistics.median  # a count stays whole
                ax.plot(x, [middle(c) for c in columns], styles[exponent], color=colour,
                        label=f"{label}, a={exponent:g}", drawstyle="steps-post" if "nakamoto" in key else "default")
                ax.fill_between(x, [min(c) for c in columns], [max(c) for c in columns], color=colour, alpha=0.07)
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[2:]:
        ax.set_xlabel("round")
    axes[0].legend(fontsize=6)
    seeds = sorted({r["seed"] for r in runs})
    fig.suptitle(f"{runs[0]['rounds']} rounds, rewards restaked after each task: median over seeds {seeds}, "
                 "band from best to worst seed; a = task.selection-stake-exponent", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def report(out: Path, plot_path: Path) -> None:
    runs = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines() if line.strip()]
    rows = summarise(runs)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")  # the runs themselves: the jsonl
    out.with_suffix(".md").write_text(markdown(rows))
    plot(runs, plot_path)
    print(out.with_suffix(".md").read_text())


def main() -> None:
    from fedstake.sim.compare import MECHANISMS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(EXAMPLE))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--exponents", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--mechanisms", nargs="+", default=list(MECHANISMS))
    parser.add_argument("--every", type=int, default=10, help="keep the series every k rounds")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="a scenario override, k=v")
    parser.add_argument("--out", type=Path, default=OUT, help="path stem: .jsonl, .json and .md are written")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--report", action="store_true", help="only redraw the table and plot from <out>.jsonl")
    args = parser.parse_args()
    if not args.report:
        done = set()
        log = args.out.with_suffix(".jsonl")
        if log.exists():
            done = {(r["mechanism"], r["exponent"], r["seed"]) for r in map(json.loads, log.read_text().splitlines())}
        todo = [(m, e, s) for s in args.seeds for e in args.exponents for m in args.mechanisms if (m, e, s) not in done]
        with ProcessPoolExecutor(args.jobs) as pool, open(log, "a") as handle:
            futures = [pool.submit(one_run, args.config, m, e, s, args.every, args.overrides) for m, e, s in todo]
            for future in as_completed(futures):
                run = future.result()
                handle.write(json.dumps(run) + "\n")
                handle.flush()
                print(f"{run['mechanism']} a={run['exponent']:g} seed {run['seed']}: {run['rounds']} rounds in "
                      f"{run['wall_s']} s, stake Gini {run['final']['stake']['gini']:.3f}", flush=True)
    report(args.out, args.plot)


if __name__ == "__main__":
    main()
