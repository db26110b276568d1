"""The sweep's table names both axes and its metric; a metric it does not have is refused up front."""

import pytest

from fedstake.errors import ConfigError
from fedstake.sim.sweep import Axis, check_metric, pivot_markdown


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
