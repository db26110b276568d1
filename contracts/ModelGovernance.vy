# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title ModelGovernance
@custom:contract-name ModelGovernance
@license MIT
@notice The price per query and the licence of each minted model, set by
        its contributors: a share-weighted vote with a timelock. Anyone may
        propose terms (a price in base units of the task's token per query,
        a licence URI and the keccak of its text) for a model that has a
        splitter; during the voting period each contributor votes once,
        weighted by its share in the model's RevenueSplitter (the task's
        last rewards root, proven by the same Merkle leaf it claims fees
        with; a forfeited contributor has no vote). A proposal passes with a
        quorum of all shares voting and more yes than no; it executes once,
        after the voting period and the timelock, and only if no later
        proposal for the same model executed first, so terms never go back
        to an older vote. `fedstake serve` reads the executed terms.
        This is deliberately the smallest sound vote, not a DAO framework:
        no delegation, no cancellation, no vote changes.
"""

from interfaces import IRevenueShares

from modules import proofs


MAX_PROOF_DEPTH: constant(uint256) = proofs.MAX_PROOF_DEPTH
_BPS: constant(uint256) = 10_000
MAX_URI: constant(uint256) = 128


struct Proposal:
    task_id: uint256
    price: uint256
    licence_uri: String[MAX_URI]
    licence_hash: bytes32
    voting_ends: uint256
    yes: uint256
    no: uint256
    executed: bool


struct Terms:
    price: uint256
    licence_uri: String[MAX_URI]
    licence_hash: bytes32
    proposal_id: uint256


models: public(immutable(IRevenueShares))
voting_period: public(immutable(uint256))
timelock: public(immutable(uint256))
quorum_bps: public(immutable(uint256))

proposal_count: public(uint256)
proposals: public(HashMap[uint256, Proposal])
voted: public(HashMap[uint256, HashMap[address, bool]])
terms: public(HashMap[uint256, Terms])


event Proposed:
    proposal_id: indexed(uint256)
    task_id: indexed(uint256)
    proposer: address
    price: uint256
    licence_uri: String[MAX_URI]
    licence_hash: bytes32
    voting_ends: uint256


event Voted:
    proposal_id: indexed(uint256)
    voter: indexed(address)
    support: bool
    weight: uint256


event Executed:
    proposal_id: indexed(uint256)
    task_id: indexed(uint256)
    price: uint256
    licence_hash: bytes32


@deploy
def __init__(models_: IRevenueShares, voting_period_: uint256, timelock_: uint256, quorum_bps_: uint256):
    """
    @param voting_period_ Seconds a proposal takes votes.
    @param timelock_ Seconds after the vote before it can execute.
    @param quorum_bps_ Share of all shares (basis points) that must vote.
    """
    assert voting_period_ > 0, "gov: zero voting period"
    assert quorum_bps_ > 0 and quorum_bps_ <= _BPS, "gov: quorum out of range"
    models = models_
    voting_period = voting_period_
    timelock = timelock_
    quorum_bps = quorum_bps_


@internal
@view
def _splitter(task_id: uint256) -> IRevenueShares:
    splitter: address = staticcall models.splitter_of(task_id)
    assert splitter != empty(address), "gov: no model"
    return IRevenueShares(splitter)


@external
def propose(task_id: uint256, price: uint256, licence_uri: String[MAX_URI], licence_hash: bytes32) -> uint256:
    """
    @notice Opens a vote on new terms for model `task_id`.
    @return uint256 The proposal id (from 1).
    """
    self._splitter(task_id)
    proposal_id: uint256 = self.proposal_count + 1
    self.proposal_count = proposal_id
    ends: uint256 = block.timestamp + voting_period
    self.proposals[proposal_id] = Proposal(
        task_id=task_id, price=price, licence_uri=licence_uri, licence_hash=licence_hash, voting_ends=ends,
        yes=0, no=0, executed=False,
    )
    log Proposed(proposal_id=proposal_id, task_id=task_id, proposer=msg.sender, price=price,
                 licence_uri=licence_uri, licence_hash=licence_hash, voting_ends=ends)
    return proposal_id


@external
def vote(
    proposal_id: uint256,
    support: bool,
    share: uint256,
    accepted_rounds: uint256,
    proof: DynArray[bytes32, MAX_PROOF_DEPTH],
):
    """
    @notice Votes with the caller's share, proven by its rewards leaf
            (share = cumulative reward, accepted rounds, proof).
    """
    p: Proposal = self.proposals[proposal_id]
    assert p.voting_ends != 0, "gov: unknown proposal"
    assert block.timestamp < p.voting_ends, "gov: voting closed"
    assert not self.voted[proposal_id][msg.sender], "gov: already voted"
    splitter: IRevenueShares = self._splitter(p.task_id)
    leaf: bytes32 = keccak256(abi_encode(keccak256(abi_encode(msg.sender, share, accepted_rounds))))
    assert proofs._root_from(proof, leaf) == staticcall splitter.shares_root(), "gov: invalid proof"
    assert share > 0, "gov: no share"
    market: IRevenueShares = IRevenueShares(staticcall splitter.market())
    assert not staticcall market.forfeited(p.task_id, msg.sender), "gov: rewards forfeited"
    self.voted[proposal_id][msg.sender] = True
    if support:
        self.proposals[proposal_id].yes = p.yes + share
    else:
        self.proposals[proposal_id].no = p.no + share
    log Voted(proposal_id=proposal_id, voter=msg.sender, support=support, weight=share)


@external
def execute(proposal_id: uint256):
    """
    @notice Makes a passed proposal the model's terms, once, after its
            vote and timelock; anyone may call it.
    """
    p: Proposal = self.proposals[proposal_id]
    assert p.voting_ends != 0, "gov: unknown proposal"
    assert not p.executed, "gov: already executed"
    assert block.timestamp >= p.voting_ends + timelock, "gov: timelocked"
    total: uint256 = staticcall self._splitter(p.task_id).total_shares()
    assert (p.yes + p.no) * _BPS >= total * quorum_bps, "gov: no quorum"
    assert p.yes > p.no, "gov: rejected"
    assert proposal_id > self.terms[p.task_id].proposal_id, "gov: superseded"
    self.proposals[proposal_id].executed = True
    self.terms[p.task_id] = Terms(
        price=p.price, licence_uri=p.licence_uri, licence_hash=p.licence_hash, proposal_id=proposal_id
    )
    log Executed(proposal_id=proposal_id, task_id=p.task_id, price=p.price, licence_hash=p.licence_hash)
