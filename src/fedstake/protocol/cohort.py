"""Cohort selection from the chain's round seed, weighted by stake and reputation.

Everyone can recompute the cohort from public data (the seed the
contract derives, the stakes and reputations it holds), so a
coordinator cannot quietly pick its friends.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping

import numpy as np


def seed_int(seed: bytes) -> int:
    """A 32-byte chain seed as a numpy seed."""
    return int.from_bytes(seed, "big")


def integer_root(value: int, n: int) -> int:
    """The largest integer r with r ** n <= value: exact on every machine, unlike a float power."""
    if value < 0 or n < 1:
        raise ValueError(f"integer_root needs value >= 0 and n >= 1, got {value}, {n}")
    if value < 2 or n == 1:
        return value
    root = 1 << -(-value.bit_length() // n)  # a power of two above the root: Newton descends from it
    while True:
        lower = ((n - 1) * root + value // root ** (n - 1)) // n
        if lower >= root:
            return root
        root = lower


def stake_power(stake: int, exponent: Fraction) -> int:
    """floor(stake ** exponent) for an exponent p/q in (0, 1], in integers: the q-th root of
    stake ** p. Sub-linear stake (exponent below 1) weakens compounding: a holder with k times
    the stake is drawn about k ** exponent times as often."""
    if exponent == 1:
        return stake
    return integer_root(stake ** exponent.numerator, exponent.denominator)


def selection_weight(stake: int, reputation: int, *, exponent: Fraction = Fraction(1)) -> float:
    """stake ** exponent x (1 + log2 reputation): reputation counts, with diminishing returns, so
    veterans are favoured without newcomers being starved; unregistered (0) is never picked.
    The default exponent 1 draws by stake itself (the same bytes as before the exponent)."""
    if reputation < 1 or stake <= 0:
        return 0.0
    return float(stake_power(stake, exponent)) * (1.0 + math.log2(reputation))


def select_cohort(round_seed: bytes, weights: Mapping[str, float], size: int) -> list[str]:
    """`size` distinct addresses drawn without replacement, probability proportional to weight.

    Candidates are sorted by address first so the draw depends only on
    the seed and the weights, never on the order they were listed in.
    """
    candidates = sorted(a for a, w in weights.items() if w > 0)
    if size >= len(candidates):
        return candidates
    stake = np.array([float(weights[a]) for a in candidates])
    rng = np.random.default_rng(seed_int(round_seed))
    picked = rng.choice(len(candidates), size=size, replace=False, p=stake / stake.sum())
    return sorted(candidates[i] for i in picked)
