"""Issue 12 item 2: every dishonest validator earns less than every honest one, under every scorer.

A small but real run of examples/validator-consensus.toml (contracts on the embedded chain, the
score board's commit-reveal, trainers and validators training and scoring): four honest validators
and one playing the behaviour. The fast cases are the ones that hold on every measured seed
(benchmarks/validator_pay.py, 20 rounds, seeds 1-3: see the README's validator table); the
cells that do not hold yet are marked `xfail` with their measured ratio, so a fix shows as XPASS.
"""

from pathlib import Path

import pytest

from fedstake.sim.config import load_scenario, parse_scenario
from fedstake.sim.runner import run_scenario

EXAMPLE = Path(__file__).parents[2] / "examples" / "validator-consensus.toml"
SCORERS = ("trust", "loo", "gtg-shapley", "exact-shapley")


def pay(scorer: str, behaviour: str, *, rounds: int, seed: int = 1) -> tuple[list[int], int]:
    """(each honest validator's pay, the dishonest one's) over the run."""
    base = load_scenario(EXAMPLE, [f"task.rounds={rounds}", f"proof.scorer={scorer}", f"task.seed={seed}",
                                   "task.clients-per-round=8", "task.local-epochs=1"])
    raw = base.model_dump(by_alias=True, mode="json", exclude_unset=True)
    liar = {"count": 1, "behaviour": behaviour, **({"colludes-with": 1} if behaviour == "collude" else {})}
    raw["validators"] = [{"count": 4}, liar]
    results, _ = run_scenario(parse_scenario(raw))
    validators = [p for p in results.participants if p.role == "validator"]
    honest = [p.rewards_claimed for p in validators if p.behaviour == "honest"]
    return honest, next(p.rewards_claimed for p in validators if p.behaviour == behaviour)


@pytest.mark.parametrize("scorer", SCORERS)
@pytest.mark.parametrize("behaviour", ["random", "late-copy"])
def test_a_guessing_or_late_copying_validator_earns_less_than_every_honest_one(scorer, behaviour):
    honest, liar = pay(scorer, behaviour, rounds=10)
    assert min(honest) > 0 and liar < min(honest), (honest, liar)


def test_a_late_copier_earns_nothing_its_commitment_comes_after_the_reveals():
    honest, liar = pay("trust", "late-copy", rounds=3)
    assert liar == 0 and min(honest) > 0


# (scorer, behaviour) cells that do not hold yet: the liar's pay over the lowest honest validator's,
# worst seed, 20 rounds, seeds 1-3 (benchmarks/validator_pay.json). Agreement with the consensus
# rewards a copy of it, and the noisy scorers' honest validators agree with it only partly.
NOT_YET = {("loo", "lazy-copy"), ("gtg-shapley", "lazy-copy"), ("exact-shapley", "lazy-copy"),
           ("gtg-shapley", "collude"), ("exact-shapley", "collude")}


CELLS = [pytest.param(scorer, behaviour, marks=pytest.mark.xfail(
    reason=f"{behaviour} under {scorer} still out-earns an honest validator (README, validator table)"))
    if (scorer, behaviour) in NOT_YET else (scorer, behaviour)
    for behaviour in ("lazy-copy", "collude") for scorer in SCORERS]


@pytest.mark.parametrize(("scorer", "behaviour"), CELLS)
def test_a_copying_or_colluding_validator_earns_less_than_every_honest_one(scorer, behaviour):
    honest, liar = pay(scorer, behaviour, rounds=10)
    assert min(honest) > 0 and liar < min(honest), (honest, liar)
