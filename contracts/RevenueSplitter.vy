# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title RevenueSplitter
@custom:contract-name RevenueSplitter
@license MIT
@notice Splits the fees paid for one task's model among its contributors,
        pull-based. The model registry creates one from a blueprint when it
        mints the model NFT (the NFT's EIP-2981 royalty receiver), so the
        shares are frozen once, at the closed task: the shares root is the
        task's last final rewards root, whose leaves (account, cumulative
        reward, accepted rounds) already commit to every contributor's
        cumulative reward, and the total is the cumulative total that root
        commits (the market's `committed`). Nothing is copied per
        contributor, so creating a splitter costs the same for 10 or a
        million of them.
        Accounting is cumulative: everything ever received is the token
        balance plus what was paid out, so fees may arrive by `deposit`
        (with an event) or by a plain transfer (a marketplace paying a
        royalty). A contributor's due is received * share // total minus
        what it was paid; a claim is one Merkle proof (log2 n words), one
        slot read and written, one balance read and one transfer, whatever
        the number of contributors. Flooring keeps the sum of dues within
        what was received; the dust (under one base unit per contributor)
        stays for later fees to carry.
        A contributor whose task rewards were forfeited by an upheld dispute
        cannot claim; its due goes to the task's requester through
        `reclaim_forfeited`, as the market does with its rewards. Nothing
        here is owned or pausable: no key can move the fees.
"""

from ethereum.ercs import IERC20

from interfaces import IShareRecord

from modules import proofs


MAX_PROOF_DEPTH: constant(uint256) = proofs.MAX_PROOF_DEPTH

market: public(immutable(IShareRecord))
task_id: public(immutable(uint256))
token: public(immutable(IERC20))
requester: public(immutable(address))
shares_root: public(immutable(bytes32))
total_shares: public(immutable(uint256))

released: public(uint256)
paid: public(HashMap[address, uint256])


event FeesDeposited:
    payer: indexed(address)
    amount: uint256
    memo: bytes32


event FeesClaimed:
    account: indexed(address)
    to: indexed(address)
    amount: uint256


@deploy
def __init__(market_: IShareRecord, task_id_: uint256):
    """
    @dev Reads the frozen shares from the market; the registry creates the
         splitter only for a closed task, whose rewards root no later round
         can replace.
    """
    requester_: address = empty(address)
    n: uint256[6] = empty(uint256[6])  # budget, rounds, cohort, min stake, settle every, deadline: unused
    seed: bytes32 = empty(bytes32)
    genesis: bytes32 = empty(bytes32)
    closed: bool = False
    requester_, n[0], n[1], n[2], n[3], n[4], n[5], seed, genesis, closed = staticcall market_.task_of(task_id_)
    assert closed, "split: task not closed"
    market = market_
    task_id = task_id_
    token = IERC20(staticcall market_.token())
    requester = requester_
    shares_root = staticcall market_.rewards_root(task_id_)
    total_shares = staticcall market_.committed(task_id_)


@internal
@pure
def _leaf(account: address, share: uint256, accepted_rounds: uint256) -> bytes32:
    return keccak256(abi_encode(keccak256(abi_encode(account, share, accepted_rounds))))


@internal
@view
def _due(account: address, share: uint256, accepted_rounds: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    """
    @dev What `account`, proven to hold `share`, may still be paid.
    """
    assert proofs._root_from(proof, self._leaf(account, share, accepted_rounds)) == shares_root, "split: invalid proof"
    assert share <= total_shares, "split: share above total"
    received: uint256 = staticcall token.balanceOf(self) + self.released
    return received * share // total_shares - self.paid[account]


@internal
def _pay(account: address, to: address, amount: uint256):
    assert amount > 0, "split: nothing to claim"
    self.paid[account] += amount
    self.released += amount
    assert extcall token.transfer(to, amount, default_return_value=True), "split: transfer failed"
    log FeesClaimed(account=account, to=to, amount=amount)


@external
def deposit(amount: uint256, memo: bytes32):
    """
    @notice Pays `amount` base units of fees in (the caller approved them);
            `memo` names what they pay for (e.g. a settled batch of queries).
    """
    assert amount > 0, "split: zero deposit"
    assert total_shares > 0, "split: no shares"
    assert extcall token.transferFrom(msg.sender, self, amount, default_return_value=True), "split: transfer failed"
    log FeesDeposited(payer=msg.sender, amount=amount, memo=memo)


@external
def claim(share: uint256, accepted_rounds: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    """
    @notice Pays the caller its share of every fee received so far, less
            what it was paid before.
    @param share The caller's cumulative reward in the task (its leaf).
    @param accepted_rounds The leaf's accepted rounds.
    @param proof The leaf's proof against the task's last rewards root.
    @return uint256 The base units paid.
    """
    assert not staticcall market.forfeited(task_id, msg.sender), "split: rewards forfeited"
    assert staticcall market.holds(task_id, msg.sender) == 0, "split: dispute pending"
    amount: uint256 = self._due(msg.sender, share, accepted_rounds, proof)
    self._pay(msg.sender, msg.sender, amount)
    return amount


@external
def reclaim_forfeited(
    account: address, share: uint256, accepted_rounds: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]
) -> uint256:
    """
    @notice Pays a forfeited contributor's due to the task's requester;
            anyone may call it.
    @return uint256 The base units paid.
    """
    assert staticcall market.forfeited(task_id, account), "split: not forfeited"
    amount: uint256 = self._due(account, share, accepted_rounds, proof)
    self._pay(account, requester, amount)
    return amount


@external
@view
def claimable(account: address, share: uint256, accepted_rounds: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    """
    @notice What `claim` would pay `account` now (reverts on a bad proof).
    """
    return self._due(account, share, accepted_rounds, proof)


@external
@view
def total_received() -> uint256:
    """
    @notice Every fee received so far: the balance plus what was paid out.
    """
    return staticcall token.balanceOf(self) + self.released
