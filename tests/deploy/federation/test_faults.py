"""Faults on a real federation (examples/deploy-local.toml: 4 trainers, 4 validators, 3 rounds),
each process its own: a trainer, a validator or the coordinator SIGKILLed mid-round, the chain
node restarted from its saved state, trainers that send garbage, sign with the wrong key or
replay an old commitment. After each: tokens conserved, no claim paid twice, no honest party
slashed, results.json agreeing with the chain (`federation_kit.check_books`)."""

import json
import os
import signal
import sys
from pathlib import Path

import pytest
import torch

from federation_kit import (
    check_books, coordinator_pid, federation, kill, logged, play_in_background, received, wait_for,
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


def test_a_validator_killed_mid_round_leaves_a_quorum_and_once_restarted_replays_what_it_missed(tmp_path):
    with federation(tmp_path) as (fed, scenario):
        victim = fed.service("validator-1")  # round 2's proposer in the rotation
        played = play_in_background(fed, 3)
        wait_for(lambda: 1 in logged(fed) and received(fed, "validator-1", "query.assess") >= 2, ROUND_S,
                 "validator-1 to receive round 2's submissions")
        kill(fed, "validator-1")
        fed.restart("validator-1")
        played.wait(3 * ROUND_S)
        books = check_books(fed, scenario)
        folder = fed.run_dir / "nodes" / "validator-1"
        state = torch.load(folder / "state.pt", weights_only=False)
        rows = logged(fed)
    final = {r: next(p for p in rows[r]["proposals"] if p["final"]) for r in rows}
    assert victim.address in rows[2]["absent"] and victim.address not in final[2]["attesters"]
    assert len(final[2]["attesters"]) == 3 and final[2]["proposer"] != victim.address
    assert victim.address in final[3]["attesters"] and not rows[3]["absent"]
    assert state["adopted"] == 3 and state["model_hash"].hex() == rows[3]["summary"]["result"]["model_hash"][2:]
    assert (folder / "published" / "tables" / "round-2.json").exists()  # rebuilt from the replay
    assert books.claimed[victim.address] > 0


def test_a_coordinator_killed_mid_round_is_replaced_and_no_round_is_played_twice(tmp_path):
    with federation(tmp_path) as (fed, scenario):
        played = play_in_background(fed, 3)
        wait_for(lambda: 1 in logged(fed) and all(received(fed, f"trainer-{i}", "train") >= 2 for i in range(4)),
                 ROUND_S, "round 2's training")
        os.kill(wait_for(lambda: coordinator_pid(fed), 10, "the coordinator's process"), signal.SIGKILL)
        played.wait(4 * ROUND_S)
        books = check_books(fed, scenario)  # every round's model and table still found, checked by hash
        lines = [json.loads(line)["round"] for line in (fed.run_dir / "rounds.jsonl").read_text().splitlines()]
    assert len(played.runs) == 2 and lines == [1, 2, 3]
    assert all(len(r.accepted) == 4 for r in books.results.rounds)


def test_the_chain_node_restarted_from_its_saved_state_and_the_task_goes_on(tmp_path):
    with federation(tmp_path) as (fed, scenario):
        played = play_in_background(fed, 3)
        wait_for(lambda: 1 in logged(fed) and received(fed, "validator-0", "query.assess") >= 2, ROUND_S,
                 "round 2's assessment")
        old = fed.service("anvil").pid
        fed.restart_chain()
        assert fed.service("anvil").pid != old
        played.wait(3 * ROUND_S)
        books = check_books(fed, scenario)
    assert [r.round for r in books.results.rounds] == [1, 2, 3]
    assert all(len(r.accepted) == 4 and not r.silent for r in books.results.rounds)


TAMPERER = Path(__file__).parents[2] / "tampering_trainer.py"
MODES = {"trainer-1": "garbage", "trainer-2": "wrong-key", "trainer-3": "replay"}


def _tampering(name: str, command: list[str]) -> list[str]:
    """`fedstake trainer FLAGS` (python -m fedstake.cli trainer FLAGS) -> the tampering trainer with them."""
    return [sys.executable, str(TAMPERER), MODES[name], *command[4:]] if name in MODES else command


def test_garbage_a_wrong_key_and_a_replayed_commitment_are_rejected_with_reasons_and_hurt_nobody(tmp_path):
    with federation(tmp_path, participant=_tampering) as (fed, scenario):
        addresses = {name: fed.service(name).address for name in ["trainer-0", *MODES]}
        played = play_in_background(fed, 3)
        played.wait(3 * ROUND_S)
        books = check_books(fed, scenario)
        log = (fed.run_dir / "rounds.jsonl").read_text()  # the coordinator's log of every round
    honest, garbage, wrong_key, replay = (addresses[n] for n in ("trainer-0", *MODES))
    for row in books.results.rounds:
        reasons = {r["trainer"]: r["reason"] for r in row.rejected}
        assert honest in row.accepted and honest in row.rewards
        assert "the sealed update does not open" in reasons[garbage]
        assert f"not by trainer {wrong_key}" in reasons[wrong_key]
        if row.round == 1:
            assert replay in row.accepted
        else:
            assert reasons[replay] == "commitment is for task 1 round 1"
    assert books.claimed[garbage] == books.claimed[wrong_key] == 0 < books.claimed[replay] < books.claimed[honest]
    assert books.table[replay][1] == 1 and books.table[honest][1] == 3
    assert all(r["reason"] in log for row in books.results.rounds for r in row.rejected)
