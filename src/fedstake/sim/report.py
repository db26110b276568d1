"""Plots and an HTML page for a run, written beside results.json."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from fedstake.proof.codec import params_bytes
from fedstake.sim.figures import figure, whole_rounds
from fedstake.sim.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from fedstake.sim.world import World

TOKEN = 10**18
MODEL_FILE = "model.safetensors"
REPORT_FILES = (MODEL_FILE, "accuracy.png", "rewards.png", "report.html")  # what write_report writes, for the claim


def accuracy_figure(results: Results) -> Figure:
    """Accuracy per round; the caller saves it."""
    rounds = [r.round for r in results.rounds]
    fig = figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(rounds, [r.accuracy for r in results.rounds], marker="o", markersize=3)
    ax.set(xlabel="round", ylabel="test accuracy", ylim=(0, 1), title="Global model accuracy")
    whole_rounds(ax.xaxis)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_accuracy(results: Results, path: Path) -> None:
    accuracy_figure(results).savefig(path, dpi=120)


def rewards_by_behaviour(results: Results) -> dict[str, list[float]]:
    """Claimed rewards (whole tokens) of each trainer, grouped by behaviour."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for p in results.participants:
        if p.role == "trainer":
            grouped[p.behaviour].append(p.rewards_claimed / TOKEN)
    return dict(grouped)


def plot_rewards(results: Results, path: Path) -> None:
    grouped = rewards_by_behaviour(results)
    fig = figure(figsize=(6, 3.5))
    ax = fig.subplots()
    names = sorted(grouped)
    ax.boxplot([grouped[n] for n in names], tick_labels=names)
    ax.set(ylabel="rewards claimed (tokens)", title="Rewards per trainer by behaviour")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(results: Results, world: World, out: Path) -> None:
    """accuracy.png, rewards.png, report.html and the final model (model.safetensors) into `out`.

    The model file's keccak256 is the final model hash recorded on chain.
    """
    spec = world.validators[0].rules.spec
    (out / MODEL_FILE).write_bytes(params_bytes(spec.unflatten(world.session.global_params)))
    plot_accuracy(results, out / "accuracy.png")
    plot_rewards(results, out / "rewards.png")
    final = results.final
    summary = [
        ["final accuracy", f"{final['accuracy']:.4f}"],
        ["final model hash", final["model_hash"]],
        ["budget (tokens)", f"{final['budget'] / TOKEN:,.4f}"],
        ["paid (tokens)", f"{final['paid'] / TOKEN:,.4f}"],
        ["refunded (base units)", f"{final['refunded']:,}"],
        ["token supply conserved", str(final["supply_conserved"])],
    ]
    gas = [[op, f"{g:,}"] for op, g in results.chain["gas"].items()]
    rejected = [[r.round, x["trainer"], x["reason"]] for r in results.rounds for x in r.rejected]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>fedstake run</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:.9em}}</style></head><body>
<h1>fedstake run</h1>{_table(summary, ["", ""])}
<img src="accuracy.png" alt="accuracy per round"><img src="rewards.png" alt="rewards by behaviour">
<h2>Gas per operation</h2>{_table(gas, ["operation", "gas"])}
<h2>Rejected updates</h2>{_table(rejected[:200], ["round", "trainer", "reason"]) if rejected else "<p>none</p>"}
</body></html>
"""
    (out / "report.html").write_text(page)
