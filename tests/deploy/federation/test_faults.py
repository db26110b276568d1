"""Faults on a real federation (examples/deploy-local.toml: 4 trainers, 4 validators, 3 rounds),
each process its own: a trainer, a validator or the coordinator SIGKILLed mid-round, the chain
node restarted from its saved state, trainers that send garbage, sign with the wrong key or
replay an old commitment. After each: tokens conserved, no claim paid twice, no honest party
slashed, results.json agreeing with the chain (`federation_kit.check_books`)."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from federation_kit import (
    check_books, federation, kill, logged, play_in_background, received, wait_for,
)

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
ROUND_S = 240.0  # a generous bound on one round, a dead node's minute of silence included


def test_a_trainer_killed_mid_round_earns_nothing_for_it_and_claims_the_rest_after_a_restart(tmp_path):
    with federation(tmp_path) as (fed, scenario):
        victim = fed.service("trainer-1")
        played = play_in_background(fed, 3)
        wait_for(lambda: 1 in logged(fed) and received(fed, "trainer-1", "train") >= 2, ROUND_S,
                 "trainer-1 to receive round 2's task")
        kill(fed, "trainer-1")
        fed.restart("trainer-1")  # same key, same folder: a new SuperNode, a new node id
        played.wait(3 * ROUND_S)
        books = check_books(fed, scenario)
    rows = {r.round: r for r in books.results.rounds}
    assert victim.address in rows[1].accepted and victim.address in rows[3].accepted
    assert victim.address not in rows[2].accepted and victim.address in rows[2].silent
    assert victim.address not in rows[2].rewards and rows[2].rewards  # the others were paid for round 2
    assert books.claimed[victim.address] == books.table[victim.address][0] > 0
    assert books.table[victim.address][1] == 2  # accepted in rounds 1 and 3
