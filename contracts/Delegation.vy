# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Delegation
@custom:contract-name Delegation
@license MIT
@notice Token holders delegate to a staked trainer or validator (the
        delegate). Delegated tokens sit in the stake registry as part of
        the delegate's active stake, so they bond to tasks, weigh in the
        quorum and in the cohort draw like its own, and a slash takes them
        pro rata (the registry cuts `delegated_of` with the stake). Each
        delegate has a pool: delegators own shares of `delegated_of`, so a
        slash lowers every share's value at O(1). Rewards reach the pool
        when the delegate shares them (`share_rewards`): the delegators'
        part of what its stake earned, less its take, credited per share,
        so a claim costs the same gas for any number of delegators. The
        take is 0-18%; a cut applies at once, a raise after the unbonding
        delay. Undelegating waits that same delay; stake under unbonding
        is no longer slashable, as in the registry. No key administers
        this contract: nobody can stop undelegating, withdrawing or claiming.
"""

from ethereum.ercs import IERC20


interface Registry:
    def stake_of(account: address) -> uint256: view
    def delegated_of(account: address) -> uint256: view
    def role_of(account: address) -> uint8: view
    def unbond_delay() -> uint256: view
    def add_delegated(account: address, amount: uint256): nonpayable
    def remove_delegated(account: address, amount: uint256): nonpayable


MAX_TAKE_BPS: constant(uint256) = 1_800
_BPS: constant(uint256) = 10_000
# @dev Fixed-point scale of the reward per share.
_SCALE: constant(uint256) = 10**36


token: public(immutable(IERC20))
registry: public(immutable(Registry))

is_delegate: public(HashMap[address, bool])
take_bps: public(HashMap[address, uint256])
pending_take_bps: public(HashMap[address, uint256])
# @dev When the queued raise applies; 0 when none is queued.
take_ready_at: public(HashMap[address, uint256])
# @dev delegate -> shares outstanding, and cumulative reward per share (scaled).
total_shares: public(HashMap[address, uint256])
reward_per_share: public(HashMap[address, uint256])
# @dev delegator -> delegate -> shares, reward debt (scaled per share, rounded up), settled but unclaimed.
shares_of: public(HashMap[address, HashMap[address, uint256]])
_debt: HashMap[address, HashMap[address, uint256]]
owed_of: public(HashMap[address, HashMap[address, uint256]])
unbonding_of: public(HashMap[address, uint256])
unbond_ready_at: public(HashMap[address, uint256])


event DelegateOpened:
    delegate: indexed(address)
    take_bps: uint256


event TakeChanged:
    delegate: indexed(address)
    take_bps: uint256


event TakeRaiseQueued:
    delegate: indexed(address)
    take_bps: uint256
    ready_at: uint256


event Delegated:
    delegator: indexed(address)
    delegate: indexed(address)
    amount: uint256
    shares: uint256


event UndelegateRequested:
    delegator: indexed(address)
    delegate: indexed(address)
    shares: uint256
    amount: uint256
    ready_at: uint256


event Withdrawn:
    delegator: indexed(address)
    amount: uint256


event RewardsShared:
    delegate: indexed(address)
    earned: uint256
    take_bps: uint256
    to_delegators: uint256


event RewardsClaimed:
    delegator: indexed(address)
    delegate: indexed(address)
    amount: uint256


@deploy
def __init__(token_: IERC20, registry_: Registry):
    token = token_
    registry = registry_
    # @dev The registry pulls delegated tokens from here (see `add_delegated`).
    extcall token_.approve(registry_.address, max_value(uint256))


@external
def open(take_bps_: uint256):
    """
    @notice Makes the caller, a staked trainer or validator, a delegate
            with take `take_bps_`.
    """
    assert staticcall registry.role_of(msg.sender) != 0, "delegate: not staked"
    assert not self.is_delegate[msg.sender], "delegate: already open"
    assert take_bps_ <= MAX_TAKE_BPS, "delegate: take above 18%"
    self.is_delegate[msg.sender] = True
    self.take_bps[msg.sender] = take_bps_
    log DelegateOpened(delegate=msg.sender, take_bps=take_bps_)


@external
def set_take(take_bps_: uint256):
    """
    @notice A cut applies at once (and drops a queued raise); a raise
            applies after the unbonding delay, time for delegators to leave.
    """
    assert self.is_delegate[msg.sender], "delegate: not a delegate"
    assert take_bps_ <= MAX_TAKE_BPS, "delegate: take above 18%"
    current: uint256 = self._settled_take(msg.sender)
    if take_bps_ <= current:
        self.take_bps[msg.sender] = take_bps_
        self.pending_take_bps[msg.sender] = 0
        self.take_ready_at[msg.sender] = 0
        log TakeChanged(delegate=msg.sender, take_bps=take_bps_)
    else:
        ready_at: uint256 = block.timestamp + staticcall registry.unbond_delay()
        self.pending_take_bps[msg.sender] = take_bps_
        self.take_ready_at[msg.sender] = ready_at
        log TakeRaiseQueued(delegate=msg.sender, take_bps=take_bps_, ready_at=ready_at)


@internal
def _settled_take(delegate: address) -> uint256:
    """
    @dev Applies a queued raise whose delay has passed; returns the take in force.
    """
    ready_at: uint256 = self.take_ready_at[delegate]
    if ready_at != 0 and block.timestamp >= ready_at:
        raised: uint256 = self.pending_take_bps[delegate]
        self.take_bps[delegate] = raised
        self.pending_take_bps[delegate] = 0
        self.take_ready_at[delegate] = 0
        log TakeChanged(delegate=delegate, take_bps=raised)
        return raised
    return self.take_bps[delegate]


@external
@view
def take_of(delegate: address) -> uint256:
    """
    @notice The take in force now, a matured raise included.
    """
    ready_at: uint256 = self.take_ready_at[delegate]
    if ready_at != 0 and block.timestamp >= ready_at:
        return self.pending_take_bps[delegate]
    return self.take_bps[delegate]


@internal
@pure
def _ceil_div(a: uint256, b: uint256) -> uint256:
    return (a + b - 1) // b


@internal
def _settle(delegator: address, delegate: address, shares: uint256) -> uint256:
    """
    @dev Moves what `shares` earned since the last settlement to `owed_of`.
         The debt rounds up and the credit down, so the pool never owes
         more than was shared into it.
    @return uint256 The reward per share now.
    """
    acc: uint256 = self.reward_per_share[delegate]
    earned: uint256 = shares * acc // _SCALE
    debt: uint256 = self._debt[delegator][delegate]
    if earned > debt:
        self.owed_of[delegator][delegate] += earned - debt
    return acc


@external
def delegate(delegate_: address, amount: uint256) -> uint256:
    """
    @notice Pulls `amount` tokens (approve first) into `delegate_`'s pool.
    @return uint256 The shares minted.
    """
    assert self.is_delegate[delegate_], "delegate: not a delegate"
    assert amount > 0, "delegate: zero amount"
    supply: uint256 = self.total_shares[delegate_]
    minted: uint256 = amount
    if supply > 0:
        pool: uint256 = staticcall registry.delegated_of(delegate_)
        assert pool > 0, "delegate: pool slashed to zero"
        minted = amount * supply // pool
    assert minted > 0, "delegate: amount too small"
    held: uint256 = self.shares_of[msg.sender][delegate_]
    acc: uint256 = self._settle(msg.sender, delegate_, held)
    self.shares_of[msg.sender][delegate_] = held + minted
    self._debt[msg.sender][delegate_] = self._ceil_div((held + minted) * acc, _SCALE)
    self.total_shares[delegate_] = supply + minted
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True), "delegate: transfer failed"
    extcall registry.add_delegated(delegate_, amount)
    log Delegated(delegator=msg.sender, delegate=delegate_, amount=amount, shares=minted)
    return minted


@external
def request_undelegate(delegate_: address, shares: uint256) -> uint256:
    """
    @notice Redeems `shares` of `delegate_`'s pool for their tokens now,
            withdrawable after the unbonding delay (counted from the latest
            request). Only the delegate's free stake can leave.
    @return uint256 The tokens unbonding.
    """
    assert shares > 0, "delegate: zero shares"
    held: uint256 = self.shares_of[msg.sender][delegate_]
    assert shares <= held, "delegate: insufficient shares"
    supply: uint256 = self.total_shares[delegate_]
    amount: uint256 = shares * staticcall registry.delegated_of(delegate_) // supply
    acc: uint256 = self._settle(msg.sender, delegate_, held)
    self.shares_of[msg.sender][delegate_] = held - shares
    self._debt[msg.sender][delegate_] = self._ceil_div((held - shares) * acc, _SCALE)
    self.total_shares[delegate_] = supply - shares
    self.unbonding_of[msg.sender] += amount
    ready_at: uint256 = block.timestamp + staticcall registry.unbond_delay()
    self.unbond_ready_at[msg.sender] = ready_at
    if amount > 0:
        extcall registry.remove_delegated(delegate_, amount)
    log UndelegateRequested(delegator=msg.sender, delegate=delegate_, shares=shares, amount=amount, ready_at=ready_at)
    return amount


@external
def withdraw() -> uint256:
    """
    @notice Pays out the caller's undelegated tokens once the delay passed.
    """
    amount: uint256 = self.unbonding_of[msg.sender]
    assert amount > 0, "delegate: nothing unbonding"
    assert block.timestamp >= self.unbond_ready_at[msg.sender], "delegate: still unbonding"
    self.unbonding_of[msg.sender] = 0
    assert extcall token.transfer(msg.sender, amount, default_return_value=True), "delegate: transfer failed"
    log Withdrawn(delegator=msg.sender, amount=amount)
    return amount


@external
def share_rewards(earned: uint256) -> uint256:
    """
    @notice The caller, a delegate, reports `earned` tokens its stake
            earned (its task claims) and pays the delegators' part: the
            delegated share of its active stake, less its take.
    @dev The contract splits what is reported; it cannot see what the
         delegate's claims paid (the market pays the claimer), so a
         delegate that under-reports shortchanges its pool, visibly
         against its `Claimed` events.
    @return uint256 The tokens credited to the pool.
    """
    assert self.is_delegate[msg.sender], "delegate: not a delegate"
    take: uint256 = self._settled_take(msg.sender)
    supply: uint256 = self.total_shares[msg.sender]
    to_pool: uint256 = 0
    if supply > 0:
        active: uint256 = staticcall registry.stake_of(msg.sender)
        pooled: uint256 = staticcall registry.delegated_of(msg.sender)
        to_pool = earned * pooled * (_BPS - take) // (active * _BPS)
    if to_pool > 0:
        self.reward_per_share[msg.sender] += to_pool * _SCALE // supply
        assert extcall token.transferFrom(msg.sender, self, to_pool, default_return_value=True), "delegate: transfer failed"
    log RewardsShared(delegate=msg.sender, earned=earned, take_bps=take, to_delegators=to_pool)
    return to_pool


@external
def claim(delegate_: address) -> uint256:
    """
    @notice Pays the caller's rewards from `delegate_`'s pool: O(1) for
            any number of delegators.
    """
    held: uint256 = self.shares_of[msg.sender][delegate_]
    acc: uint256 = self._settle(msg.sender, delegate_, held)
    amount: uint256 = self.owed_of[msg.sender][delegate_]
    assert amount > 0, "delegate: nothing to claim"
    self.owed_of[msg.sender][delegate_] = 0
    self._debt[msg.sender][delegate_] = self._ceil_div(held * acc, _SCALE)
    assert extcall token.transfer(msg.sender, amount, default_return_value=True), "delegate: transfer failed"
    log RewardsClaimed(delegator=msg.sender, delegate=delegate_, amount=amount)
    return amount


@external
@view
def claimable(delegator: address, delegate_: address) -> uint256:
    """
    @notice What `claim` would pay `delegator` now.
    """
    earned: uint256 = self.shares_of[delegator][delegate_] * self.reward_per_share[delegate_] // _SCALE
    debt: uint256 = self._debt[delegator][delegate_]
    return self.owed_of[delegator][delegate_] + (earned - debt if earned > debt else 0)


@external
@view
def value_of(delegator: address, delegate_: address) -> uint256:
    """
    @notice The tokens `delegator`'s shares in `delegate_`'s pool redeem for now.
    """
    supply: uint256 = self.total_shares[delegate_]
    if supply == 0:
        return 0
    return self.shares_of[delegator][delegate_] * staticcall registry.delegated_of(delegate_) // supply
