"""`fedstake compare`: the mechanisms share training and scoring, differ only in how they
pay, and the one that pays at project end loses its rational devices."""

import csv
import json

import pytest
from typer.testing import CliRunner

from fedstake.cli import app
from fedstake.sim.compare import HEADLINE, MECHANISMS, mechanism_overrides
from fedstake.sim.config import load_scenario
from fedstake.sim.drift import MEASURES

SMALL = ["task.rounds=10", "task.clients-per-round=12", "trainers.0.count=15", "trainers.1.count=3",
         "task.local-epochs=1", "compare.epoch-length=3",
         "task.budget=400"]  # as in the example: a few tokens per device and round, near their costs
SETTLEMENT_KEYS = {"task.settle-every", "task.selection", "rewards.claim-every", "rewards.rule"}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    args = ["compare", "-c", "examples/mechanisms.toml", "-o", str(out)]
    result = CliRunner().invoke(app, args + [f"--set={s}" for s in SMALL])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "comparison.json").read_text())


def test_mechanisms_change_only_how_rewards_are_settled_and_paid():
    scenario = load_scenario(None)
    for name in MECHANISMS:
        assert set(mechanism_overrides(name, scenario, scenario.compare)) <= SETTLEMENT_KEYS


def test_writes_one_row_per_mechanism_with_every_headline_field(compared):
    out, rows = compared
    assert [r["mechanism"] for r in rows] == list(MECHANISMS)
    for row in rows:
        assert set(HEADLINE) <= set(row) and row["rounds"] == 10 and row["devices_per_round"] == 12
        assert row["participation_mean"] + row["dropout_mean"] == pytest.approx(1.0)
        assert 0 < row["chain_s"] < row["wall_s"] and sum(row["chain_breakdown_s"].values()) == pytest.approx(
            row["chain_s"], abs=0.05)
    with open(out / "comparison.csv") as handle:
        assert len(list(csv.reader(handle))) == len(MECHANISMS) + 1
    table = (out / "comparison.md").read_text()
    assert all(name in table for name in MECHANISMS)
    assert all((out / f"{plot}.png").stat().st_size > 10_000
               for plot in ("participation", "accuracy_time", "rewards", "concentration"))


def test_reports_concentration_per_mechanism_after_the_last_round_and_over_rounds(compared):
    out, rows = compared
    table = (out / "comparison.md").read_text()
    assert "trainers' stake after the last round: Gini" in table and "validators' quorum weight" in table
    for row in rows:
        by_round = row["concentration_by_round"]
        assert len(by_round) == row["rounds"] and set(by_round[0]) == set(MEASURES)
        assert row["stake_gini"] == by_round[-1]["stake"]["gini"]
        assert row["rewards_cumulative_nakamoto_33"] == by_round[-1]["rewards_cumulative"]["nakamoto_33"]
        assert 1 <= row["stake_nakamoto_33"] <= row["stake_nakamoto_50"] <= 150  # no reinvesting: bonds stay
        assert row["stake_gini"] == by_round[0]["stake"]["gini"]


def test_paying_at_project_end_loses_rational_devices_and_costs_the_orchestrator_fee(compared):
    _, rows = compared
    by = {r["mechanism"]: r for r in rows}
    assert by["central"]["participation_mean"] < by["per-round"]["participation_mean"]
    assert by["central"]["payout_latency_p50_s"] > 30 * 24 * 3600 > by["per-round"]["payout_latency_p50_s"]
    assert by["central"]["overhead_share"] > 10 * by["per-round"]["overhead_share"]
    assert by["epoch"]["payout_latency_p50_s"] > by["per-round"]["payout_latency_p50_s"]
    assert by["central"]["attack_cost_stake"] == 0 < by["contribution-stake"]["attack_cost_stake"]
