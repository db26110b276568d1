"""The fedstake ServerApp: `FedstakeStrategy` over the task's model, evaluated centrally each round.

The run config (see `config`) names the task, the aggregator and its
parameters, the screening bound and Flower's sampling. The server holds
the test split for central evaluation and, for FLTrust, trains its root
update on the validation split, as fedstake's validators do with their
held-out data (`protocol.validator.Reference`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Mapping

from flwr.app import ArrayRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import Result

from fedstake.deploy.flower.arrays import to_record, to_tensors
from fedstake.deploy.flower.config import RunSettings, Scalar, TaskSettings, read_run_config
from fedstake.deploy.flower.history import claim_output, write_history
from fedstake.deploy.flower.strategy import FedstakeStrategy, RootTrainFn
from fedstake.deploy.flower.task import SERVER, dataset_of, initial_model, model_of, run_seed
from fedstake.errors import ConfigError
from fedstake.learn.aggregators import make_aggregator
from fedstake.learn.train import evaluate, local_train


def central_evaluation(task: TaskSettings) -> Callable[[int, ArrayRecord], MetricRecord]:
    """Accuracy and loss of a global model on the whole test split."""
    module, spec = model_of(task)
    data = dataset_of(task)

    def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        accuracy, loss = evaluate(module, spec, spec.flatten(to_tensors(arrays)), data.x_test, data.y_test)
        return MetricRecord({"accuracy": accuracy, "loss": loss})

    return evaluate_fn


def root_trainer(task: TaskSettings, *, epochs: int | None = None) -> RootTrainFn:
    """FLTrust's trusted training: the task's local training on the validation split, seeded per round,
    for `epochs` (aggregator.root-epochs, as the simulator's validators; None: the task's own)."""
    module, spec = model_of(task)
    data = dataset_of(task)
    training = task.training if epochs is None else dataclasses.replace(task.training, epochs=epochs)

    def root_train_fn(server_round: int, arrays: ArrayRecord) -> ArrayRecord:
        trained = local_train(module, spec, spec.flatten(to_tensors(arrays)), data.x_val, data.y_val,
                              training, seed=run_seed(task, SERVER, server_round))
        return to_record(spec.unflatten(trained))

    return root_train_fn


def make_strategy(settings: RunSettings) -> FedstakeStrategy:
    task, flower = settings.task, settings.flower
    root = None
    if task.aggregator == "fltrust":  # the validators' root-epochs, its default included
        epochs = make_aggregator(task.aggregator, settings.aggregator_params).params["root-epochs"]
        root = root_trainer(task, epochs=epochs)
    return FedstakeStrategy(
        task.aggregator, settings.aggregator_params, max_norm=settings.max_norm, root_train_fn=root,
        fraction_train=flower.fraction_train, fraction_evaluate=flower.fraction_evaluate,
        min_train_nodes=flower.min_nodes, min_evaluate_nodes=flower.min_nodes, min_available_nodes=flower.min_nodes,
    )


def wait_for_nodes(grid: Grid, needed: int, *, within_s: float, poll_s: float = 0.5) -> None:
    """Flower's sampling waits for `needed` nodes for ever (a local simulation with fewer nodes
    hangs silently); with a bound, a run that cannot start fails and says what to change."""
    deadline = time.monotonic() + within_s
    while (joined := len(list(grid.get_node_ids()))) < needed:
        if within_s and time.monotonic() >= deadline:
            raise ConfigError("flower.min-nodes", f"{joined} of the {needed} nodes joined within {within_s:g} s "
                              f"(flower.node-wait); start {needed} SuperNodes, or in a local simulation pass "
                              f"--federation-config num-supernodes={needed}")
        time.sleep(poll_s)


def run_server(grid: Grid, settings: RunSettings) -> Result:
    """All rounds of the task from its genesis model; writes the results when `flower.output-dir` is set
    (claimed first: a directory it may not write into fails before any node is waited for)."""
    task = settings.task
    out = claim_output(settings.flower.output_dir) if settings.flower.output_dir else None
    wait_for_nodes(grid, settings.flower.min_nodes, within_s=settings.flower.node_wait)
    strategy = make_strategy(settings)
    initial = to_record(model_of(task)[1].unflatten(initial_model(task)))
    result = strategy.start(grid, initial, num_rounds=task.rounds, evaluate_fn=central_evaluation(task))
    if out is not None:
        out.publish(lambda staging: write_history(staging, result, strategy))
    return result


def make_server_app(defaults: Mapping[str, Scalar] | None = None) -> ServerApp:
    """The ServerApp; `defaults` stand in for run config keys (run_simulation passes an empty run config)."""
    app, base = ServerApp(), dict(defaults or {})

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        run_server(grid, read_run_config({**base, **context.run_config}))

    return app


app = make_server_app()
