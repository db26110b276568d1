"""Proof-of-learning in a run: every cheat that claims training it did not do is
spot-checked after the quorum, disputed on chain, slashed and forfeits its rewards;
honest trainers are never flagged."""

import pytest

from fedstake.sim.config import parse_scenario
from fedstake.sim.runner import run_scenario

CHEATS = ("free-rider-zero", "free-rider-noise", "free-rider-stale", "skip-half", "wrong-data", "copy")


@pytest.fixture(scope="module")
def run():
    scenario = parse_scenario({
        "task": {"rounds": 3, "local-epochs": 2, "clients-per-round": 8 + len(CHEATS)},
        "trainers": [{"count": 8}, *({"count": 1, "behaviour": c} for c in CHEATS)],
        "validators": [{"count": 3}],
        "proof": {"pol": True},
        "rewards": {"claim-every": 0},
    })
    return run_scenario(scenario)


def test_every_cheat_fails_its_spot_check_and_is_slashed(run):
    """A cheat that fakes every step fails its first spot check; skip-half trains half its steps,
    so a draw (seeded by the round's result) can land on the honest half and miss it for a round:
    it is caught by the task's end, and a caught cheat is slashed in full."""
    results, world = run
    cheats = {a: b for a, b in world.behaviours.items() if b in CHEATS}
    first = {p["trainer"]: p for p in results.rounds[0].pol}
    every_step = {a for a, b in cheats.items() if b != "skip-half"}
    assert every_step <= {a for a, p in first.items() if not p["passed"]}
    failed = [p for row in results.rounds for p in row.pol if not p["passed"]]
    assert {p["trainer"] for p in failed} == set(cheats) and all(p["upheld"] for p in failed)
    for p in results.participants:
        if p.address in cheats:
            assert p.slashed == p.stake_initial and p.stake_final == 0 and p.rewards_claimed == 0


def test_honest_trainers_always_pass_and_are_paid(run):
    results, world = run
    honest = {t.address for t in world.trainers if world.behaviours[t.address] == "honest"}
    checks = [p for row in results.rounds for p in row.pol if p["trainer"] in honest]
    assert checks and all(p["passed"] and p["distance"] <= 1e-2 for p in checks)
    assert all(p.rewards_claimed > 0 and p.slashed == 0 for p in results.participants if p.address in honest)


def test_forfeited_rewards_go_back_to_the_requester(run):
    results, _ = run
    final = results.final
    assert final["paid"] + final["refunded"] == final["budget"] and final["supply_conserved"]
