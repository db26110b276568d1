"""Validator consensus on contribution scores, after Bittensor's Yuma consensus.

Every validator scores every accepted trainer; no single validator may
decide what a trainer is paid. Following Yuma consensus (opentensor
subtensor, docs/consensus.md, eq. 3), the consensus score of trainer j is

    c_j = max { w : stake of validators i with W_ij >= w  >=  kappa * total stake },

the score that a kappa-share of stake supports (for kappa = 0.5 the upper
stake-weighted median). Each validator's scores are clipped to the
consensus, trainers are paid by the stake-weighted clipped scores, and a
validator's trust is the share of its score mass that survived
clipping. A validator that over-scores a colluding trainer, or scores at
random, loses the clipped excess from its trust.

Validators are paid by their agreement, not their trust. Trust rewards a
flat guess: when honest trainers contribute alike the consensus is nearly
flat, and uniform noise keeps most of its mass under it (measured: a
random validator's trust 0.6 against honest 0.7-0.9 under GTG-Shapley,
where it out-earned honest validators, issue 12). The agreement is the
trust times the smaller of two Pearson correlations of a validator's
normalised row, both signed (a row ranking trainers backwards agrees
negatively, and pays back the bond a lucky round gave it):

- ranking: with the consensus. It ignores scale (normalising already
  does) and level, and asks whether the validator ranks trainers as the
  consensus does: noise correlates with nothing. The trust keeps what
  clipping alone catches: an inflated friend's excess mass.
- news: of the row's departure from the `prior` (last round's consensus,
  public before anyone scores) with the consensus's departure from it.
  A validator that reports the prior (Bittensor's weight copying, the
  `lazy-copy` behaviour) departs from it by nothing and agrees with no
  news; commit-reveal cannot stop that copy, since the prior is public.
  Last round's consensus, a stake-weighted median, predicts this round's
  better than one honest validator's own small validation slice does, so
  ranking alone paid the copier more than honest validators (2-4x under
  the marginal scorers); an honest validator's departure carries what it
  measured this round, which moves the consensus. Without a prior (the
  first round) the prior is flat and news is the ranking.

Where the consensus does not vary (one trainer, all alike), or does not
depart from the prior, there is nothing to rank, and that correlation is
1 (the agreement is the trust). Measured on validator-consensus.toml
(cohort 10, 20 rounds, seeds 1-5, benchmarks/validator_pay.py; README).

Exactness. The support of a level w is a non-increasing step function of
w, constant between consecutive reported scores, so the largest
supported w is itself a reported score: sort the column from the top and
take the first score at which the cumulative stake reaches kappa * total.
Ties need no rule: tied validators all support the same level, so
whichever comes first in the sort, the level read off is the same. The
comparison "cumulative stake >= kappa * total" is made in exact integers
(stakes and kappa are converted to fractions of their exact binary
values), so a validator holding exactly kappa of the stake does support a
level - "at least kappa" is inclusive - and no float rounding in a
cumulative sum moves a boundary. With kappa >= 0.5 and two halves of the
stake disagreeing, the higher half's score is the consensus.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from typing import Mapping, Sequence
from math import fsum, lcm

import numpy as np

from fedstake.errors import ConfigError, LearningError


@dataclass(frozen=True)
class Consensus:
    """One round's consensus: what trainers and validators are paid by."""

    consensus: np.ndarray  # (N,) kappa-supported score of each trainer
    clipped: np.ndarray  # (V, N) each validator's normalised scores, clipped to the consensus
    trainer_weights: np.ndarray  # (N,) stake-weighted clipped scores, summing to 1 (or all zero)
    validator_trust: np.ndarray  # (V,) share of each validator's score mass that survived clipping
    validator_agreement: np.ndarray  # (V,) trust x min(ranking, news) correlation, in [-1, 1]
    validator_weights: np.ndarray  # (V,) stake x agreement (0 where negative), summing to 1 (or all zero)


def consensus(scores: np.ndarray, stakes: Sequence[float], *, kappa: float = 0.5,
              prior: np.ndarray | None = None) -> Consensus:
    """Yuma-style consensus of a (validators x trainers) score matrix under validator stakes;
    `prior` (per trainer, `prior_levels`) is what anyone could report without scoring."""
    table, stake = _checked(scores, stakes, kappa)
    normalised = normalise_rows(table)
    agreed = supported_levels(normalised, stakes, kappa=kappa)
    clipped = np.minimum(normalised, agreed[None, :])
    mass = row_sums(normalised)
    trust = np.divide(row_sums(clipped), mass, out=np.zeros_like(mass), where=mass > 0)
    ones = np.ones_like(trust)
    if prior is not None and len(prior) != len(agreed):
        raise LearningError(f"prior has {len(prior)} levels for {len(agreed)} trainers")
    base = np.full(len(agreed), 1 / max(len(agreed), 1)) if prior is None else _unit(np.asarray(prior, np.float64))
    ranking = agreement_with(normalised, agreed, fallback=ones)
    news = agreement_with(normalised - base[None, :], _unit(agreed) - base, fallback=ones)
    agreement = trust * np.minimum(ranking, news)
    return Consensus(
        consensus=agreed,
        clipped=clipped,
        trainer_weights=_to_unit_sum(row_sums((stake[:, None] * clipped).T)),
        validator_trust=trust,
        validator_agreement=agreement,
        validator_weights=_to_unit_sum(stake * np.maximum(agreement, 0.0)),  # a disagreeing row weighs nothing
    )


def agreement_with(rows: np.ndarray, target: np.ndarray, *, fallback: np.ndarray) -> np.ndarray:
    """Pearson correlation (in [-1, 1]) of each row with `target`; `fallback` where `target` is
    constant (or empty), and 0 for a constant row against a varying target (it ranks no one).

    Sums are correctly rounded (`row_sums`), so the result does not depend on trainer order.
    """
    n = rows.shape[1]
    if n == 0:
        return fallback.copy()
    centred_target = target - fsum(target) / n
    spread = fsum(centred_target**2)
    if spread <= 1e-24 * max(fsum(target**2), 1e-300):
        return fallback.copy()
    centred = rows - (row_sums(rows) / n)[:, None]
    norms = np.sqrt(row_sums(centred**2) * spread)
    covariance = row_sums(centred * centred_target[None, :])
    corr = np.divide(covariance, norms, out=np.zeros_like(covariance), where=norms > 0)
    return np.clip(corr, -1.0, 1.0)


def prior_levels(prior: Mapping[str, float], trainers: Sequence[str]) -> np.ndarray | None:
    """Last round's consensus over this round's `trainers`, as a copier would report it: a
    trainer it does not name gets the mean of what it names; None without a prior."""
    if not prior:
        return None
    fill = fsum(prior.values()) / len(prior)
    return np.array([max(float(prior.get(t, fill)), 0.0) for t in trainers], dtype=np.float64)


def _unit(levels: np.ndarray) -> np.ndarray:
    """`levels` scaled to sum 1 (flat if they sum to nothing), to compare departures on one scale."""
    total = fsum(levels)
    return levels / total if total > 0 else np.full(len(levels), 1 / max(len(levels), 1))


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Negative scores to zero, then each row to sum 1; an all-zero row stays zero.

    Normalising makes a validator's scores a budget it distributes: scoring
    one trainer higher means scoring the others lower, so inflating a
    friend costs the honest trainers' share of that validator's trust.
    """
    positive = np.where(scores > 0, scores, 0.0)
    totals = row_sums(positive)[:, None]
    return np.divide(positive, totals, out=np.zeros_like(positive), where=totals > 0)


def row_sums(matrix: np.ndarray) -> np.ndarray:
    """Correctly rounded row sums (math.fsum): independent of the order of the entries,
    so relabelling trainers or validators changes no bit of any result."""
    return np.array([fsum(row) for row in matrix], dtype=np.float64).reshape(len(matrix))


def supported_levels(scores: np.ndarray, stakes: Sequence[float], *, kappa: float) -> np.ndarray:
    """Per column, the largest score that validators holding >= kappa of the stake reach.

    Integer stakes (token base units, past 2**53) are compared exactly as given.
    """
    units = _exact_units(stakes)
    share = Fraction(kappa)
    threshold = share.numerator * sum(units)
    levels = np.empty(scores.shape[1], dtype=np.float64)
    for j, column in enumerate(scores.T):
        order = np.argsort(-column, kind="stable")
        reached = list(accumulate(units[i] * share.denominator for i in order))
        levels[j] = column[order[bisect_left(reached, threshold)]]
    return levels


def _exact_units(stakes: Sequence[float]) -> list[int]:
    """Stakes as integers on a common scale: integers as they are, floats at their exact binary values."""
    fractions = [Fraction(int(s)) if isinstance(s, (int, np.integer)) else Fraction(float(s)) for s in stakes]
    scale = lcm(*(f.denominator for f in fractions))
    return [int(f * scale) for f in fractions]


def _to_unit_sum(values: np.ndarray) -> np.ndarray:
    total = fsum(values)
    return values / total if total > 0 else np.zeros_like(values)


def _checked(scores: np.ndarray, stakes: Sequence[float], kappa: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < kappa <= 1:
        raise ConfigError("proof.kappa", f"must be in (0, 1], got {kappa}")
    table = np.asarray(scores, dtype=np.float64)
    stake = np.asarray(stakes, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise LearningError(f"scores must be (validators x trainers) with a validator, got shape {table.shape}")
    if stake.shape != (table.shape[0],):
        raise LearningError(f"stakes must have shape ({table.shape[0]},), got {stake.shape}")
    if not (np.isfinite(table).all() and np.isfinite(stake).all()):
        raise LearningError("scores and stakes must be finite")
    if (stake < 0).any() or stake.sum() <= 0:
        raise LearningError(f"stakes must be non-negative with a positive total, got {stake.tolist()}")
    return table, stake
