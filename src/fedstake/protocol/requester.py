"""The requester: escrows a budget for a task and takes back what was not earned."""

from __future__ import annotations

from dataclasses import dataclass

from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.market import TaskMarket, TaskRules
from fedstake.chain.models import ModelRegistry
from fedstake.chain.token import FedToken


@dataclass
class Requester:
    account: Account

    @property
    def address(self) -> str:
        return self.account.address

    def open_task(self, token: FedToken, market: TaskMarket, rules: TaskRules) -> int:
        token.approve(market.address, rules.budget, sender=self.account)
        return market.create_task(rules, sender=self.account)

    def close_task(self, market: TaskMarket, task_id: int) -> int:
        """Ends the task; returns the refund in base units."""
        return market.close_task(task_id, sender=self.account)

    def mint_model(self, models: ModelRegistry, task_id: int) -> Receipt:
        """Mints the closed task's model NFT (to the requester) from the market's record."""
        return models.mint_model(task_id, sender=self.account)
