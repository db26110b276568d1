"""The dashboard's view of a chain: event logs and view calls only.

It needs nothing this process wrote: a node URL and the TaskMarket's
address (the other contracts are found from it: `token()` and
`registry()` are views, the ModelRegistry is the contract that logged
`MarketBound(market)`), or a deployment manifest. Published rewards
tables (`tables/` beside a manifest) add what the chain holds only as
a Merkle root: each participant's cumulative rewards and its proof.

What the chain holds only indirectly is rebuilt from it: who each
round selected is the protocol's draw replayed (`cohorts.py`); what a
trainer earned and how many of its rounds were accepted is the leaf its
latest `Claimed` proved, unless a published table behind the current
root says more; a validator's agreement is the share of final rounds
whose final result it attested. What is not on chain at all is a dash:
accuracy and loss (validators post hashes and roots, not metrics), a
validator's contribution scores (only their hash, in the scores root),
and which rounds accepted a trainer's update (a leaf counts them, the
updates root commits to them without naming them).
"""

from __future__ import annotations

from pathlib import Path

from eth_utils import event_abi_to_log_topic, to_checksum_address

from fedstake.chain.compiler import load_artifact
from fedstake.chain.contract import ContractHandle
from fedstake.chain.manifest import Contracts, Manifest, attach
from fedstake.chain.market import ZERO32, DisputeStatus, TaskMarket
from fedstake.chain.models import ModelRegistry
from fedstake.chain.rpc import RpcBackend
from fedstake.chain.staking import Role, StakeRegistry
from fedstake.chain.token import FedToken
from fedstake.dashboard.cohorts import CohortReplay, TaskHistory
from fedstake.dashboard.logs import DEFAULT_SPAN, Event, EventLog, RangeReader
from fedstake.dashboard.source import DashboardSource
from fedstake.dashboard.tables import PublishedTables, hex0x
from fedstake.dashboard.views import (
    DisputeView,
    HistoryItem,
    ModelView,
    ParticipantDetail,
    ParticipantView,
    ProvenanceLink,
    RoundView,
    TaskView,
)
from fedstake.errors import ChainError, NotFound
from fedstake.protocol.store import ArtifactStore

KINDS = {1: "update", 2: "result", 3: "scores"}
OUTCOMES = {DisputeStatus.OPEN: "open", DisputeStatus.UPHELD: "upheld", DisputeStatus.DISMISSED: "dismissed"}
ROLES = {Role.TRAINER: "trainer", Role.VALIDATOR: "validator"}
# the transactions a round's gas adds up (disputes are counted through their dispute id)
_ROUND_EVENTS = ("RoundProposed", "RoundAttested", "QuorumReached", "RoundFinalized", "DisputeOpened")


class ChainSource(DashboardSource):
    participants_note = (
        "Selected: the protocol's draw replayed from each round's seed, the trainers' bonds and reputations "
        "(stake-and-reputation selection assumed: a stake-only task is an off-chain choice). Earned and accepted: "
        "the published rewards table behind the chain's root where there is one, else the leaf of the latest "
        "claim (what accrued since is in the table only). Agreement: the share of final rounds whose final result "
        "the validator attested; its contribution scores are on chain only as a hash in the scores root.")

    def __init__(self, backend: RpcBackend, contracts: Contracts, *, from_block: int = 0, span: int = DEFAULT_SPAN,
                 store: ArtifactStore | None = None, label: str = "") -> None:
        self.backend, self.contracts = backend, contracts
        self.tables = PublishedTables(store) if store is not None else None
        self.market: TaskMarket = contracts.market
        self.label = label or f"chain {backend.chain_id} market {self.market.address}"
        handles = [contracts.token.handle, contracts.registry.handle, contracts.models.handle, self.market.handle]
        self.log = EventLog(backend.web3, handles, from_block=from_block, span=span)
        self.cohorts = CohortReplay(self.log, self.market)
        self._gas: dict[str, int] = {}

    @classmethod
    def from_manifest(cls, manifest: Manifest, backend: RpcBackend, *, manifest_path: Path | None = None,
                      span: int = DEFAULT_SPAN) -> ChainSource:
        """The manifest's contracts; published tables are read from beside the manifest file."""
        store = ArtifactStore(manifest_path.parent) if manifest_path is not None else None
        return cls(backend, attach(manifest, backend), from_block=manifest.deployment_block, span=span, store=store,
                   label=f"chain {manifest.chain_id}, manifest {manifest_path}")

    @classmethod
    def from_market(cls, backend: RpcBackend, market_address: str, *, from_block: int = 0,
                    span: int = DEFAULT_SPAN) -> ChainSource:
        """Find every contract from the TaskMarket's address alone; its history is read from `from_block`
        (a block at or before the market's deployment: on a long public chain, scanning from 0 is slow)."""
        market_artifact = load_artifact("TaskMarket")
        if not backend.code_at(market_address):
            raise ChainError(f"no contract at {market_address} on chain {backend.chain_id}")
        market = TaskMarket(ContractHandle(backend, market_address, market_artifact))
        token = FedToken(ContractHandle(backend, market.view("token"), load_artifact("FedToken")))
        registry = StakeRegistry(ContractHandle(backend, market.view("registry"), load_artifact("StakeRegistry")))
        models_artifact = load_artifact("ModelRegistry")
        bound = next(e for e in models_artifact.abi if e.get("name") == "MarketBound")
        topic = "0x" + event_abi_to_log_topic(bound).hex()
        market_topic = "0x" + bytes(12).hex() + market.address[2:].lower()
        bindings = RangeReader(backend.web3, span=span).logs({"topics": [topic, market_topic]}, from_block,
                                                             backend.web3.eth.block_number)
        found = next(bindings, None)
        if found is None:
            raise ChainError(f"no ModelRegistry on chain {backend.chain_id} is bound to the market {market_address} "
                             f"(searched from block {from_block})")
        models = ModelRegistry(ContractHandle(backend, to_checksum_address(found["address"]), models_artifact))
        return cls(backend, Contracts(token, registry, models, market), from_block=from_block, span=span,
                   label=f"chain {backend.chain_id}, market {market.address}")

    def close(self) -> None:
        self.backend.close()

    # tasks

    def tasks(self) -> list[TaskView]:
        self.log.refresh()
        return [self._task(e.args["task_id"]) for e in self.log.of("TaskCreated")]

    def task(self, task_id: int) -> TaskView:
        self.log.refresh()
        if not self.log.of("TaskCreated", task_id=task_id):
            raise NotFound(f"task {task_id} does not exist on chain {self.backend.chain_id}")
        return self._task(task_id)

    def _task(self, task_id: int) -> TaskView:
        state = self.market.task(task_id)
        claimed = sum(e.args["amount"] for e in self.log.of("Claimed", task_id=task_id))
        return TaskView(task_id, state.requester, state.budget, state.rounds, self.market.rounds_done(task_id),
                        state.settle_every, state.closed, self.market.view("committed", task_id), claimed)

    # rounds

    def rounds(self, task_id: int) -> list[RoundView]:
        task = self.task(task_id)
        opened = {e.args["dispute_id"]: e for e in self.log.of("DisputeOpened", task_id=task_id)}
        resolved = {e.args["dispute_id"] for e in self.log.of("DisputeResolved") if e.args["dispute_id"] in opened}
        proposals = {e.args["result_hash"]: e.args for e in self.log.of("RoundProposed", task_id=task_id)}
        rows, previous_total = [], 0
        for number in range(1, task.rounds + 1):
            proposed = self.log.of("RoundProposed", task_id=task_id, round=number)
            final = self.log.of("RoundFinalized", task_id=task_id, round=number)
            disputes = [d for d in opened.values() if d.args["round"] == number]
            rejected = {e.args["result_hash"] for e in self.log.of("ResultRejected", task_id=task_id, round=number)}
            if final:
                status = "final"
            elif any(d.args["dispute_id"] not in resolved for d in disputes):
                status = "challenged"
            elif any(e.args["result_hash"] not in rejected
                     for e in self.log.of("QuorumReached", task_id=task_id, round=number)):
                status = "quorum"
            else:
                status = "proposed" if any(e.args["result_hash"] not in rejected for e in proposed) else "pending"
            result = proposals[final[0].args["result_hash"]] if final else None
            paid = None
            if result is not None:
                paid, previous_total = result["cumulative_total"] - previous_total, result["cumulative_total"]
            rows.append(RoundView(number, status, paid=paid, gas=self._round_gas(task_id, number, disputes) or None,
                                  model_hash=hex0x(result["model_hash"]) if result else None,
                                  rewards_root=hex0x(result["rewards_root"]) if result else None,
                                  proposals=len(proposed), disputes=len(disputes)))
        return rows

    def _round_gas(self, task_id: int, number: int, disputes: list) -> int:
        """Gas of every transaction that logged an event of this round (each counted once)."""
        txs = {e.tx_hash for name in _ROUND_EVENTS for e in self.log.of(name, task_id=task_id, round=number)}
        ids = {d.args["dispute_id"] for d in disputes}
        txs |= {e.tx_hash for name in ("DisputeVoted", "DisputeResolved") for e in self.log.of(name)
                if e.args["dispute_id"] in ids}
        return sum(self._tx_gas(tx) for tx in txs)

    def _tx_gas(self, tx_hash: str) -> int:
        if tx_hash not in self._gas:
            self._gas[tx_hash] = self.backend.web3.eth.get_transaction_receipt(tx_hash)["gasUsed"]
        return self._gas[tx_hash]

    # participants

    def participants(self, task_id: int) -> list[ParticipantView]:
        task = self.task(task_id)
        state = self.market.task(task_id)
        joined = {e.args["account"]: ROLES.get(e.args["role"], "none") for e in self.log.of("TaskJoined", task_id=task_id)}
        accounts = list(joined)
        stakes = self.contracts.registry.stakes_of(accounts) if accounts else []
        reputations = self.market.reputations_of(accounts) if accounts else []
        earned = self._earned(task_id)
        claims = self._claims(task_id)
        selected: dict[str, int] = {}
        for cohort in self.cohorts.cohorts(task_id, state, task.rounds_final).values():
            for account in cohort:
                selected[account] = selected.get(account, 0) + 1
        agreement = self._agreement(task_id)
        slashed: dict[str, int] = {}
        for e in self._slashes(task_id):
            slashed[e.args["account"]] = slashed.get(e.args["account"], 0) + e.args["amount"]
        accused: dict[str, int] = {}
        for e in self.log.of("DisputeOpened", task_id=task_id):
            accused[e.args["accused"]] = accused.get(e.args["accused"], 0) + 1
        rows = [ParticipantView(task.requester, "requester", None, 0, None, None, None, None, 0, 0, 0)]
        for account, stake, reputation in zip(accounts, stakes, reputations):
            trainer = joined[account] == "trainer"
            claimed, accepted = claims.get(account, (0, 0))
            cumulative, accepted = earned.get(account, (claimed, accepted))  # a table beats the latest claimed leaf
            rows.append(ParticipantView(account, joined[account], None, stake, reputation,
                                        selected.get(account, 0) if trainer else None, accepted if trainer else None,
                                        cumulative, claimed, slashed.get(account, 0), accused.get(account, 0),
                                        agreement.get(account)))
        return rows

    def _slashes(self, task_id: int) -> list[Event]:
        """The registry's `Slashed` events of this task: those in a transaction resolving one of its disputes."""
        return TaskHistory.read(self.log, task_id).slashes

    def _claims(self, task_id: int) -> dict[str, tuple[int, int]]:
        """{account: (claimed, accepted rounds)}: the cumulative leaf of its latest claim, as `Claimed` logs it."""
        leaves: dict[str, tuple[int, int]] = {}
        for e in self.log.of("Claimed", task_id=task_id):
            paid, _ = leaves.get(e.args["account"], (0, 0))
            leaves[e.args["account"]] = (paid + e.args["amount"], e.args["accepted_rounds"])
        return leaves

    def _agreement(self, task_id: int) -> dict[str, float]:
        """Each validator's share of the final rounds whose final result it attested."""
        final = {e.args["round"]: e.args["result_hash"] for e in self.log.of("RoundFinalized", task_id=task_id)}
        if not final:
            return {}
        agreed: dict[str, int] = {}
        for e in self.log.of("RoundAttested", task_id=task_id):
            if final.get(e.args["round"]) == e.args["result_hash"]:
                agreed[e.args["validator"]] = agreed.get(e.args["validator"], 0) + 1
        return {v: agreed.get(v, 0) / len(final) for v in self.market.validators(task_id)}

    def _earned(self, task_id: int) -> dict[str, tuple[int, int]]:
        """{account: (cumulative amount, accepted rounds)} of the table the chain's root commits to."""
        root = self.market.rewards_root(task_id)
        if self.tables is None or root == ZERO32:
            return {}
        return self.tables.rewards(self._final_rounds(task_id), root)

    def _final_rounds(self, task_id: int) -> list[int]:
        return [e.args["round"] for e in self.log.of("RoundFinalized", task_id=task_id)]

    def participant(self, task_id: int, address: str) -> ParticipantDetail:
        rows = {p.address.lower(): p for p in self.participants(task_id)}
        row = rows.get(address.lower())
        if row is None:
            raise NotFound(f"{address} did not join task {task_id} on chain {self.backend.chain_id}")
        claim = None
        root = self.market.rewards_root(task_id)
        if self.tables is not None and root != ZERO32:
            claim = self.tables.claim(self._final_rounds(task_id), root, row.address, market=self.market.address,
                                      task_id=task_id, claimed=self.market.claimed(task_id, row.address),
                                      root_source="chain")
        return ParticipantDetail(row, self._history(task_id, row), claim)

    def _history(self, task_id: int, row: ParticipantView) -> list[HistoryItem]:
        """Its rounds (selected, recomputed; a validator's attestation of the final result), then its claims,
        reputation moves and slashes as the chain logged them."""
        account, items = row.address, []
        if row.role == "trainer":
            state = self.market.task(task_id)
            for number, cohort in self.cohorts.cohorts(task_id, state, self.market.rounds_done(task_id)).items():
                items.append(HistoryItem(number, account in cohort, None, None))
        elif row.role == "validator":
            attested = {e.args["round"]: e.args["result_hash"]
                        for e in self.log.of("RoundAttested", task_id=task_id, validator=account)}
            for e in self.log.of("RoundFinalized", task_id=task_id):
                agreed = attested.get(e.args["round"]) == e.args["result_hash"]
                items.append(HistoryItem(e.args["round"], None, None, None,
                                         "attested the final result" if agreed else "did not attest the final result"))
        items += [HistoryItem(0, None, None, e.args["amount"], f"claimed in block {e.block}: "
                              f"{e.args['accepted_rounds']} accepted round(s) so far")
                  for e in self.log.of("Claimed", task_id=task_id, account=account)]
        items += [HistoryItem(0, None, None, None, f"reputation {e.args['reputation']} in block {e.block}")
                  for e in self.log.of("ReputationChanged", task_id=task_id, account=account)]
        items += [HistoryItem(0, None, None, None, f"dropped from the task's quorum (weight {e.args['weight']} base "
                              f"units) in block {e.block}")
                  for e in self.log.of("ValidatorDropped", task_id=task_id, validator=account)]
        items += [HistoryItem(0, None, None, None, f"slashed {e.args['amount']} base units in block {e.block}")
                  for e in self._slashes(task_id) if e.args["account"] == account]
        return items

    # disputes and the model

    def disputes(self, task_id: int) -> list[DisputeView]:
        self.task(task_id)
        views = []
        for opened in self.log.of("DisputeOpened", task_id=task_id):
            number = opened.args["dispute_id"]
            votes = {e.args["validator"]: e.args["uphold"] for e in self.log.of("DisputeVoted", dispute_id=number)}
            resolved = self.log.of("DisputeResolved", dispute_id=number)
            outcome = ("upheld" if resolved[0].args["upheld"] else "dismissed") if resolved else "open"
            views.append(DisputeView(number, opened.args["round"], KINDS.get(opened.args["kind"], "?"),
                                     opened.args["accused"], opened.args["challenger"], opened.args["bond"], votes, outcome,
                                     resolved[0].args["slashed"] if resolved else 0))
        return views

    def model(self, task_id: int) -> ModelView | None:
        self.task(task_id)
        links = []
        for number in self._final_rounds(task_id):
            result = self.market.final_result(task_id, number)
            links.append(ProvenanceLink(number, hex0x(result.model_hash), hex0x(result.updates_root),
                                        hex0x(result.rewards_root)))
        if not links:
            return None
        minted = self.log.of("ModelMinted", token_id=task_id)
        if not minted:
            return ModelView(None, None, links[-1].model_hash, hex0x(self.market.view("provenance", task_id)), links)
        args = minted[0].args
        return ModelView(task_id, self.contracts.models.owner_of(task_id), hex0x(args["model_hash"]),
                         hex0x(args["provenance"]), links)
