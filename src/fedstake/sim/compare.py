"""Mechanisms on equal terms: one scenario, several ways of paying for it.

Every mechanism trains and scores the same way (the scenario's own
settings); they differ in when rewards are settled and claimed, by which
rule, and whether a stake is at risk. Each is a full run, and the
comparison reads its numbers off that run's results.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any, Callable

from fedstake.errors import ConfigError
from fedstake.proof.sybil import attack_stake
from fedstake.sim.config import CompareConfig, Scenario
from fedstake.sim.outdir import OutputDir
from fedstake.sim.results import Results

MECHANISMS = ("central", "per-round", "epoch", "contribution-stake", "reputation")
DAY = 24 * 3600
TOKEN = 10**18


def mechanism_overrides(name: str, scenario: Scenario, settings: CompareConfig) -> dict[str, Any]:
    """The keys each mechanism changes (everything else is the scenario's)."""
    rounds, epoch = scenario.task.rounds, min(settings.epoch_length, scenario.task.rounds)
    claims = {"rewards.claim-every": settings.claim_every}  # the same for every mechanism on chain but reputation
    by_stake = {"task.selection": "stake", **claims}  # only the reputation mechanism lets claims steer selection
    per_round = {**by_stake, "task.settle-every": 1}
    table = {
        "central": {**by_stake, "task.settle-every": rounds, "rewards.claim-every": 0, "rewards.rule": "samples"},
        "per-round": {**per_round, "rewards.rule": "samples"},
        "epoch": {**by_stake, "task.settle-every": epoch, "rewards.rule": "samples"},
        "contribution-stake": {**per_round, "rewards.rule": "contribution"},
        # on-chain reputation rises through claims, so this mechanism's trainers claim every round
        "reputation": {"rewards.claim-every": 1, "task.settle-every": 1, "task.selection": "stake-reputation",
                       "rewards.rule": "reputation"},
    }
    if name not in table:
        raise ConfigError("compare.mechanisms", f"unknown mechanism {name!r}; choose from {list(MECHANISMS)}")
    return table[name]


def _rate(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarise(name: str, results: Results, scenario: Scenario, settings: CompareConfig, wall_s: float) -> dict:
    """One row of comparison.json from a mechanism's run. Participation is the share of the
    selected devices whose update arrived in time; dropout the rest (offline, declined or
    late), so the two add up to 1."""
    final, rounds = results.final, results.rounds
    selected = [len(r.selected) for r in rounds]
    on_time = [r.edge["on_time"] if r.edge else len(r.selected) for r in rounds]
    share = [o / s if s else 0.0 for o, s in zip(on_time, selected)]  # took part and arrived in time
    gas_tokens = results.chain["gas_total"] * settings.gas_price_gwei * 1e-9 * settings.tokens_per_eth
    p50, p95 = final.get("payout_latency_p50_s"), final.get("payout_latency_p95_s")
    if name == "central":
        delay = settings.central_payout_days * DAY
        p50, p95 = (None if p50 is None else p50 + delay), (None if p95 is None else p95 + delay)
        overhead = settings.central_fee
        stake = 0
    else:
        overhead = gas_tokens / (final["budget"] / TOKEN)
        stake = attack_stake(scenario.task.clients_per_round, settings.attack_share,
                             scenario.chain.min_stake * TOKEN) // TOKEN
    paid = final["paid"] / TOKEN
    return {
        "mechanism": name, "final_accuracy": final["accuracy"],
        "participation_mean": _rate(share), "dropout_mean": 1 - _rate(share),
        "payout_latency_p50_s": p50, "payout_latency_p95_s": p95,
        "requester_cost": paid * (1 + settings.central_fee) if name == "central" else paid + gas_tokens,
        "overhead_share": overhead, "attack_cost_stake": stake, "rounds": len(rounds),
        "devices_per_round": scenario.task.clients_per_round, "wall_s": wall_s,
        "chain_s": results.timing["chain_s"], "chain_breakdown_s": results.timing["chain_breakdown_s"],
        "accuracy_by_time": [(r.edge["time_s"] if r.edge else i + 1, r.accuracy) for i, r in enumerate(rounds)],
        "participation_by_round": share,
        "rewards_by_behaviour": _rewards_by_behaviour(results),
        **final_concentration(results), "concentration_by_round": [r.concentration for r in rounds],
    }


CONCENTRATION = ("stake", "quorum_weight", "rewards_cumulative")  # the measures a comparison reports at its end
METRICS = ("nakamoto_33", "nakamoto_50", "gini", "hhi")


def final_concentration(results: Results) -> dict[str, float | int]:
    """`<measure>_<metric>` after the last round, e.g. `stake_gini`: how far stake, quorum weight
    and the rewards paid so far piled up by the end of the run."""
    last = results.rounds[-1].concentration
    return {f"{measure}_{metric}": last[measure][metric] for measure in CONCENTRATION for metric in METRICS}


def _rewards_by_behaviour(results: Results) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for p in results.participants:
        if p.role == "trainer":
            out.setdefault(p.behaviour, []).append(p.rewards_claimed / TOKEN)
    return out


def variant(scenario: Scenario, name: str) -> Scenario:
    """The scenario as mechanism `name` runs it (validated like any scenario). Only the keys the
    scenario gave are written back, so a default stays a default (a key that acts only with
    another is an error when given, see `config.check_dependent_keys`)."""
    from fedstake.sim.config import parse_scenario

    raw = scenario.model_dump(by_alias=True, mode="json", exclude_unset=True)
    for dotted, value in mechanism_overrides(name, scenario, scenario.compare).items():
        section, key = dotted.split(".")
        raw.setdefault(section, {})[key] = value
    return parse_scenario(raw)


def check_mechanisms(scenario: Scenario, text: str) -> tuple[str, ...]:
    """The comma-separated mechanism names, each known and each variant of `scenario` valid,
    checked before the first run."""
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    if not names:
        raise ConfigError("--mechanisms", f"names no mechanism; choose from {', '.join(MECHANISMS)}")
    for name in names:
        if name not in MECHANISMS:
            raise ConfigError("--mechanisms", f"unknown mechanism {name!r}; choose from {', '.join(MECHANISMS)}")
        variant(scenario, name)
    return names


def run_comparison(scenario: Scenario, mechanisms: tuple[str, ...],
                   *, on_done: Callable[[dict], None] | None = None) -> list[dict]:
    from fedstake.sim.runner import run_scenario

    rows = []
    for name in mechanisms:
        run = variant(scenario, name)
        started = time.perf_counter()
        results, _ = run_scenario(run)
        rows.append(summarise(name, results, run, scenario.compare, time.perf_counter() - started))
        if on_done is not None:
            on_done(rows[-1])
    return rows


HEADLINE = ("mechanism", "final_accuracy", "participation_mean", "dropout_mean", "payout_latency_p50_s",
            "payout_latency_p95_s", "requester_cost", "overhead_share", "attack_cost_stake", "rounds",
            "devices_per_round", "wall_s", "chain_s",
            *(f"{measure}_{metric}" for measure in CONCENTRATION for metric in METRICS))

COMPARISON_FILES = ("comparison.json", "comparison.csv", "comparison.md", "participation.png", "accuracy_time.png",
                    "rewards.png", "concentration.png")  # what write_comparison writes, for the claim


def write_comparison(rows: list[dict], out: OutputDir) -> Path:
    """comparison.json, comparison.csv, comparison.md and the plots, published at once."""
    from fedstake.sim.compare_report import markdown_table, plot_comparison

    def fill(staging: Path) -> None:
        (staging / "comparison.json").write_text(json.dumps(rows, indent=2) + "\n")
        with open(staging / "comparison.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADLINE)
            writer.writerows([[r[k] for k in HEADLINE] for r in rows])
        (staging / "comparison.md").write_text(markdown_table(rows))
        plot_comparison(rows, staging)

    return out.publish(fill)
