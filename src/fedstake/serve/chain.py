"""What serving reads from and sends to the chain: the model hash, the governed price, the deposit."""

from __future__ import annotations

from eth_utils import keccak

from fedstake.chain.accounts import Account
from fedstake.chain.governance import ModelGovernance
from fedstake.chain.models import ModelRegistry
from fedstake.chain.splitter import RevenueSplitter
from fedstake.errors import ConfigError, NotFound

_ZERO = "0x" + "00" * 20


class ServedTask:
    """Task `task_id`'s minted model: its hash, its governed price, and fee deposits by `payer`
    (an account that approved the splitter for the fees)."""

    def __init__(self, models: ModelRegistry, governance: ModelGovernance, task_id: int, payer: Account) -> None:
        splitter = models.splitter_of(task_id)
        if int(splitter, 16) == 0:
            raise NotFound(f"task {task_id} has no minted model (mint it once the task is closed)")
        self.task_id, self.payer, self.governance = task_id, payer, governance
        self.model_hash: bytes = models.record(task_id).model_hash
        self.splitter = RevenueSplitter.at(models.handle.backend, splitter)
        self.read_price()  # refuse to start on a model with no voted price

    def read_price(self) -> int:
        terms = self.governance.terms(self.task_id)
        if terms.proposal_id == 0:
            raise ConfigError("price", f"task {self.task_id}'s contributors have not voted a price yet "
                              "(ModelGovernance: propose, vote, execute)")
        return terms.price

    def settle(self, amount: int, queries: int) -> str:
        """One deposit of a batch's fees; the memo commits to the batch (task, queries, amount)."""
        memo = keccak(f"fedstake-serve:{self.task_id}:{queries}:{amount}".encode())
        return self.splitter.deposit(amount, memo, sender=self.payer, operation="serve_settle_batch").tx_hash
