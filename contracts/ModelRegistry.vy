# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title ModelRegistry
@custom:contract-name ModelRegistry
@license MIT
@notice An ERC-721 (snekmate) minted to a task's requester when the task
        ends: token id = task id. Each token records the final model's
        hash and the provenance hash chaining every final round's roots
        (model hash, updates root, rewards root), which the task market
        also keeps per round, so a model file can be checked against the
        chain (`fedstake verify-model`). A registry serves exactly one
        task market, bound once by the owner, and mints only what that
        market records: anyone may call `mint_model` for a closed task
        with a final round, and the token goes to the task's requester
        with the market's own model hash and provenance. So no token id
        can be taken ahead of its task (by the deployer or a second
        market), and the market's refund never depends on the mint.
        snekmate's minter role, free-form `safe_mint` and `burn` are not
        exported, so every token carries a record.
"""

from snekmate.auth import ownable as ow
initializes: ow

from snekmate.tokens import erc721
initializes: erc721[ownable := ow]

from interfaces import ITaskRecord

exports: (
    erc721.owner,
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.approve,
    erc721.getApproved,
    erc721.setApprovalForAll,
    erc721.isApprovedForAll,
    erc721.transferFrom,
    erc721.safeTransferFrom,
    erc721.tokenURI,
    erc721.totalSupply,
    erc721.tokenByIndex,
    erc721.tokenOfOwnerByIndex,
    erc721.supportsInterface,
    erc721.name,
    erc721.symbol,
    erc721.transfer_ownership,
)


struct ModelRecord:
    market: address
    task_id: uint256
    model_hash: bytes32
    provenance: bytes32
    rounds: uint256
    minted_at: uint256


models: public(HashMap[uint256, ModelRecord])
market: public(ITaskRecord)


event ModelMinted:
    token_id: indexed(uint256)
    requester: indexed(address)
    model_hash: bytes32
    provenance: bytes32
    rounds: uint256


event MarketBound:
    market: indexed(address)


@deploy
@payable
def __init__():
    ow.__init__()
    erc721.__init__("fedstake models", "FSM", "fedstake:model:", "fedstake models", "1")
    erc721.is_minter[msg.sender] = False  # snekmate makes the deployer a minter; only the market mints here


@external
def bind_market(market_: address):
    """
    @notice Names the one task market whose closed tasks this registry records.
    @dev Owner only, once: a second market would reuse task ids.
    """
    ow._check_owner()
    assert market_ != empty(address), "models: zero market"
    assert self.market.address == empty(address), "models: market already bound"
    self.market = ITaskRecord(market_)
    log MarketBound(market=market_)


@external
def mint_model(task_id: uint256) -> uint256:
    """
    @notice Mints token `task_id` to the task's requester with the record the
            market holds: final model hash, provenance and rounds. Anyone may
            call it once the task is closed with at least one final round.
    @dev Plain `_mint`, not `_safe_mint`: a requester contract without an
         ERC-721 receiver still gets its token.
    @return uint256 The token id (the task id).
    """
    market: ITaskRecord = self.market
    assert market.address != empty(address), "models: no market bound"
    requester: address = empty(address)
    budget: uint256 = 0
    rounds: uint256 = 0
    cohort: uint256 = 0
    min_stake: uint256 = 0
    settle_every: uint256 = 0
    deadline: uint256 = 0
    seed: bytes32 = empty(bytes32)
    genesis: bytes32 = empty(bytes32)
    closed: bool = False
    requester, budget, rounds, cohort, min_stake, settle_every, deadline, seed, genesis, closed = staticcall market.task_of(task_id)
    assert closed, "models: task not closed"
    done: uint256 = staticcall market.rounds_done(task_id)
    assert done > 0, "models: no final round"
    model_hash: bytes32 = staticcall market.latest_model_hash(task_id)
    provenance: bytes32 = staticcall market.provenance(task_id)
    erc721._mint(requester, task_id)
    self.models[task_id] = ModelRecord(
        market=market.address,
        task_id=task_id,
        model_hash=model_hash,
        provenance=provenance,
        rounds=done,
        minted_at=block.timestamp,
    )
    log ModelMinted(token_id=task_id, requester=requester, model_hash=model_hash, provenance=provenance, rounds=done)
    return task_id
