"""Plots and the run report, written beside results.json.

report.html is the dashboard's static export (`fedstake.dashboard.export`): the same
sections as the live pages, self-contained, opening from disk with no server.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from fedstake.dashboard.export import write_report_html
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


def write_report(results: Results, world: World, out: Path) -> None:
    """accuracy.png, rewards.png, report.html and the final model (model.safetensors) into `out`,
    where results.json already is.

    The model file's keccak256 is the final model hash recorded on chain.
    """
    spec = world.validators[0].rules.spec
    (out / MODEL_FILE).write_bytes(params_bytes(spec.unflatten(world.session.global_params)))
    plot_accuracy(results, out / "accuracy.png")
    plot_rewards(results, out / "rewards.png")
    write_report_html(out)  # reads the results.json written beside it
