# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title claims
@custom:contract-name claims
@license MIT
@notice Cumulative reward claims against a task's latest final rewards
        root, and the on-chain reputation they carry. A leaf commits to
        (account, cumulative amount, cumulative accepted rounds); a claim
        pays the amount not yet claimed and raises the claimer's
        reputation by the accepted rounds not yet counted, so reputation
        follows finalised accepted rounds at O(1) gas per claim whatever
        the cohort size. A leaf never counts more rounds than the task
        has final, and a round earns a whole point only when the task
        pays at least the reputation unit per round (a 1-wei task earns
        none). Both running totals share one storage slot.
"""

from modules import tasks
uses: tasks

from modules import rounds
uses: rounds

from modules import checks
from modules import proofs


MAX_PROOF_DEPTH: constant(uint256) = proofs.MAX_PROOF_DEPTH
_BPS: constant(uint256) = 10_000
# @dev Per (task, account), one slot: accepted rounds counted [0, 64),
# open update disputes [64, 96), forfeited flag at bit 96, claimed amount
# [128, 256). One cold read and one write per claim.
_ROUNDS_MASK: constant(uint256) = 2**64 - 1
_HOLD_SHIFT: constant(uint256) = 64
_HOLD_MASK: constant(uint256) = 2**32 - 1
_FORFEITED: constant(uint256) = 2**96
_AMOUNT_SHIFT: constant(uint256) = 128
_MAX_AMOUNT: constant(uint256) = 2**128 - 1


_claims: HashMap[uint256, HashMap[address, uint256]]
reputation: public(HashMap[address, uint256])


event Registered:
    account: indexed(address)


event Claimed:
    task_id: indexed(uint256)
    account: indexed(address)
    amount: uint256
    # @dev The leaf's cumulative accepted rounds: what the trainer's updates earned in the task so far.
    accepted_rounds: uint256


# @dev Every move of an account's reputation after `Registered` (which sets it to 1): a claim
# adds its accepted rounds' points, an upheld update dispute cuts it.
event ReputationChanged:
    account: indexed(address)
    task_id: indexed(uint256)
    reputation: uint256


event ForfeitReclaimed:
    task_id: indexed(uint256)
    account: indexed(address)
    amount: uint256


@internal
def _register():
    """
    @dev Registration gives a trainer its first reputation point, so the
         slot later claims raise already exists (and selection can tell
         registered trainers apart).
    """
    checks._need(self.reputation[msg.sender] == 0, "claims: already registered")
    self.reputation[msg.sender] = 1
    log Registered(account=msg.sender)


@internal
@pure
def _leaf(account: address, cumulative_amount: uint256, accepted_rounds: uint256) -> bytes32:
    return keccak256(abi_encode(keccak256(abi_encode(account, cumulative_amount, accepted_rounds))))


@internal
@view
def _proven_increase(
    task_id: uint256,
    account: address,
    cumulative_amount: uint256,
    accepted_rounds: uint256,
    proof: DynArray[bytes32, MAX_PROOF_DEPTH],
) -> (uint256, uint256, uint256):
    """
    @dev Checks the leaf against the latest root.
    @return (amount not yet paid, reputation not yet counted, packed new state)
    """
    root: bytes32 = rounds.rewards_root[task_id]
    assert root != empty(bytes32), "claims: no rewards yet"
    assert cumulative_amount <= _MAX_AMOUNT, "claims: value out of range"
    left: uint256 = 0
    done: uint256 = 0
    worth_bps: uint256 = 0
    left, done, worth_bps = tasks._unpack_purse(tasks._purse[task_id])
    assert accepted_rounds <= done, "claims: more rounds than done"
    leaf: bytes32 = self._leaf(account, cumulative_amount, accepted_rounds)
    assert proofs._root_from(proof, leaf) == root, "claims: invalid proof"
    packed: uint256 = self._claims[task_id][account]
    already: uint256 = packed >> _AMOUNT_SHIFT
    counted: uint256 = packed & _ROUNDS_MASK
    assert cumulative_amount >= already and accepted_rounds >= counted, "claims: stale leaf"
    assert cumulative_amount > already or accepted_rounds > counted, "claims: nothing to claim"
    standing: uint256 = packed & ((_HOLD_MASK << _HOLD_SHIFT) | _FORFEITED)
    new_packed: uint256 = (cumulative_amount << _AMOUNT_SHIFT) | standing | accepted_rounds
    return cumulative_amount - already, (accepted_rounds - counted) * worth_bps // _BPS, new_packed


@internal
def _claim(
    task_id: uint256, cumulative_amount: uint256, accepted_rounds: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]
) -> uint256:
    amount: uint256 = 0
    points: uint256 = 0
    packed: uint256 = 0
    amount, points, packed = self._proven_increase(task_id, msg.sender, cumulative_amount, accepted_rounds, proof)
    assert packed & _FORFEITED == 0, "claims: rewards forfeited"
    assert (packed >> _HOLD_SHIFT) & _HOLD_MASK == 0, "claims: dispute pending"
    self._claims[task_id][msg.sender] = packed
    if points > 0:
        raised: uint256 = self.reputation[msg.sender] + points
        self.reputation[msg.sender] = raised
        log ReputationChanged(account=msg.sender, task_id=task_id, reputation=raised)
    if amount > 0:
        tasks._pay_out(task_id, msg.sender, amount)
    log Claimed(task_id=task_id, account=msg.sender, amount=amount, accepted_rounds=accepted_rounds)
    return amount


@internal
def _reclaim_forfeited(
    task_id: uint256,
    account: address,
    cumulative_amount: uint256,
    accepted_rounds: uint256,
    proof: DynArray[bytes32, MAX_PROOF_DEPTH],
) -> uint256:
    """
    @dev Returns a forfeited trainer's unclaimed rewards to the requester.
    """
    checks._need(self._claims[task_id][account] & _FORFEITED != 0, "claims: not forfeited")
    amount: uint256 = 0
    points: uint256 = 0
    packed: uint256 = 0
    amount, points, packed = self._proven_increase(task_id, account, cumulative_amount, accepted_rounds, proof)
    self._claims[task_id][account] = packed
    if amount > 0:
        tasks._pay_out(task_id, tasks.task_of[task_id].requester, amount)
    log ForfeitReclaimed(task_id=task_id, account=account, amount=amount)
    return amount


@internal
def _cut_reputation(task_id: uint256, account: address, cut_bps: uint256):
    """
    @dev An upheld dispute in `task_id` cuts reputation by `cut_bps`, never
         below one point for a registered account.
    """
    current: uint256 = self.reputation[account]
    if current > 0:
        cut: uint256 = max(1, current * (_BPS - cut_bps) // _BPS)
        self.reputation[account] = cut
        log ReputationChanged(account=account, task_id=task_id, reputation=cut)


@internal
def _hold(task_id: uint256, account: address):
    """
    @dev A dispute that can slash `account` in the task opened: its claims
         and the release of its bond wait.
    """
    self._claims[task_id][account] += 1 << _HOLD_SHIFT


@internal
def _release(task_id: uint256, account: address, forfeit: bool):
    """
    @dev That dispute ended; an upheld one forfeits the task's rewards.
    """
    packed: uint256 = self._claims[task_id][account] - (1 << _HOLD_SHIFT)
    if forfeit:
        packed = packed | _FORFEITED
    self._claims[task_id][account] = packed


@external
@view
def claimed(task_id: uint256, account: address) -> uint256:
    """
    @notice Base units `account` has claimed from `task_id` so far.
    """
    return self._claims[task_id][account] >> _AMOUNT_SHIFT


@external
@view
def forfeited(task_id: uint256, account: address) -> bool:
    """
    @notice True once an upheld update dispute forfeited `account`'s rewards in `task_id`.
    """
    return self._claims[task_id][account] & _FORFEITED != 0


@external
@view
def holds(task_id: uint256, account: address) -> uint256:
    """
    @notice Open disputes that can slash `account` in `task_id`.
    """
    return (self._claims[task_id][account] >> _HOLD_SHIFT) & _HOLD_MASK


@external
@view
def counted_rounds(task_id: uint256, account: address) -> uint256:
    """
    @notice Accepted rounds of `task_id` already added to `account`'s reputation.
    """
    return self._claims[task_id][account] & _ROUNDS_MASK
