# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title tasks
@custom:contract-name tasks
@license MIT
@notice Task records, their escrow, and who is bonded to each task. The
        requester lists the task's validators and the bond it asks of
        each; a listed validator that joins bonds exactly that amount of
        its stake and votes with it as its weight. A trainer joins with a
        bond of at least the task's minimum. Bonds stay in the stake
        registry, unwithdrawable, until the task is closed and no dispute
        against the participant is pending: the stake behind a weight or
        a commitment cannot leave while it can be slashed, and the same
        stake never backs two tasks. The stake registry keeps the bonds;
        this module decides who may bond what. A validator that never joins counts
        in the quorum's denominator as an absent voter; a validator
        slashed in a task loses its weight there.
"""

from ethereum.ercs import IERC20
from modules import checks
from interfaces import IStakeRegistry


ROLE_TRAINER: constant(uint8) = 1
ROLE_VALIDATOR: constant(uint8) = 2
MAX_VALIDATORS: constant(uint256) = 32
_BPS: constant(uint256) = 10_000
# @dev The purse, one slot per task that every claim reads anyway:
# escrow left [0, 128), rounds final [128, 192), reputation weight in
# basis points [192, 256).
_LEFT_MASK: constant(uint256) = 2**128 - 1
_DONE_SHIFT: constant(uint256) = 128
_DONE_MASK: constant(uint256) = 2**64 - 1
_WORTH_SHIFT: constant(uint256) = 192
# @dev A listed validator's seat: its 1-based index [0, 8), the bond the
# requester asked of it [8, 256).
_SEAT_MASK: constant(uint256) = 2**8 - 1
_ASK_SHIFT: constant(uint256) = 8


struct Task:
    requester: address
    budget: uint256
    rounds: uint256
    cohort_size: uint256
    min_stake: uint256
    settle_every: uint256
    deadline: uint256
    seed: bytes32
    genesis_model_hash: bytes32
    closed: bool


token: public(immutable(IERC20))
registry: public(immutable(IStakeRegistry))
# @dev Budget per round that earns a full reputation point per accepted round.
reputation_unit: public(immutable(uint256))
task_count: public(uint256)
task_of: public(HashMap[uint256, Task])
# @dev Cumulative rewards in the task's latest final rewards root.
committed: public(HashMap[uint256, uint256])
weight: public(HashMap[uint256, HashMap[address, uint256]])
total_weight: public(HashMap[uint256, uint256])
_validators: HashMap[uint256, DynArray[address, MAX_VALIDATORS]]
_seats: HashMap[uint256, HashMap[address, uint256]]
_purse: HashMap[uint256, uint256]


event TaskCreated:
    task_id: indexed(uint256)
    requester: indexed(address)
    budget: uint256
    rounds: uint256
    settle_every: uint256


event TaskJoined:
    task_id: indexed(uint256)
    account: indexed(address)
    role: uint8
    bond: uint256


# @dev An upheld dispute against a validator took its weight out of the task's quorum.
event ValidatorDropped:
    task_id: indexed(uint256)
    validator: indexed(address)
    weight: uint256


@deploy
def __init__(token_: IERC20, registry_: IStakeRegistry, reputation_unit_: uint256):
    assert reputation_unit_ > 0, "tasks: zero reputation unit"
    token = token_
    registry = registry_
    reputation_unit = reputation_unit_


@internal
def _create(task: Task, validators: DynArray[address, MAX_VALIDATORS], asks: DynArray[uint256, MAX_VALIDATORS]) -> uint256:
    """
    @dev Records `task` with its validators and the bond asked of each,
         and pulls the budget. Nobody's stake moves until they join.
    """
    checks._need(task.budget > 0, "tasks: zero budget")
    checks._need(task.budget <= _LEFT_MASK, "tasks: budget too large")
    checks._need(task.rounds > 0 and task.rounds <= _DONE_MASK, "tasks: bad round count")
    checks._need(task.cohort_size > 0, "tasks: zero cohort")
    checks._need(task.settle_every > 0 and task.settle_every <= task.rounds, "tasks: bad settlement period")
    checks._need(len(validators) > 0, "tasks: no validators")
    checks._need(len(asks) == len(validators), "tasks: one bond per validator")
    checks._need(task.deadline > block.timestamp, "tasks: deadline passed")
    task_id: uint256 = self.task_count + 1
    self.task_count = task_id
    total: uint256 = 0
    seat: uint256 = 0
    for v: address in validators:
        checks._need(staticcall registry.role_of(v) == ROLE_VALIDATOR, "tasks: validator not registered")
        checks._need(self._seats[task_id][v] == 0, "tasks: duplicate validator")
        ask: uint256 = asks[seat]
        checks._need(ask > 0, "tasks: zero validator bond")
        seat += 1
        self._seats[task_id][v] = (ask << _ASK_SHIFT) | seat
        total += ask
    self.total_weight[task_id] = total
    self._validators[task_id] = validators
    self.task_of[task_id] = task
    worth: uint256 = min(task.budget // task.rounds * _BPS // reputation_unit, _BPS)
    self._purse[task_id] = (worth << _WORTH_SHIFT) | task.budget
    checks._need(extcall token.transferFrom(task.requester, self, task.budget, default_return_value=True), "tasks: transfer failed")
    log TaskCreated(
        task_id=task_id, requester=task.requester, budget=task.budget, rounds=task.rounds, settle_every=task.settle_every
    )
    return task_id


@internal
def _join(task_id: uint256, account: address, amount: uint256):
    """
    @dev A listed validator bonds exactly what the requester asked of it
         and gains that weight; a trainer bonds at least the task's
         minimum. Either way the registry refuses stake already bonded.
    """
    self._require_open(task_id)
    role: uint8 = extcall registry.bond(account, task_id, amount)  # reverts if bonded already or not free
    if role == ROLE_VALIDATOR:
        seat: uint256 = self._seats[task_id][account]
        checks._need(seat != 0, "tasks: not a validator of the task")
        checks._need(amount == seat >> _ASK_SHIFT, "tasks: bond differs from the ask")
        self.weight[task_id][account] = amount
    else:
        checks._need(amount >= self.task_of[task_id].min_stake, "tasks: bond below the task minimum")
    log TaskJoined(task_id=task_id, account=account, role=role, bond=amount)


@internal
def _slash_bond(task_id: uint256, account: address, slash_bps: uint256, bounty_bps: uint256, bounty_to: address, rest_to: address) -> uint256:
    """
    @dev Slashes `slash_bps` of `account`'s bond in the task: `bounty_bps`
         of it to `bounty_to`, the rest to `rest_to`.
    @return uint256 The base units slashed.
    """
    total: uint256 = staticcall registry.bond_of(self, task_id, account) * slash_bps // _BPS
    bounty: uint256 = total * bounty_bps // _BPS
    extcall registry.slash(account, task_id, bounty, bounty_to)
    extcall registry.slash(account, task_id, total - bounty, rest_to)
    return total


@internal
@view
def _require_open(task_id: uint256) -> uint256:
    """
    @dev Reverts unless the task exists and is open; returns its round
         count. Reads two fields, not the whole record (gas).
    """
    num_rounds: uint256 = self.task_of[task_id].rounds
    assert num_rounds > 0, "tasks: unknown task"
    assert not self.task_of[task_id].closed, "tasks: task closed"
    return num_rounds


@internal
@view
def _check_validator(task_id: uint256, account: address):
    assert self.weight[task_id][account] > 0, "tasks: caller is not a validator"


@internal
@view
def _seat(task_id: uint256, account: address) -> uint256:
    """
    @dev `account`'s 1-based seat among the task's validators, 0 if not listed.
    """
    return self._seats[task_id][account] & _SEAT_MASK


@internal
@view
def _escrow_left(task_id: uint256) -> uint256:
    return self._purse[task_id] & _LEFT_MASK


@internal
@view
def _rounds_done(task_id: uint256) -> uint256:
    return (self._purse[task_id] >> _DONE_SHIFT) & _DONE_MASK


@internal
def _set_rounds_done(task_id: uint256, done: uint256):
    purse: uint256 = self._purse[task_id]
    self._purse[task_id] = (purse & ~(_DONE_MASK << _DONE_SHIFT)) | (done << _DONE_SHIFT)


@internal
@pure
def _unpack_purse(purse: uint256) -> (uint256, uint256, uint256):
    """
    @return (escrow left, rounds final, reputation weight in basis points)
    """
    return purse & _LEFT_MASK, (purse >> _DONE_SHIFT) & _DONE_MASK, purse >> _WORTH_SHIFT


@internal
def _pay_out(task_id: uint256, to: address, amount: uint256):
    """
    @dev Sends `amount` of the task's escrow to `to`; the escrow caps it.
    """
    purse: uint256 = self._purse[task_id]
    assert amount <= purse & _LEFT_MASK, "tasks: exceeds escrow"
    self._purse[task_id] = unsafe_sub(purse, amount)  # the low field holds at least `amount`
    assert extcall token.transfer(to, amount, default_return_value=True), "tasks: transfer failed"


@internal
def _drop_validator(task_id: uint256, validator: address):
    """
    @dev Removes a slashed validator's weight from the task.
    """
    dropped: uint256 = self.weight[task_id][validator]
    self.total_weight[task_id] -= dropped
    self.weight[task_id][validator] = 0
    log ValidatorDropped(task_id=task_id, validator=validator, weight=dropped)


@internal
@view
def _validator_list(task_id: uint256) -> DynArray[address, MAX_VALIDATORS]:
    return self._validators[task_id]


@external
@view
def validators(task_id: uint256) -> DynArray[address, MAX_VALIDATORS]:
    """
    @notice A task's validators, in the order given at creation.
    """
    return self._validators[task_id]


@external
@view
def asked_bond(task_id: uint256, validator: address) -> uint256:
    """
    @notice The bond the requester asked of a listed validator (0 if not listed).
    """
    return self._seats[task_id][validator] >> _ASK_SHIFT


@external
@view
def escrow_left(task_id: uint256) -> uint256:
    """
    @notice Tokens still held for a task: budget minus everything paid out.
    """
    return self._escrow_left(task_id)


@external
@view
def rounds_done(task_id: uint256) -> uint256:
    """
    @notice Rounds of the task that are final.
    """
    return self._rounds_done(task_id)


@external
@view
def reputation_weight(task_id: uint256) -> uint256:
    """
    @notice Basis points of a reputation point one accepted round of the task earns.
    """
    return self._purse[task_id] >> _WORTH_SHIFT
