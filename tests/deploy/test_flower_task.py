"""The shared task: each node's data, the server's pieces (evaluation, FLTrust root, strategy), and seeds."""

import dataclasses

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord

from fedstake.deploy.flower import make_strategy, read_run_config
from fedstake.deploy.flower.arrays import difference, layout_of, to_record, to_tensors
from fedstake.deploy.flower.server_app import central_evaluation, root_trainer
from fedstake.deploy.flower.task import (
    SERVER, TRAINER, dataset_of, eval_data, initial_model, model_of, run_seed, train_data, train_partitions,
)
from fedstake.errors import ConfigError, LearningError
from fedstake.learn.train import evaluate, local_train

TASK = read_run_config({"task.partition": "iid", "task.local-epochs": 1, "task.model": "logreg"}).task


@pytest.mark.parametrize("partition", ["iid", "dirichlet", "shards"])
def test_the_nodes_partitions_are_disjoint_and_cover_the_training_split(partition):
    task = read_run_config({"task.partition": partition}).task
    parts = train_partitions(task, 5)
    joined = np.concatenate(parts)
    assert len(joined) == len(np.unique(joined)) == len(dataset_of(task).y_train)


def test_a_node_gets_its_own_rows_and_an_equal_share_of_the_test_split():
    data = dataset_of(TASK)
    x, y = train_data(TASK, 1, 3)
    rows = train_partitions(TASK, 3)[1]
    assert torch.equal(x, data.x_train[rows]) and torch.equal(y, data.y_train[rows])
    sizes = [len(eval_data(TASK, i, 3)[1]) for i in range(3)]
    assert sum(sizes) == len(data.y_test) and max(sizes) - min(sizes) <= 1


def test_natural_partitions_need_one_node_per_user_and_an_unknown_rule_is_named():
    synthetic = read_run_config({"task.dataset": "synthetic", "task.partition": "natural"}).task
    with pytest.raises(ConfigError, match="one trainer per user"):
        train_partitions(synthetic, 4)
    with pytest.raises(ConfigError, match="task.partition: unknown partition 'by-label'"):
        train_partitions(read_run_config({"task.partition": "by-label"}).task, 4)


def test_seeds_are_stable_and_differ_by_role_round_and_partition():
    seeds = {run_seed(TASK, TRAINER, 1, 0), run_seed(TASK, TRAINER, 1, 1), run_seed(TASK, TRAINER, 2, 0),
             run_seed(TASK, SERVER, 1)}
    assert len(seeds) == 4 and run_seed(TASK, TRAINER, 1, 0) == run_seed(TASK, TRAINER, 1, 0)
    assert all(0 <= s < 2**63 for s in seeds)


def test_central_evaluation_scores_the_whole_test_split():
    module, spec = model_of(TASK)
    data, flat = dataset_of(TASK), initial_model(TASK)
    metrics = central_evaluation(TASK)(3, to_record(spec.unflatten(flat)))
    accuracy, loss = evaluate(module, spec, flat, data.x_test, data.y_test)
    assert dict(metrics) == {"accuracy": accuracy, "loss": loss}


def test_the_fltrust_root_is_the_tasks_training_on_the_validation_split():
    module, spec = model_of(TASK)
    data, flat = dataset_of(TASK), initial_model(TASK)
    root = to_tensors(root_trainer(TASK)(2, to_record(spec.unflatten(flat))))
    expected = local_train(module, spec, flat, data.x_val, data.y_val, TASK.training, seed=run_seed(TASK, SERVER, 2))
    assert torch.equal(spec.flatten(root), expected)


def test_the_fltrust_root_trains_for_root_epochs_as_the_simulators_validators_do():
    module, spec = model_of(TASK)
    data, flat = dataset_of(TASK), initial_model(TASK)
    root = to_tensors(root_trainer(TASK, epochs=3)(2, to_record(spec.unflatten(flat))))
    longer = dataclasses.replace(TASK.training, epochs=3)
    expected = local_train(module, spec, flat, data.x_val, data.y_val, longer, seed=run_seed(TASK, SERVER, 2))
    assert torch.equal(spec.flatten(root), expected) and TASK.training.epochs != 3


def test_the_strategy_is_built_from_the_run_config():
    settings = read_run_config({"task.aggregator": "fltrust", "screening.max-norm": 7, "flower.min-nodes": 3,
                                "flower.fraction-evaluate": 0.5})
    strategy = make_strategy(settings)
    assert strategy.aggregator.name == "fltrust" and strategy.root_train_fn is not None
    assert (strategy.max_norm, strategy.min_train_nodes, strategy.min_available_nodes) == (7.0, 3, 3)
    assert strategy.fraction_evaluate == 0.5
    assert make_strategy(read_run_config({"task.aggregator": "median"})).root_train_fn is None


def test_difference_and_combine_keep_unmatched_tensors_and_only_float32_models_have_a_layout():
    model = {"a": torch.ones(2), "b": torch.ones(3), "c": torch.ones(1, dtype=torch.float64)}
    reference = {"a": torch.full((2,), 0.25), "b": torch.zeros(2), "c": torch.zeros(1)}
    delta = difference(model, reference)
    assert torch.equal(delta["a"], torch.full((2,), 0.75)) and delta["b"] is model["b"] and delta["c"] is model["c"]
    with pytest.raises(LearningError, match="array 'c' is torch.float64"):
        layout_of(model)
    assert layout_of(to_tensors(ArrayRecord({"w": torch.zeros(2, 3)}))).shapes == ((2, 3),)
