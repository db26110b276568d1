"""The sweep's table names its axes and its metric, for one axis or six; a metric it does not have is refused up front."""

import pytest

from fedstake.errors import ConfigError
from fedstake.sim.sweep import Axis, check_metric, parse_axis
from fedstake.sim.sweep_table import pivot_markdown


def test_the_table_names_the_axis_across_and_the_metric():
    axes = [Axis("task.aggregator", ("fedavg", "median")), Axis("trainers.1.behaviour", ("honest", "sign-flip"))]
    rows = [{"vary": {"task.aggregator": a, "trainers.1.behaviour": b}, "final_accuracy": 0.5}
            for a in axes[0].values for b in axes[1].values]
    header = pivot_markdown(rows, axes).splitlines()[0]
    assert header == "| task.aggregator \\ trainers.1.behaviour (final_accuracy) | honest | sign-flip |"


def test_an_unknown_metric_is_refused_naming_the_choices():
    assert check_metric("rejected") == "rejected"
    with pytest.raises(ConfigError, match="--metric: 'accuracy' is not one of final_accuracy, best_accuracy"):
        check_metric("accuracy")


def test_a_count_is_a_whole_number_and_a_measure_has_three_decimals():
    axes = [Axis("task.aggregator", ("fedavg", "median"))]
    rows = [{"vary": {"task.aggregator": "fedavg"}, "rejected": 3, "final_accuracy": 0.5},
            {"vary": {"task.aggregator": "median"}, "rejected": 0, "final_accuracy": 0.25}]
    assert pivot_markdown(rows, axes, "rejected").splitlines()[2:] == ["| fedavg | 3 |", "| median | 0 |"]
    assert pivot_markdown(rows, axes).splitlines()[2:] == ["| fedavg | 0.500 |", "| median | 0.250 |"]


def test_three_axes_keep_one_label_column_per_leading_axis_and_the_last_across():
    axes = [Axis("task.seed", ("1", "2")), Axis("task.aggregator", ("fedavg", "median")),
            Axis("trainers.1.behaviour", ("honest", "sign-flip", "ipm"))]
    rows = [{"vary": {"task.seed": s, "task.aggregator": a, "trainers.1.behaviour": b}, "final_accuracy": 0.5}
            for s in axes[0].values for a in axes[1].values for b in axes[2].values if b != "ipm" or s != "2"]
    rows[0] = {**rows[0], "error": "boom"}
    lines = pivot_markdown(rows, axes).splitlines()
    assert lines[0] == ("| task.seed | task.aggregator \\ trainers.1.behaviour (final_accuracy) "
                        "| honest | sign-flip | ipm |")
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2:] == ["| 1 | fedavg | failed | 0.500 | 0.500 |", "| 1 | median | 0.500 | 0.500 | 0.500 |",
                         "| 2 | fedavg | 0.500 | 0.500 |  |", "| 2 | median | 0.500 | 0.500 |  |"]


def test_six_axes_make_one_row_per_combination_of_the_first_five():
    axes = [Axis(f"k{i}", ("a", "b")) for i in range(5)] + [Axis("k5", ("x", "y", "z"))]
    lines = pivot_markdown([], axes).splitlines()
    assert lines[0].count("|") == 5 + 3 + 1 and len(lines) == 2 + 2 ** 5
    assert lines[2] == "| a | a | a | a | a |  |  |  |" and lines[-1] == "| b | b | b | b | b |  |  |  |"


def test_a_value_varied_twice_is_refused():
    assert parse_axis("task.seed=1, 2").values == ("1", "2")
    with pytest.raises(ConfigError, match="task.seed: --vary gives 2 more than once"):
        parse_axis("task.seed=1,2,2")
