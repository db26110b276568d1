"""The gas of every settlement operation, measured from receipts.

Plays one scripted task on a fresh deployment: staking and trusting the
market, a task of three rounds with three validators, everyone joining it
with a bond, cumulative claims, an upheld commitment dispute, an upheld
result dispute and an upheld scores dispute, the task's end, the model's
mint, a bond's release and an unbonding, with a rewards tree of `cohort`
trainers; then the model's fees: deposits into its RevenueSplitter, a
contributor's first and second claim (a proof in the same `cohort`-leaf
tree, the task's last rewards root) and the forfeited cheat's share
reclaimed for the requester; and a governance vote on the model's terms
(propose, one share-weighted vote with the claimer's leaf, execute after the
timelock; the quorum is one basis point so one contributor of 1,000 passes it);
and each validator's commit and reveal of its scores on the score board for
the first round (one word each, whatever the cohort). Only the gas is of
interest; every call is a real transaction on the given backend.
"""

from __future__ import annotations

from statistics import median
from typing import Callable

from eth_utils import keccak, to_checksum_address

from fedstake.chain.accounts import Account, derive_account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.deployment import TOKEN, Deployment, SettlementParams, deploy_system
from fedstake.chain.eip712 import sign_digest, typed_digest
from fedstake.chain.market import (
    RoundResult,
    TaskRules,
    commitment_leaf,
    commitment_struct_hash,
    reward_leaf,
    scores_leaf,
)
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.scoreboard import score_commitment
from fedstake.chain.splitter import RevenueSplitter
from fedstake.chain.staking import Role

STAKE = 100 * TOKEN
FAR_DEADLINE = 4_000_000_000  # fixed, so calldata (and its gas) is identical on every backend


def _filler(seed: int, count: int) -> list[str]:
    """Addresses that only appear as leaves (nobody holds their keys)."""
    return [to_checksum_address(keccak(f"filler:{seed}:{i}".encode())[-20:]) for i in range(count)]


class _Script:
    def __init__(self, backend: ChainBackend, cohort: int, seed: int) -> None:
        if cohort < 2:
            raise ValueError("the gas profile needs a cohort of at least 2")
        self.backend, self.cohort = backend, cohort
        acct: Callable[[str], Account] = lambda label: derive_account(seed, f"gas-{label}")  # noqa: E731
        self.owner, self.requester, self.challenger = acct("owner"), acct("requester"), acct("challenger")
        self.validators = [acct(f"validator-{i}") for i in range(3)]
        self.claimer, self.cheat = acct("claimer"), acct("cheat")
        self.others = _filler(seed, cohort - 2)
        self.system: Deployment = deploy_system(backend, self.owner, insurance=acct("insurance").address,
                                                params=SettlementParams(gov_quorum_bps=1))
        self.task_id = 0

    def _stake(self, account: Account, role: Role) -> None:
        token, registry = self.system.token, self.system.registry
        token.mint(account.address, STAKE, sender=self.owner)
        token.approve(registry.address, STAKE, sender=account)
        registry.stake(STAKE, role, sender=account)
        registry.set_trust(self.system.market.address, True, sender=account)

    def setup(self) -> None:
        for v in self.validators:
            self._stake(v, Role.VALIDATOR)
        for t in (self.claimer, self.cheat):
            self._stake(t, Role.TRAINER)  # all tokens staked: a first claim creates the balance slot
            self.system.market.register(sender=t)
        budget = 1_000 * TOKEN
        self.system.token.mint(self.requester.address, budget, sender=self.owner)
        self.system.token.approve(self.system.market.address, budget, sender=self.requester)
        self.system.token.mint(self.challenger.address, 100 * TOKEN, sender=self.owner)
        self.system.token.approve(self.system.market.address, 100 * TOKEN, sender=self.challenger)
        market = self.system.market
        self.task_id = market.create_task(TaskRules(
            budget=budget, rounds=3, cohort_size=self.cohort, min_stake=10 * TOKEN,
            validators=tuple(v.address for v in self.validators), validator_bonds=(STAKE,) * len(self.validators),
            seed=b"\x01" * 32, genesis_model_hash=b"\x02" * 32, deadline=FAR_DEADLINE,
        ), sender=self.requester)
        for v in self.validators:
            market.handle.transact("join_task", self.task_id, STAKE, sender=v, operation="join_task_validator")
        for t in (self.claimer, self.cheat):
            market.handle.transact("join_task", self.task_id, STAKE, sender=t, operation="join_task_trainer")

    def _commitment(self, round: int) -> tuple[bytes, bytes, MerkleTree]:
        """The cheat's signed commitment and the updates tree it sits in."""
        market = self.system.market
        hashed = commitment_struct_hash(self.task_id, round, self.cheat.address, b"\x07" * 32, 50, b"\x00" * 32)
        signature = sign_digest(typed_digest(market.domain(), hashed), self.cheat.private_key)
        leaves = [commitment_leaf(hashed)] + [keccak(f"update:{round}:{i}".encode()) for i in range(self.cohort - 1)]
        return hashed, signature, MerkleTree(leaves)

    def _rewards(self, round: int) -> tuple[dict[str, tuple[int, int]], MerkleTree]:
        amounts = {a: (round * TOKEN // 10 + i, round) for i, a in
                   enumerate([self.claimer.address, self.cheat.address, *self.others])}
        return amounts, MerkleTree([reward_leaf(a, v, r) for a, (v, r) in amounts.items()])

    def _scores(self, round: int) -> MerkleTree:
        """Every validator's reported score vector, committed in the result."""
        return MerkleTree([scores_leaf(v.address, keccak(b"scores%d" % round + v.address.encode()))
                           for v in self.validators])

    def _board(self, round: int) -> None:
        """Every validator commits, then reveals, the hash of its score vector of the cohort."""
        board = self.system.board
        opened = {}
        for v in self.validators:
            scores = keccak(b"scores%d" % round + v.address.encode())
            salt = keccak(b"salt" + v.address.encode())
            board.commit(self.task_id, round, score_commitment(self.task_id, round, v.address, scores, salt), sender=v)
            opened[v.address] = (scores, salt)
        self.backend.advance_time(self.system.params.commit_period)
        for v in self.validators:
            board.reveal(self.task_id, round, *opened[v.address], sender=v)

    def _round(self, round: int) -> tuple[bytes, dict, MerkleTree, MerkleTree]:
        market = self.system.market
        amounts, rewards = self._rewards(round)
        _, _, updates = self._commitment(round)
        result = RoundResult(keccak(b"model%d" % round), updates.root, rewards.root,
                             sum(v for v, _ in amounts.values()), self._scores(round).root)
        result_hash = market.propose_round(self.task_id, round, result, sender=self.validators[0])
        market.attest_round(self.task_id, round, result_hash, sender=self.validators[1])
        return result_hash, amounts, rewards, updates

    def _finalize(self, round: int) -> None:
        self.backend.advance_time(self.system.params.challenge_window)
        self.system.market.finalize_round(self.task_id, round, sender=self.validators[2])

    def claimer_ticket(self, round: int) -> tuple[int, int, list[bytes]]:
        """The claimer's (cumulative amount, accepted rounds, proof) as of round `round`."""
        amounts, rewards = self._rewards(round)
        value, rounds = amounts[self.claimer.address]
        return value, rounds, rewards.proof(reward_leaf(self.claimer.address, value, rounds))

    def _claim(self, round: int, operation: str) -> None:
        self.system.market.claim(self.task_id, *self.claimer_ticket(round), sender=self.claimer, operation=operation)

    def run(self) -> None:
        market = self.system.market
        self.setup()
        self._board(1)
        for round, operation in ((1, "claim_first"), (2, "claim_again")):
            self._round(round)
            self._finalize(round)
            self._claim(round, operation)
        self._disputes()
        self._finalize(3)
        market.close_task(self.task_id, sender=self.requester)
        self.system.models.mint_model(self.task_id, sender=self.requester)
        self._revenue()
        market.release_bond(self.task_id, self.claimer.address, sender=self.claimer)
        registry = self.system.registry
        registry.request_unbond(STAKE, sender=self.claimer)
        self.backend.advance_time(self.system.params.unbond_delay)
        registry.withdraw(sender=self.claimer)

    def _revenue(self) -> None:
        """Fees into the model's splitter, claimed against the task's last (round 3) rewards root."""
        models, token = self.system.models, self.system.token
        splitter = RevenueSplitter.at(self.backend, models.splitter_of(self.task_id))
        token.mint(self.requester.address, 2 * TOKEN, sender=self.owner)
        token.approve(splitter.address, 2 * TOKEN, sender=self.requester)
        for operation in ("split_claim_first", "split_claim_again"):
            splitter.deposit(TOKEN, sender=self.requester)
            splitter.claim(*self.claimer_ticket(3), sender=self.claimer, operation=operation)
        amounts, rewards = self._rewards(3)
        value, rounds = amounts[self.cheat.address]
        splitter.reclaim_forfeited(self.cheat.address, value, rounds,
                                   rewards.proof(reward_leaf(self.cheat.address, value, rounds)), sender=self.requester)
        self._vote_terms()

    def _vote_terms(self) -> None:
        governance, params = self.system.governance, self.system.params
        proposal = governance.propose(self.task_id, price=10**15, licence_uri="ipfs://licence",
                                      licence_hash=keccak(b"licence"), sender=self.requester)
        governance.vote(proposal, True, *self.claimer_ticket(3), sender=self.claimer)
        self.backend.advance_time(params.gov_voting_period + params.gov_timelock)
        governance.execute(proposal, sender=self.requester)

    def _disputes(self) -> None:
        market = self.system.market
        result_hash, amounts, _, updates = self._round(3)
        hashed, signature, _ = self._commitment(3)
        dispute = market.challenge_update(
            self.task_id, 3, result_hash, trainer=self.cheat.address, update_hash=b"\x07" * 32, samples=50,
            transcript_root=b"\x00" * 32, signature=signature, proof=updates.proof(commitment_leaf(hashed)),
            sender=self.challenger,
        )
        for v in self.validators[:2]:
            market.vote(dispute, True, sender=v)
        market.handle.transact("resolve", dispute, sender=self.challenger, operation="resolve_update")
        total = sum(v for v, _ in amounts.values())
        rival = RoundResult(keccak(b"rival"), updates.root, keccak(b"self-paying root"), total + 10 * TOKEN)
        rival_hash = market.handle.events(market.handle.transact(
            "propose_round", self.task_id, 3, rival.model_hash, rival.updates_root, rival.rewards_root,
            rival.cumulative_total, rival.scores_root, sender=self.validators[2], operation="propose_rival"),
            "RoundProposed")[0]["result_hash"]
        dispute = market.challenge_result(self.task_id, 3, rival_hash, sender=self.challenger)
        for v in self.validators[:2]:
            market.vote(dispute, True, sender=v)
        market.handle.transact("resolve", dispute, sender=self.challenger, operation="resolve_result")
        liar = self.validators[1]
        scores_hash = keccak(b"scores3" + liar.address.encode())
        dispute = market.challenge_scores(self.task_id, 3, result_hash, validator=liar.address,
                                          scores_hash=scores_hash,
                                          proof=self._scores(3).proof(scores_leaf(liar.address, scores_hash)),
                                          sender=self.challenger)
        for v in self.validators[:2]:
            market.vote(dispute, True, sender=v)
        market.handle.transact("resolve", dispute, sender=self.challenger, operation="resolve_scores")


def measure_gas(backend: ChainBackend, *, cohort: int, seed: int = 0) -> dict[str, int]:
    """Operation -> gas (median over its calls) for a task with `cohort` trainers."""
    _Script(backend, cohort, seed).run()
    return {op: int(median(values)) for op, values in backend.gas.samples.items()}
