"""Reward rules: from a round's accepted contributions to token amounts.

Amounts are integers in base units and never exceed the round budget;
shares are computed in exact rational arithmetic (token amounts reach
1e22, beyond a float's precision), and the remainder of the rounding
stays in escrow and is refunded.

A round's budget is split between trainers and validators
(`split_budget`). Trainers are paid by a rule (`allocate`) from their
consensus contribution scores: whatever the rule, a trainer the
validators' consensus scores at zero or below earns nothing, so a
free-rider or an attacker that made the model worse is never paid.
Validators are paid by their consensus weights (`validator_rewards`):
stake times agreement with the consensus.
"""

from __future__ import annotations

from fractions import Fraction
from math import isfinite
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

from fedstake.errors import ConfigError, ProtocolError

_EMPTY: Mapping[str, int] = MappingProxyType({})
LOG2_BITS = 64  # fractional bits of the reputation factor's binary logarithm


def proportional(weights: Mapping[str, float], budget: int) -> dict[str, int]:
    """Split `budget` in proportion to the weights; zero or negative weight earns zero."""
    positive = {who: Fraction(w) for who, w in weights.items() if w > 0}
    total = sum(positive.values(), Fraction(0))
    out = {who: 0 for who in weights}
    if budget <= 0 or total <= 0:
        return out
    for who, w in positive.items():
        out[who] = int(budget * w / total)
    return out


def by_samples(samples: Mapping[str, int], budget: int) -> dict[str, int]:
    """The foundation rule: each accepted trainer's share is its sample count's share."""
    return proportional(samples, budget)


def round_budget(total_budget: int, rounds: int) -> int:
    """Budget released each round: an even split, rounding down."""
    return total_budget // rounds


def split_budget(budget: int, *, validator_share: float) -> tuple[int, int]:
    """(trainer budget, validator budget): the validators' part rounds down, the two add up to `budget`.

    The share is read as the decimal it prints as (0.3 is 3/10, not the
    binary 0.29999...), since it comes from a scenario file.
    """
    if not 0 <= validator_share <= 1:
        raise ConfigError("rewards.validator-share", f"must be in [0, 1], got {validator_share}")
    validators = int(max(budget, 0) * Fraction(repr(float(validator_share))))
    return budget - validators, validators


def validator_rewards(validators: Sequence[str], weights: Sequence[float], budget: int) -> dict[str, int]:
    """Validators' budget in proportion to their weights (stake x agreement bond, `agreement_bonds`)."""
    if len(validators) != len(weights) or len(set(validators)) != len(validators):
        raise ProtocolError(f"{len(validators)} validators (distinct?) for {len(weights)} consensus weights")
    return proportional(dict(zip(validators, weights)), budget)


def agreement_bonds(previous: Mapping[str, float], agreement: Mapping[str, float], *,
                    ema: float) -> dict[str, float]:
    """Each validator's agreement accumulated over rounds (Yuma's bonds): an EMA giving this round
    `ema` of the weight. Validators pay by the bond, so a lucky round moves it by only `ema`, and
    a validator with no bond yet starts from 0. Agreement is signed, so is the bond: a negative
    bond earns nothing until rounds of agreement pay it back. One who did not report this round keeps its bond,
    decayed as if it had agreed with nothing; plain float operations in a fixed order, so every
    validator computes the same bonds."""
    if not 0 < ema <= 1:
        raise ConfigError("proof.agreement-ema", f"must be in (0, 1], got {ema}")
    validators = sorted(set(previous) | set(agreement))
    return {v: (1 - ema) * previous.get(v, 0.0) + ema * agreement.get(v, 0.0) for v in validators}


def reputation_factor(reputation: int) -> Fraction:
    """1 + log2 reputation (the cohort's selection weight, too): more reputation earns more, with
    diminishing returns; 0 (unregistered) earns nothing. Exact to 2**-64 in integers, so every
    validator computes the same amounts whatever its maths library."""
    if reputation < 1:
        return Fraction(0)
    return 1 + _log2(reputation)


def _log2(n: int) -> Fraction:
    """Binary logarithm of a positive integer, truncated to LOG2_BITS fractional bits.

    The classic digit-by-digit method: square the mantissa in [1, 2); each
    time it reaches 2, the next bit is 1 and it is halved.
    """
    whole = n.bit_length() - 1
    guard = LOG2_BITS + 8
    mantissa = (n << guard) >> whole  # n / 2**whole, in [1, 2), fixed point
    bits = 0
    for _ in range(LOG2_BITS):
        mantissa = (mantissa * mantissa) >> guard
        bits <<= 1
        if mantissa >= 2 << guard:
            mantissa >>= 1
            bits |= 1
    return whole + Fraction(bits, 1 << LOG2_BITS)


class _Inputs:
    """One round's inputs to a rule, looked up with a clear error when a trainer is missing."""

    def __init__(self, scores: Mapping[str, float], samples: Mapping[str, int], reputation: Mapping[str, int]):
        self.tables = {"consensus score": scores, "sample count": samples, "reputation": reputation}

    def get(self, what: str, who: str) -> Fraction:
        try:
            value = self.tables[what][who]
        except KeyError:
            raise ProtocolError(f"no {what} for accepted trainer {who}") from None
        if not isfinite(value):
            raise ProtocolError(f"{what} of {who} is {value}")
        return Fraction(value)


Rule = Callable[[_Inputs, str], Fraction]

RULES: Mapping[str, Rule] = MappingProxyType({
    "equal": lambda inputs, who: Fraction(1),
    "samples": lambda inputs, who: inputs.get("sample count", who),
    # These pay in proportion to the score; which score it is (leave-one-out
    # gain, GTG-Shapley value, trust) is the scorer's choice, named by the rule.
    "contribution": lambda inputs, who: inputs.get("consensus score", who),
    "loo": lambda inputs, who: inputs.get("consensus score", who),
    "shapley": lambda inputs, who: inputs.get("consensus score", who),
    "reputation": lambda inputs, who: (inputs.get("consensus score", who)
                                       * reputation_factor(int(inputs.get("reputation", who)))),
})


def allocate(
    rule: str,
    *,
    budget: int,
    accepted: Sequence[str],
    scores: Mapping[str, float],
    samples: Mapping[str, int] = _EMPTY,
    reputation: Mapping[str, int] = _EMPTY,
) -> dict[str, int]:
    """Every accepted trainer's amount under `rule`; only trainers with a positive consensus score earn.

    `samples` is needed by the "samples" rule and `reputation` by the
    "reputation" rule; a trainer missing from a table the rule reads is a
    ProtocolError (the validator would pay someone it did not score).
    """
    if rule not in RULES:
        raise ConfigError("rewards.rule", f"unknown rule {rule!r}; choose from {sorted(RULES)}")
    inputs = _Inputs(scores, samples, reputation)
    earning = [who for who in dict.fromkeys(accepted) if inputs.get("consensus score", who) > 0]
    weights = {who: RULES[rule](inputs, who) for who in earning}
    return {who: 0 for who in accepted} | proportional(weights, budget)
