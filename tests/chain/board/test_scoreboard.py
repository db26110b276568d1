"""ScoreBoard: commit-reveal of the validators' scores, every path positive and negative."""

import pytest
from eth_utils import keccak

from deployers import TOKEN, finalize, Rewards, staked_task
from fedstake.chain.scoreboard import score_commitment
from fedstake.errors import ContractRevert

SCORES = keccak(b"a score vector")
SALT = keccak(b"a salt")


@pytest.fixture
def task(system, actors):
    return staked_task(system, actors, budget=100 * TOKEN)


def commit(system, task, validator, round=1, scores=SCORES, salt=SALT):
    system.board.commit(task, round, score_commitment(task, round, validator.address, scores, salt), sender=validator)


def to_reveal_phase(system):
    system.backend.advance_time(system.params.commit_period)


def test_a_validator_commits_then_reveals_after_the_commit_phase(system, actors, task):
    v = actors.validator
    receipt = system.board.commit(task, 1, score_commitment(task, 1, v.address, SCORES, SALT), sender=v)
    assert system.board.handle.events(receipt, "ScoresCommitted")[0]["validator"] == v.address
    assert system.board.revealed(task, 1, v.address) is None
    to_reveal_phase(system)
    receipt = system.board.reveal(task, 1, SCORES, SALT, sender=v)
    assert system.board.handle.events(receipt, "ScoresRevealed")[0]["scores_hash"] == SCORES
    assert system.board.revealed(task, 1, v.address) == SCORES


def test_only_a_validator_of_the_task_commits(system, actors, task):
    with pytest.raises(ContractRevert, match="board: not a validator of the task"):
        commit(system, task, actors.outsider)


def test_only_the_open_round_takes_commitments(system, actors, task):
    with pytest.raises(ContractRevert, match="board: not the open round"):
        commit(system, task, actors.validator, round=2)
    finalize(system, actors, task, 1, Rewards({actors.trainer.address: (TOKEN, 1)}).result())
    with pytest.raises(ContractRevert, match="board: not the open round"):
        commit(system, task, actors.validator, round=1)
    commit(system, task, actors.validator, round=2)


def test_an_empty_commitment_is_refused(system, actors, task):
    with pytest.raises(ContractRevert, match="board: empty commitment"):
        system.board.commit(task, 1, b"\x00" * 32, sender=actors.validator)


def test_a_validator_commits_once_per_round(system, actors, task):
    commit(system, task, actors.validator)
    with pytest.raises(ContractRevert, match="board: already committed"):
        commit(system, task, actors.validator, scores=keccak(b"second thoughts"))


def test_no_commitment_after_the_commit_phase(system, actors, task):
    commit(system, task, actors.validator)
    to_reveal_phase(system)
    with pytest.raises(ContractRevert, match="board: commit phase over"):
        commit(system, task, actors.second_validator)  # the late copier, having seen a reveal


def test_a_reveal_without_a_commitment_is_refused(system, actors, task):
    commit(system, task, actors.validator)
    to_reveal_phase(system)
    with pytest.raises(ContractRevert, match="board: no commitment"):
        system.board.reveal(task, 1, SCORES, SALT, sender=actors.second_validator)


def test_a_reveal_before_the_commit_phase_closes_is_refused(system, actors, task):
    commit(system, task, actors.validator)
    with pytest.raises(ContractRevert, match="board: reveal phase not started"):
        system.board.reveal(task, 1, SCORES, SALT, sender=actors.validator)


def test_a_reveal_with_the_wrong_salt_or_scores_is_refused(system, actors, task):
    commit(system, task, actors.validator)
    to_reveal_phase(system)
    with pytest.raises(ContractRevert, match="board: reveal does not match commitment"):
        system.board.reveal(task, 1, SCORES, keccak(b"another salt"), sender=actors.validator)
    with pytest.raises(ContractRevert, match="board: reveal does not match commitment"):
        system.board.reveal(task, 1, keccak(b"other scores"), SALT, sender=actors.validator)


def test_another_validators_commitment_copied_cannot_be_revealed(system, actors, task):
    """The commitment names its sender: a copy of it, or of its opening, never opens for the copier."""
    original = score_commitment(task, 1, actors.validator.address, SCORES, SALT)
    system.board.commit(task, 1, original, sender=actors.validator)
    system.board.commit(task, 1, original, sender=actors.second_validator)
    to_reveal_phase(system)
    system.board.reveal(task, 1, SCORES, SALT, sender=actors.validator)
    with pytest.raises(ContractRevert, match="board: reveal does not match commitment"):
        system.board.reveal(task, 1, SCORES, SALT, sender=actors.second_validator)


def test_a_reveal_after_the_reveal_phase_is_refused(system, actors, task):
    commit(system, task, actors.validator)
    system.backend.advance_time(system.params.commit_period + system.params.reveal_period)
    with pytest.raises(ContractRevert, match="board: reveal phase over"):
        system.board.reveal(task, 1, SCORES, SALT, sender=actors.validator)


def test_a_validator_reveals_once(system, actors, task):
    commit(system, task, actors.validator)
    to_reveal_phase(system)
    system.board.reveal(task, 1, SCORES, SALT, sender=actors.validator)
    with pytest.raises(ContractRevert, match="board: already revealed"):
        system.board.reveal(task, 1, SCORES, SALT, sender=actors.validator)


def test_an_empty_scores_hash_is_refused(system, actors, task):
    empty = b"\x00" * 32
    commit(system, task, actors.validator, scores=empty)
    to_reveal_phase(system)
    with pytest.raises(ContractRevert, match="board: empty scores hash"):
        system.board.reveal(task, 1, empty, SALT, sender=actors.validator)


def test_the_board_needs_a_market_and_periods(backend, actors):
    from fedstake.chain.compiler import load_artifact
    from fedstake.chain.contract import deploy_contract

    with pytest.raises(Exception, match="board: zero market"):
        deploy_contract(backend, load_artifact("ScoreBoard"), ("0x" + "00" * 20, 1, 1), actors.owner)
    with pytest.raises(Exception, match="board: zero period"):
        deploy_contract(backend, load_artifact("ScoreBoard"), (actors.outsider.address, 0, 1), actors.owner)
