"""A FLAME-style rule (Nguyen et al., USENIX Security 2022): cluster by direction, clip to the median norm.

FLAME keeps the majority cluster of the updates' pairwise cosine distances
(HDBSCAN with min_cluster_size = n/2 + 1, min_samples = 1), clips every
kept update to the median norm of all updates, averages them and adds
noise. Updates that point elsewhere (sign flips, noise, inner-product
manipulation) fall out of the cluster as noise and are dropped; ones that
point right but are large (scaling) are clipped. The noise,
which serves backdoor removal and would need a round seed here, is left
out. Unweighted: a sample count is a claim.
"""

from __future__ import annotations

import numpy as np
import torch

from fedstake.learn.aggregators.coordinate import median_of_sorted
from fedstake.learn.aggregators.numerics import check_updates, mean_rows, row_norms, tree_sum


def cosine_distances(x: torch.Tensor) -> torch.Tensor:
    """(n x n) 1 - cosine similarity in float64, canonical sums; a zero update is at distance 1 from all."""
    norms = row_norms(x)
    unit = torch.where(norms[:, None] > 0, x / norms.clamp(min=torch.finfo(torch.float64).tiny)[:, None], 0.0)
    n = len(x)
    similarity = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        similarity[i] = tree_sum(unit * unit[i], dim=1)
    similarity = (similarity + similarity.T) / 2  # exactly symmetric
    return (1 - similarity).clamp(min=0.0).fill_diagonal_(0.0)


def majority_cluster(distances: torch.Tensor) -> list[int]:
    """The members, ascending, of HDBSCAN's largest cluster (min_cluster_size n/2 + 1, min_samples 1,
    one cluster allowed, as FLAME sets it) on precomputed distances; every update when HDBSCAN
    finds none (all noise, or fewer than three updates: nothing to outvote).

    HDBSCAN on a precomputed matrix is a deterministic function of the
    distances, which are canonical, so validators agree on the members.
    """
    from sklearn.cluster import HDBSCAN  # scikit-learn and scipy cost ~0.7 s: only runs that use FLAME load them

    n = len(distances)
    if n < 3:
        return list(range(n))
    labels = HDBSCAN(min_cluster_size=n // 2 + 1, min_samples=1, metric="precomputed",
                     allow_single_cluster=True, copy=True).fit(distances.numpy()).labels_
    if not (labels >= 0).any():
        return list(range(n))
    biggest = np.bincount(labels[labels >= 0]).argmax()
    return [int(i) for i in np.flatnonzero(labels == biggest)]


def flame(updates: torch.Tensor) -> torch.Tensor:
    """Mean of the majority cluster's updates, each clipped to the median norm of all updates."""
    x = check_updates("flame", updates)
    kept = x[majority_cluster(cosine_distances(x))]
    norms = row_norms(x)
    bound = median_of_sorted(torch.sort(norms).values)
    kept_norms = row_norms(kept)
    scale = torch.where(kept_norms > bound, bound / kept_norms.clamp(min=torch.finfo(torch.float64).tiny), 1.0)
    return mean_rows(scale[:, None] * kept).to(torch.float32)
