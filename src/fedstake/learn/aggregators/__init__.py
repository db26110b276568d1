"""Aggregation rules: pure functions from stacked client updates to one update.

Inputs are a (clients x params) tensor in canonical client order (sorted
by trainer address); outputs are float32 updates the caller adds to the
global model. Every rule computes in float64 with canonical sums (see
`numerics`), so every validator gets the same bytes. `make_aggregator`
builds a rule from a scenario's name and `[aggregator]` parameters.
"""

from fedstake.learn.aggregators.bulyan import bulyan
from fedstake.learn.aggregators.clipping import CenteredClipping, centered_clipping
from fedstake.learn.aggregators.coordinate import coordinate_median, trimmed_mean
from fedstake.learn.aggregators.factory import AGGREGATOR_NAMES, Aggregator, Rule, make_aggregator
from fedstake.learn.aggregators.flame import flame, majority_cluster
from fedstake.learn.aggregators.fltrust import fltrust, trust_scores
from fedstake.learn.aggregators.krum import krum, krum_select, multi_krum
from fedstake.learn.aggregators.mean import fedavg, norm_bounded_mean
from fedstake.learn.aggregators.server_opt import (
    ServerOptimizer, ServerState, adagrad_step, adam_step, momentum_step, yogi_step,
)

__all__ = [
    "AGGREGATOR_NAMES", "Aggregator", "CenteredClipping", "Rule", "ServerOptimizer", "ServerState", "adagrad_step",
    "adam_step", "bulyan", "centered_clipping", "coordinate_median", "fedavg", "flame", "fltrust", "krum",
    "krum_select", "majority_cluster", "make_aggregator", "momentum_step", "multi_krum", "norm_bounded_mean",
    "trimmed_mean", "trust_scores", "yogi_step",
]
