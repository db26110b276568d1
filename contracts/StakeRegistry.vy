# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title StakeRegistry
@custom:contract-name StakeRegistry
@license MIT
@notice Holds the stake of every trainer and validator, and what part
        of it is bonded to which task. A contract the owner authorises as a
        slasher (the task market) bonds part of a participant's stake to
        one of its tasks when the participant joins it, and only if the
        participant trusts that slasher: the owner's authorisation alone
        puts nobody's stake at risk. Only that slasher can slash or release
        that bond, and bonded stake cannot be unbonded. Stake that an open task or a pending dispute could slash
        therefore never leaves, and the same stake never backs two tasks
        at once. Free stake unbonds after a delay.
"""

from ethereum.ercs import IERC20

from snekmate.auth import ownable as ow
initializes: ow

exports: (ow.owner, ow.transfer_ownership)


# @dev Roles a staker holds; an address holds at most one.
ROLE_NONE: constant(uint8) = 0
ROLE_TRAINER: constant(uint8) = 1
ROLE_VALIDATOR: constant(uint8) = 2


token: public(immutable(IERC20))
min_stake: public(uint256)
unbond_delay: public(uint256)

stake_of: public(HashMap[address, uint256])
unbonding_of: public(HashMap[address, uint256])
unbond_ready_at: public(HashMap[address, uint256])
role_of: public(HashMap[address, uint8])
total_staked: public(HashMap[uint8, uint256])
is_slasher: public(HashMap[address, bool])
# @dev The slashers each account consented to: account -> slasher -> trusted.
trusts: public(HashMap[address, HashMap[address, bool]])
# @dev Active stake bonded to tasks: in total, and per (slasher, task id).
bonded_of: public(HashMap[address, uint256])
bond_of: public(HashMap[address, HashMap[uint256, HashMap[address, uint256]]])
slashed_of: public(HashMap[address, uint256])
# @dev The part of `stake_of` that delegators delegated through `delegation`
# (the one contract the owner names, once): it bonds and counts like the
# account's own stake, a slash takes it pro rata, and only `delegation`
# moves it.
delegated_of: public(HashMap[address, uint256])
delegation: public(address)


event Staked:
    account: indexed(address)
    role: uint8
    amount: uint256


event UnbondRequested:
    account: indexed(address)
    amount: uint256
    ready_at: uint256


event Withdrawn:
    account: indexed(address)
    amount: uint256


event Slashed:
    account: indexed(address)
    amount: uint256
    recipient: indexed(address)


event Bonded:
    account: indexed(address)
    slasher: indexed(address)
    task_id: uint256
    amount: uint256


event Released:
    account: indexed(address)
    slasher: indexed(address)
    task_id: uint256
    amount: uint256


event SlasherChanged:
    slasher: indexed(address)
    status: bool


event DelegatedChanged:
    account: indexed(address)
    delegated: uint256


event DelegationSet:
    delegation: indexed(address)


event MinStakeChanged:
    min_stake: uint256


event TrustChanged:
    account: indexed(address)
    slasher: indexed(address)
    status: bool


@deploy
@payable
def __init__(token_: IERC20, min_stake_: uint256, unbond_delay_: uint256):
    """
    @param token_ The ERC-20 staked.
    @param min_stake_ The smallest active stake an account may hold
           (zero excepted: a full exit is always allowed).
    @param unbond_delay_ Seconds between an unbond request and the
           withdrawal it allows.
    """
    ow.__init__()
    token = token_
    self.min_stake = min_stake_
    self.unbond_delay = unbond_delay_


@external
def stake(amount: uint256, role: uint8):
    """
    @notice Pulls `amount` tokens (approve first) into the caller's
            active stake under `role`.
    @param amount Base units to add.
    @param role ROLE_TRAINER (1) or ROLE_VALIDATOR (2); fixed at the
           first stake.
    """
    assert amount > 0, "stake: zero amount"
    assert role == ROLE_TRAINER or role == ROLE_VALIDATOR, "stake: unknown role"
    held: uint8 = self.role_of[msg.sender]
    assert held == ROLE_NONE or held == role, "stake: role mismatch"
    new_stake: uint256 = self.stake_of[msg.sender] + amount
    assert new_stake - self.delegated_of[msg.sender] >= self.min_stake, "stake: below minimum"
    self.role_of[msg.sender] = role
    self.stake_of[msg.sender] = new_stake
    self.total_staked[role] += amount
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True), "stake: transfer failed"
    log Staked(account=msg.sender, role=role, amount=amount)


@external
def request_unbond(amount: uint256):
    """
    @notice Moves `amount` of free (unbonded) active stake to unbonding;
            it can be withdrawn `unbond_delay` seconds after the latest
            request.
    @param amount Base units to unbond.
    """
    assert amount > 0, "stake: zero amount"
    active: uint256 = self.stake_of[msg.sender]
    own: uint256 = active - self.delegated_of[msg.sender]
    assert amount <= own, "stake: insufficient stake"
    assert amount <= active - self.bonded_of[msg.sender], "stake: bonded to a task"
    assert own == amount or own - amount >= self.min_stake, "stake: below minimum"
    remaining: uint256 = active - amount
    self.stake_of[msg.sender] = remaining
    self.total_staked[self.role_of[msg.sender]] -= amount
    self.unbonding_of[msg.sender] += amount
    ready_at: uint256 = block.timestamp + self.unbond_delay
    self.unbond_ready_at[msg.sender] = ready_at
    log UnbondRequested(account=msg.sender, amount=amount, ready_at=ready_at)


@external
def withdraw() -> uint256:
    """
    @notice Pays out the caller's unbonded stake once the delay passed.
    @return uint256 The base units paid.
    """
    amount: uint256 = self.unbonding_of[msg.sender]
    assert amount > 0, "stake: nothing unbonding"
    assert block.timestamp >= self.unbond_ready_at[msg.sender], "stake: still unbonding"
    self.unbonding_of[msg.sender] = 0
    assert extcall token.transfer(msg.sender, amount, default_return_value=True), "stake: transfer failed"
    log Withdrawn(account=msg.sender, amount=amount)
    return amount


@external
def bond(account: address, task_id: uint256, amount: uint256) -> uint8:
    """
    @notice Bonds `amount` of `account`'s free active stake to the caller's
            task `task_id`: it cannot be unbonded until the caller releases it.
    @dev Only slashers the owner authorised and the account trusts, once
         per (task, account): the owner's key alone can bond, and so slash,
         nobody.
    @return uint8 The account's role, so the caller checks it in the same call.
    """
    assert self.is_slasher[msg.sender], "stake: caller is not a slasher"
    assert self.trusts[account][msg.sender], "stake: not trusted"
    assert amount > 0, "stake: zero amount"
    assert self.bond_of[msg.sender][task_id][account] == 0, "stake: already bonded"
    bonded: uint256 = self.bonded_of[account] + amount
    assert bonded <= self.stake_of[account], "stake: not enough free stake"
    self.bonded_of[account] = bonded
    self.bond_of[msg.sender][task_id][account] = amount
    log Bonded(account=account, slasher=msg.sender, task_id=task_id, amount=amount)
    return self.role_of[account]


@external
def release(account: address, task_id: uint256) -> uint256:
    """
    @notice Returns what is left of `account`'s bond to the caller's task to
            free stake.
    @dev Needs no authorisation: a caller only ever releases its own bonds,
         so revoking a slasher never strands the stake it holds.
    @return uint256 The base units released.
    """
    amount: uint256 = self.bond_of[msg.sender][task_id][account]
    assert amount > 0, "stake: nothing bonded"
    self.bond_of[msg.sender][task_id][account] = 0
    self.bonded_of[account] -= amount
    log Released(account=account, slasher=msg.sender, task_id=task_id, amount=amount)
    return amount


@external
def slash(account: address, task_id: uint256, amount: uint256, recipient: address) -> uint256:
    """
    @notice Takes `amount` of `account`'s bond to the caller's task and
            sends it to `recipient`.
    @dev Only what the caller bonded, so one market's penalty never eats
         the stake backing another's task; needs no authorisation beyond
         the bond (a revoked slasher can still settle its open disputes).
    @return uint256 The base units slashed.
    """
    assert recipient != empty(address), "stake: zero recipient"
    assert amount <= self.bond_of[msg.sender][task_id][account], "stake: not bonded by caller"
    if amount == 0:
        return 0
    active: uint256 = self.stake_of[account]
    delegated: uint256 = self.delegated_of[account]
    if delegated > 0:
        # @dev Pro rata, rounded in the delegators' favour: the account bears the dust.
        delegated -= amount * delegated // active
        self.delegated_of[account] = delegated
        log DelegatedChanged(account=account, delegated=delegated)
    self.bond_of[msg.sender][task_id][account] -= amount
    self.bonded_of[account] -= amount
    self.stake_of[account] = active - amount
    self.total_staked[self.role_of[account]] -= amount
    self.slashed_of[account] += amount
    assert extcall token.transfer(recipient, amount, default_return_value=True), "stake: transfer failed"
    log Slashed(account=account, amount=amount, recipient=recipient)
    return amount


@external
def add_delegated(account: address, amount: uint256):
    """
    @notice Pulls `amount` tokens from the delegation contract into
            `account`'s active stake, as delegated stake.
    @dev Pulled, not credited: a delegation contract cannot add weight it
         did not pay for.
    """
    assert msg.sender == self.delegation, "stake: caller is not the delegation"
    role: uint8 = self.role_of[account]
    assert role != ROLE_NONE, "stake: not staked"
    self.stake_of[account] += amount
    delegated: uint256 = self.delegated_of[account] + amount
    self.delegated_of[account] = delegated
    self.total_staked[role] += amount
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True), "stake: transfer failed"
    log DelegatedChanged(account=account, delegated=delegated)


@external
def remove_delegated(account: address, amount: uint256):
    """
    @notice Returns `amount` of `account`'s delegated stake to the
            delegation contract, which holds it through the unbonding delay.
    @dev Only free stake: delegated stake backing a task cannot leave either.
    """
    assert msg.sender == self.delegation, "stake: caller is not the delegation"
    delegated: uint256 = self.delegated_of[account]
    assert amount <= delegated, "stake: insufficient delegated stake"
    active: uint256 = self.stake_of[account]
    assert amount <= active - self.bonded_of[account], "stake: bonded to a task"
    self.stake_of[account] = active - amount
    self.delegated_of[account] = delegated - amount
    self.total_staked[self.role_of[account]] -= amount
    assert extcall token.transfer(msg.sender, amount, default_return_value=True), "stake: transfer failed"
    log DelegatedChanged(account=account, delegated=delegated - amount)


@external
def set_delegation(delegation_: address):
    """
    @notice Names the delegation contract, once: a second one could move
            the first one's delegated stake.
    """
    ow._check_owner()
    assert self.delegation == empty(address), "stake: delegation already set"
    assert delegation_ != empty(address), "stake: zero delegation"
    self.delegation = delegation_
    log DelegationSet(delegation=delegation_)


@external
@view
def stakes_of(accounts: DynArray[address, 1024]) -> DynArray[uint256, 1024]:
    """
    @notice Active stake of many accounts in one call (cohort selection reads
            every candidate's stake each round).
    """
    out: DynArray[uint256, 1024] = []
    for account: address in accounts:
        out.append(self.stake_of[account])
    return out


@external
@view
def bonds_of(slasher: address, task_id: uint256, accounts: DynArray[address, 1024]) -> DynArray[uint256, 1024]:
    """
    @notice Many accounts' bonds to one task in one call (cohort selection
            weighs the trainers bonded to the task).
    """
    out: DynArray[uint256, 1024] = []
    for account: address in accounts:
        out.append(self.bond_of[slasher][task_id][account])
    return out


@external
def set_slasher(slasher: address, status: bool):
    """
    @notice Authorises or revokes a contract allowed to slash.
    @param slasher The contract address.
    @param status True to authorise.
    """
    ow._check_owner()
    assert slasher != empty(address), "stake: zero slasher"
    self.is_slasher[slasher] = status
    log SlasherChanged(slasher=slasher, status=status)


@external
def set_trust(slasher: address, status: bool):
    """
    @notice Lets `slasher` bond the caller's free stake to its tasks, or
            stops it bonding more.
    @dev An account's own consent, which the owner's `set_slasher` cannot
         give. Revoking leaves the bonds the slasher already holds: what an
         open task or a pending dispute can slash must not leave that way.
    @param slasher The contract (the task market) to trust or not.
    @param status True to trust.
    """
    self.trusts[msg.sender][slasher] = status
    log TrustChanged(account=msg.sender, slasher=slasher, status=status)


@external
def set_min_stake(min_stake_: uint256):
    """
    @notice Changes the minimum active stake for future stakes and unbonds.
    @param min_stake_ Base units.
    """
    ow._check_owner()
    self.min_stake = min_stake_
    log MinStakeChanged(min_stake=min_stake_)
