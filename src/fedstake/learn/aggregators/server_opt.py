"""Server optimisers: FedAvgM, FedAdam, FedYogi, FedAdagrad (Reddi et al. 2021, Algorithm 2).

The round's sample-weighted FedAvg delta is a pseudo-gradient the server
feeds to its own optimiser (or, for FLTrust with server momentum, FLTrust's
aggregate: a robust rule's output is a pseudo-gradient too). The maths are pure step functions,
(state, delta) -> (new state, update); `ServerOptimizer` holds the
settings and the state between rounds. As in the paper, m starts at 0,
v at tau^2, and there is no Adam bias correction (Flower 1.41's FedAdam
adds one, so its first rounds differ). All state is float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from fedstake.errors import LearningError
from fedstake.learn.aggregators.mean import fedavg
from fedstake.learn.aggregators.settings import as_params


@dataclass(frozen=True)
class ServerState:
    """What the server carries between rounds: first moment m (FedAvgM's momentum buffer), second moment v."""

    m: torch.Tensor
    v: torch.Tensor | None = None


Step = Callable[[ServerState | None, torch.Tensor], tuple[ServerState, torch.Tensor]]
# The round's pseudo-gradient from (updates, weights, root update): FedAvg's by default.
Delta = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


def _delta(state: ServerState | None, delta: torch.Tensor) -> torch.Tensor:
    if state is not None and state.m.shape != delta.shape:
        raise LearningError(f"server optimiser state has shape {tuple(state.m.shape)}, "
                            f"the round's update {tuple(delta.shape)}")
    return delta.to(torch.float64)


def momentum_step(state: ServerState | None, delta: torch.Tensor, *, server_learning_rate: float,
                  momentum: float) -> tuple[ServerState, torch.Tensor]:
    """FedAvgM (Hsu et al. 2019): m = momentum * m + delta; the update is server_learning_rate * m."""
    d = _delta(state, delta)
    m = d if state is None else momentum * state.m + d
    return ServerState(m), (server_learning_rate * m).to(torch.float32)


def _adaptive_step(state: ServerState | None, delta: torch.Tensor, second_moment: Callable[..., torch.Tensor], *,
                   server_learning_rate: float, beta1: float, tau: float) -> tuple[ServerState, torch.Tensor]:
    d = _delta(state, delta)
    if state is None:
        state = ServerState(torch.zeros_like(d), torch.full_like(d, tau * tau))
    m = beta1 * state.m + (1 - beta1) * d
    v = second_moment(state.v, d * d)
    return ServerState(m, v), (server_learning_rate * m / (v.sqrt() + tau)).to(torch.float32)


def adam_step(state: ServerState | None, delta: torch.Tensor, *, server_learning_rate: float, beta1: float,
              beta2: float, tau: float) -> tuple[ServerState, torch.Tensor]:
    """FedAdam: v = beta2 * v + (1 - beta2) * delta^2."""
    return _adaptive_step(state, delta, lambda v, g2: beta2 * v + (1 - beta2) * g2,
                          server_learning_rate=server_learning_rate, beta1=beta1, tau=tau)


def yogi_step(state: ServerState | None, delta: torch.Tensor, *, server_learning_rate: float, beta1: float,
              beta2: float, tau: float) -> tuple[ServerState, torch.Tensor]:
    """FedYogi: v = v - (1 - beta2) * delta^2 * sign(v - delta^2), so v grows only additively."""
    return _adaptive_step(state, delta, lambda v, g2: v - (1 - beta2) * g2 * torch.sign(v - g2),
                          server_learning_rate=server_learning_rate, beta1=beta1, tau=tau)


def adagrad_step(state: ServerState | None, delta: torch.Tensor, *, server_learning_rate: float, beta1: float,
                 tau: float) -> tuple[ServerState, torch.Tensor]:
    """FedAdagrad: v = v + delta^2."""
    return _adaptive_step(state, delta, lambda v, g2: v + g2,
                          server_learning_rate=server_learning_rate, beta1=beta1, tau=tau)


class ServerOptimizer:
    """Settings and state of one server optimiser; each call is one round's step.

    The state advances on every call, so give each validator its own
    instance and call it exactly once per aggregated round.
    """

    def __init__(self, name: str, settings: object, step: Step, delta: Delta | None = None) -> None:
        self.name = name
        self.settings = settings
        self.state: ServerState | None = None
        self._step = step
        self._delta = delta or (lambda updates, weights, root: fedavg(updates, weights, rule=name))
        self.min_updates = 1

    @property
    def params(self) -> Mapping[str, float | int | None]:
        return as_params(self.settings)

    def __call__(self, updates: torch.Tensor, weights: torch.Tensor, *,
                 root_update: torch.Tensor | None = None) -> torch.Tensor:
        """The server's update for this round, from the round's pseudo-gradient (FedAvg's delta, or
        the robust rule's this optimiser wraps, which may use `root_update`)."""
        self.state, update = self._step(self.state, self._delta(updates, weights, root_update))
        return update
