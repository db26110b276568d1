"""Typed client for TaskMarket, and the hashes its checks recompute.

`reward_leaf`, `commitment_leaf`, `result_hash` and `chain_provenance`
must hash exactly as the contract does; tests compare them with the
contract's own answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from eth_utils import keccak

from fedstake.chain.abi_words import encode_words
from fedstake.chain.accounts import Account
from fedstake.chain.backend import Receipt
from fedstake.chain.contract import ContractHandle
from fedstake.chain.eip712 import Domain, struct_hash

COMMITMENT_TYPE = (
    "Commitment(uint256 task,uint256 round,address trainer,bytes32 updateHash,"
    "uint256 samples,bytes32 transcriptRoot)"
)
COMMITMENT_FIELDS = ("uint256", "uint256", "address", "bytes32", "uint256", "bytes32")
ZERO32 = b"\x00" * 32


def reward_leaf(account: str, cumulative_amount: int, accepted_rounds: int) -> bytes:
    """keccak(keccak(abi.encode(account, amount, rounds))): OpenZeppelin's double-hashed leaf."""
    return keccak(keccak(encode_words(["address", "uint256", "uint256"], [account, cumulative_amount, accepted_rounds])))


def commitment_struct_hash(
    task_id: int, round: int, trainer: str, update_hash: bytes, samples: int, transcript_root: bytes
) -> bytes:
    return struct_hash(COMMITMENT_TYPE, COMMITMENT_FIELDS, [task_id, round, trainer, update_hash, samples, transcript_root])


def commitment_leaf(hashed_struct: bytes) -> bytes:
    """Leaf of the updates root: the hash of a commitment's EIP-712 struct hash."""
    return keccak(hashed_struct)


def scores_leaf(validator: str, scores_hash: bytes) -> bytes:
    """Leaf of the scores root: keccak(abi.encode(validator, hash of its score vector))."""
    return keccak(encode_words(["address", "bytes32"], [validator, scores_hash]))


@dataclass(frozen=True)
class RoundResult:
    """What validators propose and attest for a round."""

    model_hash: bytes
    updates_root: bytes
    rewards_root: bytes = ZERO32
    cumulative_total: int = 0
    scores_root: bytes = ZERO32

    def hash(self, task_id: int, round: int) -> bytes:
        return keccak(encode_words(
            ["uint256", "uint256", "bytes32", "bytes32", "bytes32", "uint256", "bytes32"],
            [task_id, round, self.model_hash, self.updates_root, self.rewards_root, self.cumulative_total,
             self.scores_root],
        ))


def chain_provenance(previous: bytes, round: int, result: RoundResult) -> bytes:
    """One link of the provenance hash chain the contract extends at each final round."""
    return keccak(encode_words(["bytes32", "uint256", "bytes32", "bytes32", "bytes32"],
                         [previous, round, result.model_hash, result.updates_root, result.rewards_root]))


@dataclass(frozen=True)
class TaskRules:
    """What a requester fixes when it opens a task: `validator_bonds[i]` is the stake
    asked of `validators[i]`, its weight once it joins."""

    budget: int
    rounds: int
    cohort_size: int
    min_stake: int
    validators: tuple[str, ...]
    validator_bonds: tuple[int, ...]
    seed: bytes
    genesis_model_hash: bytes
    deadline: int
    settle_every: int = 1


@dataclass(frozen=True)
class TaskState:
    requester: str
    budget: int
    rounds: int
    cohort_size: int
    min_stake: int
    settle_every: int
    deadline: int
    seed: bytes
    genesis_model_hash: bytes
    closed: bool


@dataclass(frozen=True)
class Proposal:
    model_hash: bytes
    updates_root: bytes
    rewards_root: bytes
    cumulative_total: int
    scores_root: bytes
    proposer: str
    proposed_at: int
    weight: int
    quorum_at: int
    open_disputes: int
    rejected: bool

    @property
    def result(self) -> RoundResult:
        return RoundResult(self.model_hash, self.updates_root, self.rewards_root, self.cumulative_total,
                           self.scores_root)


@dataclass(frozen=True)
class Dispute:
    """`attesters`, `yes_votes` and `no_votes` are bitmasks over the task's validator
    seats (bit i for `validators(task)[i]`)."""

    task_id: int
    round: int
    kind: int
    accused: str
    result_hash: bytes
    challenger: str
    vote_deadline: int
    attesters: int
    yes_votes: int
    no_votes: int
    status: int


@dataclass(frozen=True)
class Tally:
    """A dispute's votes weighed as `resolve` would weigh them now."""

    yes: int
    no: int
    eligible: int


class DisputeKind:
    UPDATE = 1
    RESULT = 2
    SCORES = 3


class DisputeStatus:
    OPEN = 1
    UPHELD = 2
    DISMISSED = 3


class TaskMarket:
    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.address = handle.address

    def _event(self, receipt: Receipt, name: str, field: str):
        return self.handle.events(receipt, name)[0][field]

    # tasks

    def create_task(self, rules: TaskRules, *, sender: Account) -> int:
        receipt = self.handle.transact(
            "create_task", rules.budget, rules.rounds, rules.cohort_size, rules.min_stake, rules.settle_every,
            list(rules.validators), list(rules.validator_bonds), rules.seed, rules.genesis_model_hash, rules.deadline,
            sender=sender,
        )
        return self._event(receipt, "TaskCreated", "task_id")

    def join_task(self, task_id: int, amount: int, *, sender: Account) -> Receipt:
        """Bond `amount` of the sender's free stake to the task (a validator: exactly its ask)."""
        return self.handle.transact("join_task", task_id, amount, sender=sender)

    def close_task(self, task_id: int, *, sender: Account) -> int:
        return self._event(self.handle.transact("close_task", task_id, sender=sender), "TaskClosed", "refund")

    def release_bond(self, task_id: int, account: str, *, sender: Account) -> Receipt:
        """Free `account`'s bond in a closed task with no dispute against it pending."""
        return self.handle.transact("release_bond", task_id, account, sender=sender)

    # rounds

    def propose_round(self, task_id: int, round: int, result: RoundResult, *, sender: Account) -> bytes:
        receipt = self.handle.transact(
            "propose_round", task_id, round, result.model_hash, result.updates_root, result.rewards_root,
            result.cumulative_total, result.scores_root, sender=sender,
        )
        return self._event(receipt, "RoundProposed", "result_hash")

    def attest_round(self, task_id: int, round: int, result_hash: bytes, *, sender: Account) -> Receipt:
        return self.handle.transact("attest_round", task_id, round, result_hash, sender=sender)

    def check_quorum(self, task_id: int, round: int, result_hash: bytes, *, sender: Account) -> Receipt:
        return self.handle.transact("check_quorum", task_id, round, result_hash, sender=sender)

    def finalize_round(self, task_id: int, round: int, *, sender: Account) -> Receipt:
        return self.handle.transact("finalize_round", task_id, round, sender=sender)

    # claims

    def register(self, *, sender: Account) -> Receipt:
        return self.handle.transact("register", sender=sender)

    def claim(self, task_id: int, cumulative_amount: int, accepted_rounds: int, proof: Sequence[bytes], *,
              sender: Account, operation: str = "claim") -> Receipt:
        return self.handle.transact("claim", task_id, cumulative_amount, accepted_rounds, list(proof),
                                    sender=sender, operation=operation)

    def reclaim_forfeited(self, task_id: int, account: str, cumulative_amount: int, accepted_rounds: int,
                          proof: Sequence[bytes], *, sender: Account) -> int:
        receipt = self.handle.transact("reclaim_forfeited", task_id, account, cumulative_amount, accepted_rounds,
                                       list(proof), sender=sender)
        return self._event(receipt, "ForfeitReclaimed", "amount")

    # disputes

    def challenge_update(self, task_id: int, round: int, result_hash: bytes, *, trainer: str, update_hash: bytes,
                         samples: int, transcript_root: bytes, signature: bytes, proof: Sequence[bytes],
                         evidence: bytes = ZERO32, sender: Account) -> int:
        receipt = self.handle.transact(
            "challenge_update", task_id, round, result_hash, trainer, update_hash, samples, transcript_root,
            signature, list(proof), evidence, sender=sender,
        )
        return self._event(receipt, "DisputeOpened", "dispute_id")

    def challenge_scores(self, task_id: int, round: int, result_hash: bytes, *, validator: str, scores_hash: bytes,
                         proof: Sequence[bytes], evidence: bytes = ZERO32, sender: Account) -> int:
        receipt = self.handle.transact("challenge_scores", task_id, round, result_hash, validator, scores_hash,
                                       list(proof), evidence, sender=sender)
        return self._event(receipt, "DisputeOpened", "dispute_id")

    def challenge_result(self, task_id: int, round: int, result_hash: bytes, *, evidence: bytes = ZERO32,
                         sender: Account) -> int:
        receipt = self.handle.transact("challenge_result", task_id, round, result_hash, evidence, sender=sender)
        return self._event(receipt, "DisputeOpened", "dispute_id")

    def vote(self, dispute_id: int, uphold: bool, *, sender: Account) -> Receipt:
        return self.handle.transact("vote", dispute_id, uphold, sender=sender)

    def resolve(self, dispute_id: int, *, sender: Account) -> tuple[bool, int]:
        """(upheld, base units slashed)."""
        event = self.handle.events(self.handle.transact("resolve", dispute_id, sender=sender), "DisputeResolved")[0]
        return event["upheld"], event["slashed"]

    # owner

    def pause(self, *, sender: Account) -> Receipt:
        return self.handle.transact("pause", sender=sender)

    def unpause(self, *, sender: Account) -> Receipt:
        return self.handle.transact("unpause", sender=sender)

    # views

    def task(self, task_id: int) -> TaskState:
        return TaskState(*self.handle.call("task_of", task_id))

    def proposal(self, task_id: int, round: int, result_hash: bytes) -> Proposal:
        return Proposal(*self.handle.call("proposals", task_id, round, result_hash))

    def dispute(self, dispute_id: int) -> Dispute:
        return Dispute(*self.handle.call("dispute_of", dispute_id))

    def tally(self, dispute_id: int) -> Tally:
        return Tally(*self.handle.call("tally", dispute_id))

    def voted(self, dispute_id: int, validator: str) -> bool:
        dispute = self.dispute(dispute_id)
        seats = self.validators(dispute.task_id)
        return validator in seats and bool((dispute.yes_votes | dispute.no_votes) >> seats.index(validator) & 1)

    def asked_bond(self, task_id: int, validator: str) -> int:
        return self.handle.call("asked_bond", task_id, validator)

    def final_result(self, task_id: int, round: int) -> RoundResult | None:
        """The final result of a round, or None while it is not final."""
        result_hash = self.handle.call("final_result", task_id, round)
        return None if result_hash == ZERO32 else self.proposal(task_id, round, result_hash).result

    def view(self, name: str, *args):
        """Any other public getter, by name (e.g. "rounds_done", "escrow_left", "reputation")."""
        return self.handle.call(name, *args)

    def rounds_done(self, task_id: int) -> int:
        return self.handle.call("rounds_done", task_id)

    def rewards_root(self, task_id: int) -> bytes:
        return self.handle.call("rewards_root", task_id)

    def claimed(self, task_id: int, account: str) -> int:
        return self.handle.call("claimed", task_id, account)

    def reputation(self, account: str) -> int:
        return self.handle.call("reputation", account)

    def reputations_of(self, accounts: list[str]) -> list[int]:
        """Many accounts' reputations in one call (chunks of 1,024)."""
        return [v for i in range(0, len(accounts), 1024)
                for v in self.handle.call("reputations_of", accounts[i:i + 1024])]

    def validators(self, task_id: int) -> list[str]:
        return list(self.handle.call("validators", task_id))

    def round_seed(self, task_id: int, round: int) -> bytes:
        return self.handle.call("round_seed", task_id, round)

    def domain(self) -> Domain:
        """The EIP-712 domain commitments are signed under, read from the contract."""
        _, name, version, chain_id, contract, _, _ = self.handle.call("eip712Domain")
        return Domain(name, version, chain_id, contract)
