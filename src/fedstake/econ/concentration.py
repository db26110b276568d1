"""How concentrated a holding is: Nakamoto coefficients, Gini and HHI.

The bear case for staked networks is stake piling up in a few hands
(Fanti et al. 2019 on compounding in proof-of-stake); these numbers say
how far it went, for stake, quorum weight or rewards alike. Each takes
any vector of non-negative amounts (one entry per holder, zeros
included: a holder with nothing still counts in Gini and HHI) and is
computed in exact rational arithmetic, so a share that sits exactly on a
threshold is decided the same way on every machine.

Edge cases, defined once here:
- nothing held (an empty vector or all zeros): Nakamoto 0 (there is
  nothing to control), Gini 0 and HHI 0;
- one holder with everything: Nakamoto 1, Gini 1 - 1/n (its maximum for
  n holders), HHI 1;
- ties: holders with equal amounts are interchangeable, so which of them
  is counted first never changes a number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Sequence

from fedstake.errors import ProtocolError

THIRD = Fraction(1, 3)  # more than this halts a BFT quorum (two thirds needed)
HALF = Fraction(1, 2)  # more than this is a majority

Amount = int | float


def _exact(values: Sequence[Amount]) -> list[Fraction]:
    out = [Fraction(v) for v in values]  # exact for ints and for every finite float
    if any(v < 0 for v in out):
        raise ProtocolError(f"concentration of a negative amount: {min(values)}")
    return out


def nakamoto(values: Sequence[Amount], threshold: Fraction) -> int:
    """The fewest holders whose combined amount is more than `threshold` of the total
    (strictly more: at exactly a third, a third does not yet halt a two-thirds quorum)."""
    if not 0 <= threshold < 1:
        raise ProtocolError(f"Nakamoto threshold must be in [0, 1), got {threshold}")
    amounts = sorted(_exact(values), reverse=True)
    total = sum(amounts, Fraction(0))
    if total == 0:
        return 0
    held = Fraction(0)
    for count, amount in enumerate(amounts, start=1):
        held += amount
        if held > threshold * total:
            return count
    raise AssertionError("unreachable: the whole total is more than any threshold below 1")


def gini(values: Sequence[Amount]) -> float:
    """Gini coefficient: 0 when everyone holds the same, 1 - 1/n when one holds everything.

    The sorted form: G = 2 sum(i x_i) / (n sum x) - (n + 1) / n, i = 1..n ascending."""
    amounts = sorted(_exact(values))
    n, total = len(amounts), sum(amounts, Fraction(0))
    if total == 0:
        return 0.0
    ranked = sum((i * x for i, x in enumerate(amounts, start=1)), Fraction(0))
    return float(2 * ranked / (n * total) - Fraction(n + 1, n))


def hhi(values: Sequence[Amount]) -> float:
    """Herfindahl-Hirschman index as a fraction: the sum of squared shares, 1/n when n hold
    the same, 1 when one holds everything (regulators quote it times 10,000)."""
    amounts = _exact(values)
    total = sum(amounts, Fraction(0))
    if total == 0:
        return 0.0
    return float(sum((x * x for x in amounts), Fraction(0)) / (total * total))


@dataclass(frozen=True)
class Concentration:
    """The four numbers `results.json` and `fedstake compare` report for one vector."""

    nakamoto_33: int
    nakamoto_50: int
    gini: float
    hhi: float

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def concentration(values: Sequence[Amount]) -> Concentration:
    """Nakamoto at a third and at a half, Gini and HHI of `values`."""
    return Concentration(nakamoto(values, THIRD), nakamoto(values, HALF), gini(values), hhi(values))
