# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title rounds
@custom:contract-name rounds
@license MIT
@notice A round's result is proposed by one of the task's validators and
        attested by others; it becomes final only when validators holding
        at least two thirds of the task's validator weight attested to it
        and the challenge window since that quorum has passed with no
        dispute pending. Conflicting proposals for one round are resolved
        by attestation, never by who posted first. Rounds finalise in
        order; the next round's seed depends on the last final model.
"""

from modules import tasks
from modules import checks
uses: tasks


struct Proposal:
    model_hash: bytes32
    updates_root: bytes32
    rewards_root: bytes32
    cumulative_total: uint256
    scores_root: bytes32
    proposer: address
    proposed_at: uint256
    weight: uint256
    quorum_at: uint256
    open_disputes: uint256
    rejected: bool


challenge_window: public(uint256)
proposals: public(HashMap[uint256, HashMap[uint256, HashMap[bytes32, Proposal]]])
attested: public(HashMap[uint256, HashMap[uint256, HashMap[address, bytes32]]])
quorum_result: public(HashMap[uint256, HashMap[uint256, bytes32]])
final_result: public(HashMap[uint256, HashMap[uint256, bytes32]])
latest_model_hash: public(HashMap[uint256, bytes32])
rewards_root: public(HashMap[uint256, bytes32])
# @dev Hash chain over every final round's roots: the model's provenance.
provenance: public(HashMap[uint256, bytes32])


event RoundProposed:
    task_id: indexed(uint256)
    round: indexed(uint256)
    result_hash: bytes32
    proposer: address
    model_hash: bytes32
    updates_root: bytes32
    rewards_root: bytes32
    cumulative_total: uint256
    scores_root: bytes32


event RoundAttested:
    task_id: indexed(uint256)
    round: indexed(uint256)
    result_hash: bytes32
    validator: address


event QuorumReached:
    task_id: indexed(uint256)
    round: indexed(uint256)
    result_hash: bytes32


# @dev An upheld dispute voided the result: it can never be final (and no longer holds the round's quorum).
event ResultRejected:
    task_id: indexed(uint256)
    round: indexed(uint256)
    result_hash: bytes32


event RoundFinalized:
    task_id: indexed(uint256)
    round: indexed(uint256)
    result_hash: bytes32
    provenance: bytes32


@deploy
def __init__(challenge_window_: uint256):
    self.challenge_window = challenge_window_


@internal
@pure
def _result_hash(
    task_id: uint256,
    round: uint256,
    model_hash: bytes32,
    updates_root: bytes32,
    rewards_root: bytes32,
    cumulative_total: uint256,
    scores_root: bytes32,
) -> bytes32:
    return keccak256(abi_encode(task_id, round, model_hash, updates_root, rewards_root, cumulative_total, scores_root))


@internal
@view
def _is_settlement(task_id: uint256, round: uint256, num_rounds: uint256) -> bool:
    """
    @dev Rewards roots move every `settle_every` rounds and at the last one.
    """
    return round == num_rounds or round % tasks.task_of[task_id].settle_every == 0


@internal
def _propose(
    task_id: uint256,
    round: uint256,
    model_hash: bytes32,
    updates_root: bytes32,
    rewards_root: bytes32,
    cumulative_total: uint256,
    scores_root: bytes32,
) -> bytes32:
    """
    @dev `scores_root` commits to every validator's contribution scores for
         the round (leaves keccak256(abi_encode(validator, scores_hash))), so a
         validator's reported scores can be disputed later.
    """
    num_rounds: uint256 = tasks._require_open(task_id)
    tasks._check_validator(task_id, msg.sender)
    assert round == tasks._rounds_done(task_id) + 1, "rounds: wrong round"
    assert round <= num_rounds, "rounds: all rounds done"
    if self._is_settlement(task_id, round, num_rounds):
        assert cumulative_total >= tasks.committed[task_id], "rounds: rewards decreased"
        assert cumulative_total <= tasks.task_of[task_id].budget, "rounds: rewards exceed budget"
    else:
        assert rewards_root == empty(bytes32) and cumulative_total == 0, "rounds: not a settlement round"
    result: bytes32 = self._result_hash(
        task_id, round, model_hash, updates_root, rewards_root, cumulative_total, scores_root
    )
    assert self.proposals[task_id][round][result].proposer == empty(address), "rounds: already proposed"
    self.proposals[task_id][round][result] = Proposal(
        model_hash=model_hash,
        updates_root=updates_root,
        rewards_root=rewards_root,
        cumulative_total=cumulative_total,
        scores_root=scores_root,
        proposer=msg.sender,
        proposed_at=block.timestamp,
        weight=0,
        quorum_at=0,
        open_disputes=0,
        rejected=False,
    )
    log RoundProposed(
        task_id=task_id,
        round=round,
        result_hash=result,
        proposer=msg.sender,
        model_hash=model_hash,
        updates_root=updates_root,
        rewards_root=rewards_root,
        cumulative_total=cumulative_total,
        scores_root=scores_root,
    )
    self._attest(task_id, round, result)
    return result


@internal
def _attest(task_id: uint256, round: uint256, result: bytes32):
    tasks._require_open(task_id)
    tasks._check_validator(task_id, msg.sender)
    assert round == tasks._rounds_done(task_id) + 1, "rounds: wrong round"
    assert self.proposals[task_id][round][result].proposer != empty(address), "rounds: unknown result"
    assert not self.proposals[task_id][round][result].rejected, "rounds: result rejected"
    # a dispute fixes the attesters it can slash: none join while it is open
    assert self.proposals[task_id][round][result].open_disputes == 0, "rounds: result disputed"
    assert self.attested[task_id][round][msg.sender] == empty(bytes32), "rounds: already attested"
    self.attested[task_id][round][msg.sender] = result
    self.proposals[task_id][round][result].weight += tasks.weight[task_id][msg.sender]
    log RoundAttested(task_id=task_id, round=round, result_hash=result, validator=msg.sender)
    self._reach_quorum(task_id, round, result)


@internal
def _reach_quorum(task_id: uint256, round: uint256, result: bytes32) -> bool:
    """
    @dev Starts the challenge window when `result` first holds two thirds
         of the task's weight; also re-checked after a dispute removes a
         rival result or a slashed validator's weight. Only a proposed
         result with attested weight qualifies: with every validator
         slashed out, nothing reaches quorum and the task ends at its
         deadline with its escrow refunded.
    @return bool True if `result` is the round's quorum result.
    """
    current: bytes32 = self.quorum_result[task_id][round]
    if current != empty(bytes32):
        return current == result
    if self.proposals[task_id][round][result].proposer == empty(address):
        return False
    if self.proposals[task_id][round][result].rejected:
        return False
    weight: uint256 = self.proposals[task_id][round][result].weight
    if weight == 0 or weight * 3 < tasks.total_weight[task_id] * 2:
        return False
    self.quorum_result[task_id][round] = result
    self.proposals[task_id][round][result].quorum_at = block.timestamp
    log QuorumReached(task_id=task_id, round=round, result_hash=result)
    return True


@internal
def _finalize(task_id: uint256, round: uint256):
    num_rounds: uint256 = tasks._require_open(task_id)
    assert round == tasks._rounds_done(task_id) + 1, "rounds: wrong round"
    result: bytes32 = self.quorum_result[task_id][round]
    assert result != empty(bytes32), "rounds: no quorum"
    quorum_at: uint256 = self.proposals[task_id][round][result].quorum_at
    assert block.timestamp >= quorum_at + self.challenge_window, "rounds: challenge window open"
    assert self.proposals[task_id][round][result].open_disputes == 0, "rounds: dispute pending"
    model_hash: bytes32 = self.proposals[task_id][round][result].model_hash
    rewards_root: bytes32 = self.proposals[task_id][round][result].rewards_root
    self.final_result[task_id][round] = result
    tasks._set_rounds_done(task_id, round)
    self.latest_model_hash[task_id] = model_hash
    chained: bytes32 = keccak256(
        abi_encode(
            self.provenance[task_id], round, model_hash, self.proposals[task_id][round][result].updates_root, rewards_root
        )
    )
    self.provenance[task_id] = chained
    if self._is_settlement(task_id, round, num_rounds):
        self.rewards_root[task_id] = rewards_root
        tasks.committed[task_id] = self.proposals[task_id][round][result].cumulative_total
    log RoundFinalized(task_id=task_id, round=round, result_hash=result, provenance=chained)


@internal
def _reject(task_id: uint256, round: uint256, result: bytes32):
    """
    @dev An upheld dispute voids `result`: it can never be final.
    """
    self.proposals[task_id][round][result].rejected = True
    if self.quorum_result[task_id][round] == result:
        self.quorum_result[task_id][round] = empty(bytes32)
    log ResultRejected(task_id=task_id, round=round, result_hash=result)


@internal
@view
def _round_seed(task_id: uint256, round: uint256) -> bytes32:
    task: tasks.Task = self._task_or_revert(task_id)
    checks._need(round > 0 and round <= tasks._rounds_done(task_id) + 1, "rounds: round not open")
    previous: bytes32 = task.genesis_model_hash
    if round > 1:
        previous = self.proposals[task_id][round - 1][self.final_result[task_id][round - 1]].model_hash
    return keccak256(abi_encode(task.seed, round, previous))


@internal
@view
def _task_or_revert(task_id: uint256) -> tasks.Task:
    task: tasks.Task = tasks.task_of[task_id]
    checks._need(task.rounds > 0, "tasks: unknown task")
    return task
