"""Plots and the Markdown table of a mechanism comparison."""

from __future__ import annotations

from pathlib import Path

from fedstake.sim.figures import figure, whole_rounds

ROWS = (
    ("final accuracy", "final_accuracy", "{:.3f}"),
    ("participation (share of the selected whose update arrived in time)", "participation_mean", "{:.2f}"),
    ("dropout (offline, declined or late: 1 - participation)", "dropout_mean", "{:.2f}"),
    ("payout latency p50", "payout_latency_p50_s", "duration"),
    ("payout latency p95", "payout_latency_p95_s", "duration"),
    ("requester cost (tokens)", "requester_cost", "{:,.0f}"),
    ("coordination overhead (share of budget)", "overhead_share", "{:.2%}"),
    ("stake to control the attack share of a cohort (tokens)", "attack_cost_stake", "{:,}"),
    *((f"{label} after the last round: {name}", f"{measure}_{metric}", fmt)
      for measure, label in (("stake", "trainers' stake"), ("quorum_weight", "validators' quorum weight"),
                             ("rewards_cumulative", "trainers' rewards so far"))
      for metric, name, fmt in (("nakamoto_33", "Nakamoto coefficient at 1/3", "{}"),
                                ("nakamoto_50", "Nakamoto coefficient at 1/2", "{}"),
                                ("gini", "Gini", "{:.3f}"), ("hhi", "HHI", "{:.3f}"))),
    ("wall time of the run (s)", "wall_s", "{:.1f}"),
    ("of which chain and signatures (s)", "chain_s", "{:.1f}"),
)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def markdown_table(rows: list[dict]) -> str:
    """Metrics down, mechanisms across, every cell from a run."""
    header = "| | " + " | ".join(r["mechanism"] for r in rows) + " |"
    lines = [header, "|---" * (len(rows) + 1) + "|"]
    for label, key, fmt in ROWS:
        cells = [_duration(r[key]) if fmt == "duration" else fmt.format(r[key]) for r in rows]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_comparison(rows: list[dict], out: Path) -> None:
    fig = figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for r in rows:
        ax.plot(range(1, len(r["participation_by_round"]) + 1), r["participation_by_round"], label=r["mechanism"])
    ax.set(xlabel="round", ylabel="share of the selected, in time", ylim=(0, 1.05),
           title="Participation per round")
    whole_rounds(ax.xaxis)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "participation.png", dpi=120)

    fig = figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    for r in rows:
        times, accuracy = zip(*r["accuracy_by_time"])
        ax.plot([t / 3600 for t in times], accuracy, label=r["mechanism"], marker="o", markersize=2)
    ax.set(xlabel="simulated time (h)", ylabel="test accuracy", ylim=(0, 1), title="Accuracy against time")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "accuracy_time.png", dpi=120)

    plot_concentration(rows, out)

    behaviours = sorted({b for r in rows for b in r["rewards_by_behaviour"]})
    fig = figure(figsize=(3 * len(rows), 3.4))
    axes = fig.subplots(1, len(rows), sharey=True, squeeze=False)
    for ax, r in zip(axes[0], rows):
        ax.boxplot([r["rewards_by_behaviour"].get(b, [0.0]) for b in behaviours], tick_labels=behaviours)
        ax.set_title(r["mechanism"], fontsize=9)
        ax.tick_params(axis="x", rotation=45, labelsize=7)
    axes[0][0].set_ylabel("rewards claimed per trainer (tokens)")
    fig.tight_layout()
    fig.savefig(out / "rewards.png", dpi=120)


PANELS = (("stake", "gini", "Gini of trainers' stake"), ("stake", "nakamoto_33", "Nakamoto (1/3) of trainers' stake"),
          ("quorum_weight", "gini", "Gini of validators' quorum weight"),
          ("rewards_cumulative", "gini", "Gini of trainers' rewards so far"))


def plot_concentration(rows: list[dict], out: Path) -> None:
    """concentration.png: how stake, quorum weight and rewards pile up over the rounds, per mechanism."""
    fig = figure(figsize=(9, 6))
    axes = fig.subplots(2, 2, sharex=True).flatten()
    for ax, (measure, metric, title) in zip(axes, PANELS):
        for r in rows:
            series = [c[measure][metric] for c in r["concentration_by_round"]]
            ax.plot(range(1, len(series) + 1), series, label=r["mechanism"],
                    drawstyle="steps-post" if metric.startswith("nakamoto") else "default")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        whole_rounds(ax.yaxis if metric.startswith("nakamoto") else ax.xaxis)
    for ax in axes[2:]:
        ax.set_xlabel("round")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "concentration.png", dpi=120)
