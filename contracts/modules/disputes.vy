# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title disputes
@custom:contract-name disputes
@license MIT
@notice During a round's challenge window anyone may dispute, with a bond,
        (a) a trainer's signed update commitment, proved to be in the
        round's updates root (failed verification, free-riding), or
        (b) a proposed round result, or (c) the contribution scores a
        validator reported, proved to be in the round's scores root.
        Opening a dispute fixes who it can slash: the trainer, the
        validator, or every validator that had attested the result (no
        one attests a result while it is disputed). Each of them is held
        in the task (no claim, no bond released) until it resolves.
        The task's validators vote, the accused among them (excluding
        them would let a dishonest minority overturn the honest majority's
        result); votes are counted at resolution with the weight each
        voter still has, against the task's weight at that moment: two
        thirds upholds, more than a third dismisses, and at the vote's
        deadline anything short of two thirds dismisses, so every dispute
        can be resolved by its deadline. Like the quorum, this is safe
        while dishonest validators hold less than a third. The loser is
        slashed: the accused's bond in the task (split between the
        challenger's bounty and the insurance pool), or the challenger's
        bond (to the insurance pool). An upheld dispute is final: the same
        commitment, result or score report is never slashed twice. A
        result dispute pays its bounty only to a validator of the task
        that did not attest the result; anyone else gets the bond back
        and the insurance pool the bounty, so an attester cannot profit
        from challenging its own result under another address.
"""

from modules import tasks
from modules import checks
uses: tasks

from modules import rounds
uses: rounds

from modules import claims
uses: claims

from snekmate.utils import eip712_domain_separator as eip712
uses: eip712

from modules import proofs


KIND_UPDATE: constant(uint8) = 1
KIND_RESULT: constant(uint8) = 2
KIND_SCORES: constant(uint8) = 3
STATUS_OPEN: constant(uint8) = 1
STATUS_UPHELD: constant(uint8) = 2
STATUS_DISMISSED: constant(uint8) = 3
_BPS: constant(uint256) = 10_000
# @dev The smallest bond, as a share of the registry's minimum stake.
MIN_BOND_BPS: constant(uint256) = 1_000
COMMITMENT_TYPEHASH: constant(bytes32) = keccak256(
    "Commitment(uint256 task,uint256 round,address trainer,bytes32 updateHash,uint256 samples,bytes32 transcriptRoot)"
)


struct Dispute:
    task_id: uint256
    round: uint256
    kind: uint8
    accused: address
    result_hash: bytes32
    challenger: address
    vote_deadline: uint256
    # @dev Bit s-1 set for the validator in seat s: who a result dispute can slash, who voted yes, who voted no.
    attesters: uint256
    yes_votes: uint256
    no_votes: uint256
    status: uint8


struct Params:
    challenge_bond: uint256
    vote_period: uint256
    bounty_bps: uint256
    trainer_slash_bps: uint256
    validator_slash_bps: uint256
    reputation_cut_bps: uint256
    insurance_pool: address


params: public(Params)
dispute_count: public(uint256)
dispute_of: public(HashMap[uint256, Dispute])
# @dev The latest dispute on a commitment, result or score report; an upheld one spends the key.
dispute_by_key: public(HashMap[bytes32, uint256])
bonds_held: public(uint256)
# @dev Open disputes per task: while any is open, every bond in the task stays (weights are frozen).
open_in_task: public(HashMap[uint256, uint256])


event DisputeOpened:
    dispute_id: indexed(uint256)
    task_id: indexed(uint256)
    round: uint256
    kind: uint8
    accused: indexed(address)
    challenger: address
    evidence: bytes32
    bond: uint256


event DisputeVoted:
    dispute_id: indexed(uint256)
    validator: indexed(address)
    uphold: bool
    weight: uint256


event DisputeResolved:
    dispute_id: indexed(uint256)
    upheld: bool
    slashed: uint256


@deploy
def __init__(params_: Params, min_stake: uint256):
    assert params_.bounty_bps <= _BPS, "disputes: bounty above 100%"
    assert params_.trainer_slash_bps <= _BPS and params_.validator_slash_bps <= _BPS, "disputes: slash above 100%"
    assert params_.reputation_cut_bps <= _BPS, "disputes: cut above 100%"
    assert params_.insurance_pool != empty(address), "disputes: zero insurance pool"
    assert params_.vote_period > 0, "disputes: zero vote period"
    assert params_.challenge_bond > 0 and params_.challenge_bond * _BPS >= min_stake * MIN_BOND_BPS, "disputes: bond below minimum"
    self.params = params_


@internal
def _open(task_id: uint256, round: uint256, kind: uint8, accused: address, result: bytes32, key: bytes32,
          attesters: uint256, evidence: bytes32) -> uint256:
    prior: uint256 = self.dispute_by_key[key]
    checks._need(prior == 0 or self.dispute_of[prior].status == STATUS_DISMISSED, "disputes: already disputed")
    bond: uint256 = self.params.challenge_bond
    dispute_id: uint256 = self.dispute_count + 1
    self.dispute_count = dispute_id
    self.dispute_by_key[key] = dispute_id
    self.open_in_task[task_id] += 1
    self.dispute_of[dispute_id] = Dispute(
        task_id=task_id, round=round, kind=kind, accused=accused, result_hash=result, challenger=msg.sender,
        vote_deadline=block.timestamp + self.params.vote_period, attesters=attesters,
        yes_votes=0, no_votes=0, status=STATUS_OPEN,
    )
    self.bonds_held += bond
    checks._need(extcall tasks.token.transferFrom(msg.sender, self, bond, default_return_value=True), "disputes: bond transfer failed")
    log DisputeOpened(
        dispute_id=dispute_id, task_id=task_id, round=round, kind=kind, accused=accused, challenger=msg.sender,
        evidence=evidence, bond=bond,
    )
    return dispute_id


@internal
@view
def _window_end(task_id: uint256, round: uint256, result: bytes32) -> uint256:
    """
    @dev A result can be challenged until `challenge_window` after its
         quorum, or after its proposal while it has none.
    """
    start: uint256 = rounds.proposals[task_id][round][result].quorum_at
    if start == 0:
        start = rounds.proposals[task_id][round][result].proposed_at
    return start + rounds.challenge_window


@internal
@view
def _check_quorum_result(task_id: uint256, round: uint256, result: bytes32):
    """
    @dev Commitments and score reports are disputed in the round's quorum
         result, inside its window.
    """
    tasks._require_open(task_id)
    checks._need(rounds.quorum_result[task_id][round] == result, "disputes: not the quorum result")
    checks._need(block.timestamp < self._window_end(task_id, round, result), "disputes: window closed")


@internal
def _challenge_update(
    task_id: uint256,
    round: uint256,
    result: bytes32,
    trainer: address,
    update_hash: bytes32,
    samples: uint256,
    transcript_root: bytes32,
    signature: Bytes[65],
    proof: DynArray[bytes32, proofs.MAX_PROOF_DEPTH],
    evidence: bytes32,
) -> uint256:
    """
    @dev Keyed by the signed commitment itself, so no rival result that
         carries the same commitment can have it slashed again.
    """
    self._check_quorum_result(task_id, round, result)
    struct_hash: bytes32 = keccak256(
        abi_encode(COMMITMENT_TYPEHASH, task_id, round, trainer, update_hash, samples, transcript_root)
    )
    checks._need(len(signature) == 65, "disputes: bad signature")
    signer: address = ecrecover(
        eip712._hash_typed_data_v4(struct_hash),
        convert(slice(signature, 64, 1), uint256),
        convert(extract32(signature, 0), uint256),
        convert(extract32(signature, 32), uint256),
    )
    checks._need(signer == trainer and signer != empty(address), "disputes: bad signature")
    updates_root: bytes32 = rounds.proposals[task_id][round][result].updates_root
    checks._need(proofs._root_from(proof, keccak256(struct_hash)) == updates_root, "disputes: not in updates root")
    key: bytes32 = keccak256(abi_encode(KIND_UPDATE, struct_hash))
    dispute_id: uint256 = self._open(task_id, round, KIND_UPDATE, trainer, result, key, 0, evidence)
    claims._hold(task_id, trainer)
    return dispute_id


@internal
def _challenge_scores(
    task_id: uint256,
    round: uint256,
    result: bytes32,
    validator: address,
    scores_hash: bytes32,
    proof: DynArray[bytes32, proofs.MAX_PROOF_DEPTH],
    evidence: bytes32,
) -> uint256:
    """
    @dev Disputes the contribution scores `validator` reported for a round,
         proved to be in the quorum result's scores root.
    """
    self._check_quorum_result(task_id, round, result)
    checks._need(tasks.weight[task_id][validator] > 0, "disputes: not a validator of the task")
    scores_root: bytes32 = rounds.proposals[task_id][round][result].scores_root
    leaf: bytes32 = keccak256(abi_encode(validator, scores_hash))
    checks._need(proofs._root_from(proof, leaf) == scores_root, "disputes: not in scores root")
    key: bytes32 = keccak256(abi_encode(KIND_SCORES, task_id, round, validator, result))
    dispute_id: uint256 = self._open(task_id, round, KIND_SCORES, validator, result, key, 0, evidence)
    claims._hold(task_id, validator)
    return dispute_id


@internal
def _challenge_result(task_id: uint256, round: uint256, result: bytes32, evidence: bytes32) -> uint256:
    tasks._require_open(task_id)
    checks._need(round == tasks._rounds_done(task_id) + 1, "disputes: round is final")
    proposer: address = rounds.proposals[task_id][round][result].proposer
    checks._need(proposer != empty(address), "disputes: unknown result")
    checks._need(not rounds.proposals[task_id][round][result].rejected, "disputes: result rejected")
    checks._need(block.timestamp < self._window_end(task_id, round, result), "disputes: window closed")
    attesters: uint256 = 0
    validators: DynArray[address, tasks.MAX_VALIDATORS] = tasks._validator_list(task_id)
    seat: uint256 = 0
    for v: address in validators:
        if rounds.attested[task_id][round][v] == result:
            attesters |= 1 << seat
            claims._hold(task_id, v)
        seat += 1
    key: bytes32 = keccak256(abi_encode(KIND_RESULT, task_id, round, result))
    dispute_id: uint256 = self._open(task_id, round, KIND_RESULT, proposer, result, key, attesters, evidence)
    rounds.proposals[task_id][round][result].open_disputes += 1
    return dispute_id


@internal
def _vote(dispute_id: uint256, uphold: bool):
    d: Dispute = self.dispute_of[dispute_id]
    checks._need(d.status == STATUS_OPEN, "disputes: not open")
    checks._need(block.timestamp < d.vote_deadline, "disputes: voting closed")
    weight: uint256 = tasks.weight[d.task_id][msg.sender]
    checks._need(weight > 0, "disputes: caller is not a validator")
    bit: uint256 = 1 << (tasks._seat(d.task_id, msg.sender) - 1)
    checks._need((d.yes_votes | d.no_votes) & bit == 0, "disputes: already voted")
    if uphold:
        self.dispute_of[dispute_id].yes_votes = d.yes_votes | bit
    else:
        self.dispute_of[dispute_id].no_votes = d.no_votes | bit
    log DisputeVoted(dispute_id=dispute_id, validator=msg.sender, uphold=uphold, weight=weight)


@internal
@view
def _tally(d: Dispute) -> (uint256, uint256, uint256):
    """
    @dev (yes, no, eligible) with the weight each validator has now: a
         validator slashed out of the task since it voted counts for nothing,
         and the eligible total shrinks with it.
    """
    yes: uint256 = 0
    no: uint256 = 0
    validators: DynArray[address, tasks.MAX_VALIDATORS] = tasks._validator_list(d.task_id)
    seat: uint256 = 0
    for v: address in validators:
        bit: uint256 = 1 << seat
        seat += 1
        if (d.yes_votes | d.no_votes) & bit == 0:
            continue
        if d.yes_votes & bit != 0:
            yes += tasks.weight[d.task_id][v]
        else:
            no += tasks.weight[d.task_id][v]
    return yes, no, tasks.total_weight[d.task_id]


@internal
def _resolve(dispute_id: uint256) -> bool:
    d: Dispute = self.dispute_of[dispute_id]
    checks._need(d.status == STATUS_OPEN, "disputes: not open")
    yes: uint256 = 0
    no: uint256 = 0
    eligible: uint256 = 0
    yes, no, eligible = self._tally(d)
    upheld: bool = eligible > 0 and yes * 3 >= eligible * 2
    if not upheld:
        checks._need(no * 3 > eligible or block.timestamp >= d.vote_deadline, "disputes: vote still open")
    bond: uint256 = self.params.challenge_bond  # fixed at deployment, so every dispute's bond
    self.bonds_held -= bond
    self.open_in_task[d.task_id] -= 1
    slashed: uint256 = 0
    to: address = d.challenger
    if upheld:
        self.dispute_of[dispute_id].status = STATUS_UPHELD
        slashed = self._uphold(d)
    else:
        self.dispute_of[dispute_id].status = STATUS_DISMISSED
        self._release(d)
        to = self.params.insurance_pool
    checks._need(extcall tasks.token.transfer(to, bond, default_return_value=True), "disputes: transfer failed")
    log DisputeResolved(dispute_id=dispute_id, upheld=upheld, slashed=slashed)
    return upheld


@internal
def _uphold(d: Dispute) -> uint256:
    pool: address = self.params.insurance_pool
    bounty: uint256 = self.params.bounty_bps
    if d.kind == KIND_UPDATE:
        claims._release(d.task_id, d.accused, True)
        claims._cut_reputation(d.task_id, d.accused, self.params.reputation_cut_bps)
        return tasks._slash_bond(d.task_id, d.accused, self.params.trainer_slash_bps, bounty, d.challenger, pool)
    if d.kind == KIND_SCORES:
        claims._release(d.task_id, d.accused, False)
        tasks._drop_validator(d.task_id, d.accused)
        return tasks._slash_bond(d.task_id, d.accused, self.params.validator_slash_bps, bounty, d.challenger, pool)
    challenger_seat: uint256 = tasks._seat(d.task_id, d.challenger)
    if challenger_seat == 0 or d.attesters & (1 << (challenger_seat - 1)) != 0:
        bounty = 0  # only a dissenting validator of the task earns it
    slashed: uint256 = 0
    validators: DynArray[address, tasks.MAX_VALIDATORS] = tasks._validator_list(d.task_id)
    seat: uint256 = 0
    for v: address in validators:
        if d.attesters & (1 << seat) != 0:
            claims._release(d.task_id, v, False)
            slashed += tasks._slash_bond(d.task_id, v, self.params.validator_slash_bps, bounty, d.challenger, pool)
            tasks._drop_validator(d.task_id, v)
        seat += 1
    rounds.proposals[d.task_id][d.round][d.result_hash].open_disputes -= 1
    rounds._reject(d.task_id, d.round, d.result_hash)
    return slashed


@internal
def _release(d: Dispute):
    """
    @dev A dismissed dispute lifts its holds.
    """
    if d.kind != KIND_RESULT:
        claims._release(d.task_id, d.accused, False)
        return
    rounds.proposals[d.task_id][d.round][d.result_hash].open_disputes -= 1
    validators: DynArray[address, tasks.MAX_VALIDATORS] = tasks._validator_list(d.task_id)
    seat: uint256 = 0
    for v: address in validators:
        if d.attesters & (1 << seat) != 0:
            claims._release(d.task_id, v, False)
        seat += 1


@external
@view
def tally(dispute_id: uint256) -> (uint256, uint256, uint256):
    """
    @notice (yes weight, no weight, eligible weight) as `resolve` would count them now.
    """
    return self._tally(self.dispute_of[dispute_id])
