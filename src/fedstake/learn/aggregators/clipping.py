"""Centered clipping with momentum (Karimireddy, He and Jaggi, ICML 2021).

"Learning from History for Byzantine Robust Optimization": start from last
round's aggregate v and repeat v <- v + mean_i clip(x_i - v, tau), where
clip scales a vector down to norm tau. One attacker moves v by at most
tau / n per step however large its update, and starting from history means
a slow, consistent attack (ALIE, IPM) must first undo the momentum of every
round before. Unweighted, as in the paper: a sample count is a claim.

The radius follows the round unless set: the assumed attackers are the
farthest updates from v, so tau is the distance of the farthest of the
rest (`share_radius`). Honest updates are then never clipped while the
attackers are at most as many as assumed, and each attacker weighs no more
than the honest update farthest from the consensus.
"""

from __future__ import annotations

from typing import Mapping

import torch

from fedstake.errors import LearningError
from fedstake.learn.aggregators.numerics import check_updates, check_vector, check_weights, mean_rows, row_norms
from fedstake.learn.aggregators.settings import ClippingSettings, as_params


def share_radius(distances: torch.Tensor, *, attacker_share: float) -> torch.Tensor:
    """The k-th smallest distance, k = n - floor(share x n): the farthest once the assumed attackers
    (the floor(share x n) farthest) are set aside."""
    n = len(distances)
    return torch.sort(distances).values[n - 1 - int(attacker_share * n)]


def clip_step(x: torch.Tensor, center: torch.Tensor, *, radius: float | None, attacker_share: float) -> torch.Tensor:
    """One step: center + mean_i clip(x_i - center, tau); tau from the share when `radius` is None."""
    diff = x - center
    distances = row_norms(diff)
    tau = share_radius(distances, attacker_share=attacker_share) if radius is None else torch.tensor(radius)
    scale = torch.where(distances > tau, tau.to(torch.float64) / distances.clamp(min=torch.finfo(torch.float64).tiny),
                        1.0)
    return center + mean_rows(scale[:, None] * diff)


def centered_clipping(updates: torch.Tensor, *, center: torch.Tensor | None, iterations: int,
                      radius: float | None = None, attacker_share: float) -> torch.Tensor:
    """`iterations` clipping steps from `center` (zeros when None: the first round); float64."""
    x = check_updates("centered-clipping", updates)
    if iterations < 1:
        raise LearningError(f"centered clipping needs at least one iteration, got {iterations}")
    v = torch.zeros(x.shape[1], dtype=torch.float64) if center is None else \
        check_vector("centered-clipping", "center", center, x.shape[1])
    for _ in range(iterations):
        v = clip_step(x, v, radius=radius, attacker_share=attacker_share)
    return v


class CenteredClipping:
    """The rule with its settings and its history: the last aggregate, where the next round starts.

    Like the server optimisers it advances on every call, so each validator
    needs its own instance, called once per aggregated round; `state` is what
    a validator process saves between rounds.
    """

    name = "centered-clipping"
    min_updates = 1

    def __init__(self, settings: ClippingSettings) -> None:
        self.settings = settings
        self.state: torch.Tensor | None = None

    @property
    def params(self) -> Mapping[str, float | int | None]:
        return as_params(self.settings)

    def __call__(self, updates: torch.Tensor, weights: torch.Tensor, *,
                 root_update: torch.Tensor | None = None) -> torch.Tensor:
        """This round's update; the weights are checked but play no part, `root_update` is ignored."""
        check_weights(self.name, weights, len(check_updates(self.name, updates)))
        s = self.settings
        self.state = centered_clipping(updates, center=self.state, iterations=s.iterations, radius=s.clip_radius,
                                       attacker_share=s.attacker_share)
        return self.state.to(torch.float32)
