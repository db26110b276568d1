# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title ScoreBoard
@custom:contract-name ScoreBoard
@license MIT
@notice Commit-reveal of the validators' score vectors, per (task, round),
        so no validator can copy this round's scores of another: every
        validator of the task commits
        `keccak256(abi_encode(task_id, round, validator, scores_hash, salt))`
        while the commit phase is open, then reveals `(scores_hash, salt)`
        once it has closed. The score vector itself travels off chain
        behind `scores_hash` (the same hash the round's scores root
        commits to), so each call stores one word whatever the cohort.
        The first commit of a round opens its commit phase for
        `COMMIT_PERIOD` seconds; the reveal phase follows for
        `REVEAL_PERIOD` seconds. The commitment names the task, the round
        and the sender, so a commitment copied from another validator, or
        replayed from another round, can never be revealed. Holds no funds.
"""

from interfaces import ITaskValidators

MARKET: public(immutable(ITaskValidators))
COMMIT_PERIOD: public(immutable(uint256))
REVEAL_PERIOD: public(immutable(uint256))

# @dev task -> round -> timestamp of the round's first commitment (0: none yet).
opened_at: public(HashMap[uint256, HashMap[uint256, uint256]])
# @dev task -> round -> validator -> its commitment.
commitments: public(HashMap[uint256, HashMap[uint256, HashMap[address, bytes32]]])
# @dev task -> round -> validator -> the scores hash it revealed (empty: not revealed).
revealed: public(HashMap[uint256, HashMap[uint256, HashMap[address, bytes32]]])


event ScoresCommitted:
    task_id: indexed(uint256)
    round: indexed(uint256)
    validator: indexed(address)
    commitment: bytes32


event ScoresRevealed:
    task_id: indexed(uint256)
    round: indexed(uint256)
    validator: indexed(address)
    scores_hash: bytes32
    salt: bytes32


@deploy
def __init__(market_: address, commit_period_: uint256, reveal_period_: uint256):
    """
    @param market_ The task market whose validators and rounds the board serves.
    @param commit_period_ Seconds the commit phase stays open after a round's first commitment.
    @param reveal_period_ Seconds the reveal phase stays open after the commit phase.
    """
    assert market_ != empty(address), "board: zero market"
    assert commit_period_ > 0 and reveal_period_ > 0, "board: zero period"
    MARKET = ITaskValidators(market_)
    COMMIT_PERIOD = commit_period_
    REVEAL_PERIOD = reveal_period_


@external
def commit(task_id: uint256, round: uint256, commitment: bytes32):
    """
    @notice Commits the sender's scores of the task's open round.
    @dev Only a validator with weight in the task, once per round, for the
         round after the last final one, within the commit phase.
    @param commitment keccak256(abi_encode(task_id, round, sender, scores_hash, salt)).
    """
    assert commitment != empty(bytes32), "board: empty commitment"
    assert staticcall MARKET.weight(task_id, msg.sender) > 0, "board: not a validator of the task"
    assert round == staticcall MARKET.rounds_done(task_id) + 1, "board: not the open round"
    assert self.commitments[task_id][round][msg.sender] == empty(bytes32), "board: already committed"
    opened: uint256 = self.opened_at[task_id][round]
    if opened == 0:
        self.opened_at[task_id][round] = block.timestamp
    else:
        assert block.timestamp < opened + COMMIT_PERIOD, "board: commit phase over"
    self.commitments[task_id][round][msg.sender] = commitment
    log ScoresCommitted(task_id=task_id, round=round, validator=msg.sender, commitment=commitment)


@external
def reveal(task_id: uint256, round: uint256, scores_hash: bytes32, salt: bytes32):
    """
    @notice Opens the sender's commitment: its scores hash and salt.
    @dev Within the reveal phase, once; the opening must hash to the
         sender's own commitment of this task and round.
    """
    commitment: bytes32 = self.commitments[task_id][round][msg.sender]
    assert commitment != empty(bytes32), "board: no commitment"
    assert self.revealed[task_id][round][msg.sender] == empty(bytes32), "board: already revealed"
    reveal_from: uint256 = self.opened_at[task_id][round] + COMMIT_PERIOD
    assert block.timestamp >= reveal_from, "board: reveal phase not started"
    assert block.timestamp < reveal_from + REVEAL_PERIOD, "board: reveal phase over"
    assert scores_hash != empty(bytes32), "board: empty scores hash"
    opening: bytes32 = keccak256(abi_encode(task_id, round, msg.sender, scores_hash, salt))
    assert opening == commitment, "board: reveal does not match commitment"
    self.revealed[task_id][round][msg.sender] = scores_hash
    log ScoresRevealed(task_id=task_id, round=round, validator=msg.sender, scores_hash=scores_hash, salt=salt)
