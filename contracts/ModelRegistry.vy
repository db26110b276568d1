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
        The mint also creates the model's RevenueSplitter from a blueprint
        bound once by the owner, with the task's frozen shares, and names it
        the token's EIP-2981 royalty receiver (snekmate's `erc2981`, at a
        fee fixed when the blueprint is bound; its owner setters are not
        exported, so no key can redirect a model's royalties).
"""

from snekmate.auth import ownable as ow
initializes: ow

from snekmate.tokens import erc721
initializes: erc721[ownable := ow]

from snekmate.extensions import erc2981
initializes: erc2981[ownable := ow]

from interfaces import ITaskRecord

# @dev snekmate's erc721 and erc2981 lists, merged: one `supportsInterface` answers both.
_SUPPORTED_INTERFACES: constant(bytes4[7]) = [
    0x01FFC9A7,  # ERC-165
    0x80AC58CD,  # ERC-721
    0x5B5E139F,  # ERC-721 metadata
    0x780E9D63,  # ERC-721 enumeration
    0x589C5CE2,  # ERC-4494
    0x49064906,  # ERC-4906
    0x2A55205A,  # ERC-2981
]

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
    erc2981.royaltyInfo,
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
splitter_blueprint: public(address)
royalty_bps: public(uint96)
splitter_of: public(HashMap[uint256, address])


event ModelMinted:
    token_id: indexed(uint256)
    requester: indexed(address)
    model_hash: bytes32
    provenance: bytes32
    rounds: uint256


event MarketBound:
    market: indexed(address)


event SplitterBound:
    blueprint: indexed(address)
    royalty_bps: uint96


@deploy
@payable
def __init__():
    ow.__init__()
    erc721.__init__("fedstake models", "FSM", "fedstake:model:", "fedstake models", "1")
    erc721.is_minter[msg.sender] = False  # snekmate makes the deployer a minter; only the market mints here
    erc2981.__init__()


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: the ERC-721 interfaces snekmate implements, and ERC-2981.
    """
    return interface_id in _SUPPORTED_INTERFACES


@external
def bind_splitter(blueprint: address, royalty_bps_: uint96):
    """
    @notice Names the RevenueSplitter blueprint every mint creates a splitter
            from, and the royalty (basis points of a sale) each model asks.
    @dev Owner only, once, like the market: a later blueprint could split
         differently from what contributors were promised.
    """
    ow._check_owner()
    assert blueprint != empty(address), "models: zero blueprint"
    assert self.splitter_blueprint == empty(address), "models: splitter already bound"
    assert royalty_bps_ <= 10_000, "models: royalty above sale price"
    self.splitter_blueprint = blueprint
    self.royalty_bps = royalty_bps_
    log SplitterBound(blueprint=blueprint, royalty_bps=royalty_bps_)


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
    assert self.splitter_blueprint != empty(address), "models: no splitter bound"
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
    splitter: address = create_from_blueprint(self.splitter_blueprint, market.address, task_id)
    self.splitter_of[task_id] = splitter
    erc2981._set_token_royalty(task_id, splitter, self.royalty_bps)
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
