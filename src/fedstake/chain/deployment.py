"""Deploy fedstake's contracts and wire them together."""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import deploy_contract
from fedstake.chain.delegation import Delegation
from fedstake.chain.governance import ModelGovernance
from fedstake.chain.market import TaskMarket
from fedstake.chain.models import ModelRegistry
from fedstake.chain.scoreboard import ScoreBoard
from fedstake.chain.splitter import deploy_splitter_blueprint
from fedstake.chain.staking import StakeRegistry
from fedstake.chain.token import FedToken

TOKEN = 10**18


@dataclass(frozen=True)
class SettlementParams:
    """Everything fixed at deployment. Defaults: a 10-minute challenge window,
    a 10-minute vote, unbonding of free stake after 7 days, a 10-token bond (at
    least a tenth of the minimum stake, as the market requires), half of a slash
    to the challenger, a whole reputation point per accepted round of a task
    paying at least one token per round, and 5-minute commit and reveal phases
    for the validators' scores."""

    min_stake: int = 10 * TOKEN
    unbond_delay: int = 7 * 24 * 3600
    challenge_window: int = 600
    vote_period: int = 600
    challenge_bond: int = 10 * TOKEN
    bounty_bps: int = 5_000
    trainer_slash_bps: int = 10_000
    validator_slash_bps: int = 5_000
    reputation_cut_bps: int = 5_000
    reputation_unit: int = TOKEN
    royalty_bps: int = 1_000  # EIP-2981: a tenth of a model NFT's sale to its contributors
    # ModelGovernance: contributors vote a model's price and licence for 3 days, a fifth of the
    # shares voting; a day passes before the result takes effect.
    gov_voting_period: int = 3 * 24 * 3600
    gov_timelock: int = 24 * 3600
    gov_quorum_bps: int = 2_000
    commit_period: int = 300  # the score board's commit phase, from a round's first commitment
    reveal_period: int = 300  # and its reveal phase, right after

    def dispute_tuple(self, insurance_pool: str) -> tuple:
        return (self.challenge_bond, self.vote_period, self.bounty_bps, self.trainer_slash_bps,
                self.validator_slash_bps, self.reputation_cut_bps, insurance_pool)


@dataclass(frozen=True)
class Deployment:
    """The deployed system; `owner` administers it, `insurance` receives slashed funds."""

    backend: ChainBackend
    owner: Account
    insurance: str
    params: SettlementParams
    token: FedToken
    registry: StakeRegistry
    models: ModelRegistry
    market: TaskMarket
    governance: ModelGovernance
    delegation: Delegation
    board: ScoreBoard

    def addresses(self) -> dict[str, str]:
        return {"FedToken": self.token.address, "StakeRegistry": self.registry.address,
                "ModelRegistry": self.models.address, "TaskMarket": self.market.address,
                "ModelGovernance": self.governance.address,
                "Delegation": self.delegation.address, "ScoreBoard": self.board.address}


def deploy_system(
    backend: ChainBackend,
    owner: Account,
    *,
    insurance: str,
    params: SettlementParams = SettlementParams(),
    token_name: str = "FedStake Token",
    token_symbol: str = "FED",
) -> Deployment:
    """Deploy token, registries, market, score board, model governance and delegation; let the
    market bond and slash stake, bind the model registry to it and to the RevenueSplitter
    blueprint, and name the delegation contract in the stake registry."""
    token = FedToken(deploy_contract(backend, load_artifact("FedToken"), (token_name, token_symbol), owner))
    registry = StakeRegistry(deploy_contract(
        backend, load_artifact("StakeRegistry"), (token.address, params.min_stake, params.unbond_delay), owner))
    models = ModelRegistry(deploy_contract(backend, load_artifact("ModelRegistry"), (), owner))
    market = TaskMarket(deploy_contract(
        backend, load_artifact("TaskMarket"),
        (token.address, registry.address, params.challenge_window, params.dispute_tuple(insurance),
         params.reputation_unit),
        owner,
    ))
    board = ScoreBoard(deploy_contract(
        backend, load_artifact("ScoreBoard"), (market.address, params.commit_period, params.reveal_period), owner))
    registry.set_slasher(market.address, True, sender=owner)
    models.bind_market(market.address, sender=owner)
    models.bind_splitter(deploy_splitter_blueprint(backend, owner), params.royalty_bps, sender=owner)
    governance = ModelGovernance(deploy_contract(
        backend, load_artifact("ModelGovernance"),
        (models.address, params.gov_voting_period, params.gov_timelock, params.gov_quorum_bps), owner))
    delegation = Delegation(deploy_contract(
        backend, load_artifact("Delegation"), (token.address, registry.address), owner))
    registry.set_delegation(delegation.address, sender=owner)
    return Deployment(backend, owner, insurance, params, token, registry, models, market, governance, delegation, board)
