"""Sybil and free-rider defence: FoolsGold similarity weights, and what identities cost.

FoolsGold (Fung, Yoon and Beschastnikh, "The Limitations of Federated
Learning in Sybil Settings", RAID 2020, Algorithm 1) rests on one
observation: identities run by one attacker push the model towards one
goal, so their update histories point the same way, while honest clients
with their own data drift apart. From each identity's history H_i (the
sum of its updates so far):

1. cs_ij = cos(H_i, H_j) for i != j, and v_i = max_j cs_ij;
2. pardoning: if v_j > v_i, cs_ij *= v_i / v_j, so an honest client that
   happens to resemble a sybil is not punished as hard as the sybils;
3. alpha_i = 1 - max_j cs_ij, rescaled so the most distinct identity has 1;
4. weight_i = clip(kappa * (ln(alpha_i / (1 - alpha_i)) + 0.5), 0, 1), with
   alpha capped at 0.99 (the authors' code) so the most distinct
   identity's logit is finite; kappa is the paper's confidence.

Choices where the paper or its code leaves a gap, documented here:
- Negative similarities count as 0. Opposition is no evidence of cloning,
  and it keeps pardoning's ratio v_i / v_j in [0, 1]: with a negative v_i
  the authors' code would flip the sign of cs_ij and turn opposition into
  similarity.
- An identity whose history is all zeros has contributed nothing: its
  weight is 0 (a free-rider sending zero updates), and it counts as
  similar to no one, so it cannot drag anyone else down.
- If every identity has alpha 0 (all clones of each other) every weight is
  0, where the authors' code would divide by zero.
- The feature-importance mask of the paper's section 5 is left out: it
  needs the model's output layer, and histories here are flat vectors.

A limitation to know: honest clients with near-IID data also have similar
histories; the rescaling in step 3 makes the test relative (the most
distinct identity sets the scale), but a cohort of identical honest
clients is indistinguishable from a cohort of clones.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import numpy as np

from fedstake.errors import ConfigError, LearningError

ALPHA_CAP = 0.99  # the authors' code: keeps the logit of the most distinct identity finite


def foolsgold_weights(histories: np.ndarray, *, confidence: float = 1.0) -> np.ndarray:
    """Per identity a weight in [0, 1]: near 0 for clones of another identity, near 1 for distinct ones."""
    h = _checked(histories, confidence)
    return _foolsgold(h, cosine_similarities(h), confidence)


def _foolsgold(h: np.ndarray, similar: np.ndarray, confidence: float) -> np.ndarray:
    """Steps 2-4 from the histories' `cosine_similarities`."""
    alpha = 1.0 - pardon(similar).max(axis=1, initial=0.0)
    alpha[~h.any(axis=1)] = 0.0
    top = alpha.max(initial=0.0)
    if top <= 0:
        return np.zeros(len(h))
    return logit_weights(alpha / top, confidence=confidence)


def clone_weights(histories: np.ndarray, *, clone_similarity: float = 0.9, confidence: float = 1.0) -> np.ndarray:
    """FoolsGold applied only where it is evidence: on each identity's history minus the cohort's
    mean history, and only to identities whose residual is near-identical to another's
    (cosine >= clone_similarity); every other identity keeps weight 1.

    Raw FoolsGold is relative: early in a task honest updates all point down the same slope, and
    on non-IID data trainers with the same dominant classes stay correlated, so the rescaling cuts
    honest identities that merely resemble each other more than the rest. Clones stay identical
    once the common part is removed, and only they are cut."""
    h = _checked(histories, confidence)
    if len(h) < 2:
        return np.ones(len(h))
    residual = h - h.mean(axis=0)  # what sets an identity apart: every honest history shares the descent
    similar = cosine_similarities(residual)  # the diagonal is 0: an identity is never its own clone
    suspects = similar.max(axis=1) >= clone_similarity
    return np.where(suspects, _foolsgold(residual, similar, confidence), 1.0)


def cosine_similarities(histories: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity, negative values and the diagonal set to 0, zero rows similar to none."""
    norms = np.linalg.norm(histories, axis=1, keepdims=True)
    unit = np.divide(histories, norms, out=np.zeros_like(histories), where=norms > 0)
    similar = np.clip(unit @ unit.T, 0.0, 1.0)
    np.fill_diagonal(similar, 0.0)
    return similar


def pardon(similar: np.ndarray) -> np.ndarray:
    """cs_ij *= v_i / v_j wherever v_j > v_i: similarity to a more sybil-like identity counts less."""
    v = similar.max(axis=1, initial=0.0)
    mine, theirs = v[:, None], v[None, :]
    ratio = np.divide(mine, theirs, out=np.ones_like(similar), where=theirs > mine)
    return similar * ratio


def logit_weights(alpha: np.ndarray, *, confidence: float) -> np.ndarray:
    """kappa * (ln(alpha / (1 - alpha)) + 0.5), clipped to [0, 1]; alpha 0 gives 0."""
    capped = np.minimum(alpha, ALPHA_CAP)
    with np.errstate(divide="ignore"):
        logit = np.log(capped / (1.0 - capped))
    return np.clip(confidence * (logit + 0.5), 0.0, 1.0)


def attack_stake(cohort_size: int, fraction: float, min_stake: int) -> int:
    """Stake an attacker locks to field `fraction` of a cohort of `cohort_size` identities.

    Every identity must hold `min_stake` to be selected, so f of a cohort of
    n costs k * min_stake with k the smallest count whose share k / n
    reaches f: linear in f, and sybils buy no discount. (This is the floor:
    where selection is weighted by stake, the expected share of the cohort
    is the share of stake, and holding f of it costs f / (1 - f) times the
    honest stake.) The share is compared as the float k / n, so a fraction
    written as 0.1 of 10, or computed as 1 / 33 of 33, is one identity.
    """
    if cohort_size < 1:
        raise ConfigError("task.clients-per-round", f"must be at least 1, got {cohort_size}")
    if not 0 <= fraction <= 1:
        raise ConfigError("sybil.fraction", f"must be in [0, 1], got {fraction}")
    if min_stake < 0:
        raise ConfigError("chain.min-stake", f"must be non-negative, got {min_stake}")
    identities = ceil(Fraction(fraction) * cohort_size)
    while identities > 0 and (identities - 1) / cohort_size >= fraction:
        identities -= 1
    return identities * min_stake


def _checked(histories: np.ndarray, confidence: float) -> np.ndarray:
    if not confidence > 0:
        raise ConfigError("proof.foolsgold-confidence", f"must be positive, got {confidence}")
    h = np.asarray(histories, dtype=np.float64)
    if h.ndim != 2:
        raise LearningError(f"histories must be (identities x parameters), got shape {h.shape}")
    if not np.isfinite(h).all():
        raise LearningError("histories must be finite")
    return h
