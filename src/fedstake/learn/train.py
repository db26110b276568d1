"""Local training: plain SGD from the global model, step by step.

Training is written as a data order plus single SGD steps so that a
transcript can record checkpoints between steps and a challenger can
re-execute any segment from them. Every random choice (the data order)
comes from an explicit seed.

Checkpoints are opt-in: `local_train(..., checkpoint_every=k,
on_checkpoint=f)` calls `f(step, params)` after steps 0 (the global
model), k, 2k, ... and the last. Learning hands over the parameters and
knows nothing of hashes; the proof layer decides what to keep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.functional import cross_entropy

from fedstake.errors import ConfigError, LearningError
from fedstake.learn.models import ParamSpec


@dataclass(frozen=True)
class LocalTraining:
    """Hyperparameters of one trainer's local work in one round."""

    epochs: int
    batch_size: int
    learning_rate: float
    proximal_mu: float = 0.0

    def __post_init__(self) -> None:
        checks = (("task.local-epochs", self.epochs, self.epochs >= 1, "at least 1"),
                  ("task.batch-size", self.batch_size, self.batch_size >= 1, "at least 1"),
                  ("task.learning-rate", self.learning_rate, self.learning_rate > 0, "positive"),
                  ("task.proximal-mu", self.proximal_mu, self.proximal_mu >= 0, "non-negative"))
        for key, value, ok, need in checks:
            if not ok:
                raise ConfigError(key, f"must be {need}, got {value}")


def sample_order(num_samples: int, cfg: LocalTraining, *, seed: int) -> torch.Tensor:
    """Every sample index of a round in the order training uses them: one permutation per epoch."""
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([torch.randperm(num_samples, generator=generator) for _ in range(cfg.epochs)])


def steps_per_round(num_samples: int, cfg: LocalTraining) -> int:
    """SGD steps in a round: each epoch's permutation cut every batch_size, its last batch short."""
    return cfg.epochs * -(-num_samples // cfg.batch_size)


def batch_order(num_samples: int, cfg: LocalTraining, *, seed: int) -> list[torch.Tensor]:
    """The mini-batches (index tensors) of a round, in order: reshuffled each epoch."""
    epochs = sample_order(num_samples, cfg, seed=seed).split(num_samples)
    return [batch for order in epochs for batch in order.split(cfg.batch_size)]


def proximal_term(params: torch.Tensor, anchor: torch.Tensor, cfg: LocalTraining) -> torch.Tensor:
    """FedProx's (mu / 2) * ||w - w_global||^2: keeps local models near the global one."""
    if cfg.proximal_mu == 0:
        return params.new_zeros(())
    return 0.5 * cfg.proximal_mu * torch.sum((params - anchor) ** 2)


def sgd_step(
    module: nn.Module,
    spec: ParamSpec,
    params: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: LocalTraining,
    anchor: torch.Tensor,
) -> torch.Tensor:
    """One SGD step on one batch; with `proximal_mu` > 0 it is FedProx's step."""
    params = params.detach().requires_grad_(True)
    loss = cross_entropy(functional_call(module, spec.unflatten(params), (x,)), y) + proximal_term(params, anchor, cfg)
    (grad,) = torch.autograd.grad(loss, params)
    return (params - cfg.learning_rate * grad).detach()


Recorder = Callable[[int, torch.Tensor], None]  # (step, parameters after that many steps)


def num_steps(num_samples: int, cfg: LocalTraining) -> int:
    """SGD steps of a round on `num_samples` samples: epochs x batches per epoch."""
    return cfg.epochs * math.ceil(num_samples / cfg.batch_size)


def checkpoint_steps(total_steps: int, interval: int) -> list[int]:
    """The steps a transcript records the parameters after: 0 (the global model), every `interval`, the last."""
    if interval < 1:
        raise LearningError(f"checkpoint interval must be at least 1 step, got {interval}")
    return sorted({*range(0, total_steps, interval), total_steps})


def checkpointing(every: int | None, on_checkpoint: Callable | None) -> bool:
    """Whether checkpoints are on; the interval and the callback come together or not at all."""
    if (every is None) != (on_checkpoint is None):
        raise LearningError("checkpoint_every and on_checkpoint go together: give both or neither")
    return every is not None


def training_steps(
    module: nn.Module,
    spec: ParamSpec,
    global_params: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: LocalTraining,
    *,
    seed: int,
) -> Iterator[torch.Tensor]:
    """The parameters after 0, 1, 2, ... SGD steps: the global model first, the trained model last."""
    params = global_params.detach().clone()
    yield params
    for batch in batch_order(len(y), cfg, seed=seed):
        params = sgd_step(module, spec, params, x[batch], y[batch], cfg, global_params)
        yield params


def local_train(
    module: nn.Module,
    spec: ParamSpec,
    global_params: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: LocalTraining,
    *,
    seed: int,
    checkpoint_every: int | None = None,
    on_checkpoint: Recorder | None = None,
) -> torch.Tensor:
    """The trainer's new parameters after `cfg.epochs` epochs of SGD on (x, y).

    With `checkpoint_every`, `on_checkpoint(step, params)` sees the parameters
    at each of `checkpoint_steps(num_steps(len(y), cfg), checkpoint_every)`.
    """
    wanted: set[int] = set()
    if checkpointing(checkpoint_every, on_checkpoint):
        wanted = set(checkpoint_steps(num_steps(len(y), cfg), checkpoint_every))
    for step, params in enumerate(training_steps(module, spec, global_params, x, y, cfg, seed=seed)):
        if step in wanted:
            on_checkpoint(step, params)
    return params


def local_checkpoints(
    module: nn.Module,
    spec: ParamSpec,
    global_params: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: LocalTraining,
    *,
    seed: int,
    interval: int,
) -> list[torch.Tensor]:
    """`local_train`'s parameters at each checkpoint step: the global model first, the trained model last."""
    kept: list[torch.Tensor] = []
    local_train(module, spec, global_params, x, y, cfg, seed=seed, checkpoint_every=interval,
                on_checkpoint=lambda step, params: kept.append(params))
    return kept


@torch.no_grad()
def evaluate(
    module: nn.Module, spec: ParamSpec, params: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of `params` on (x, y)."""
    logits = functional_call(module, spec.unflatten(params), (x,))
    accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return accuracy, cross_entropy(logits, y).item()
