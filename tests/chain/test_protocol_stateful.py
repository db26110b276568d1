"""Stateful property test over the whole settlement protocol.

Random sequences of staking and unbonding (also around task creation),
withdrawing, trusting and distrusting slashers (the market, and a rogue
one the owner authorised that bonds and slashes whomever it can), task
creation, joining with bonds, proposals (honest and
self-paying), attestations (also late, after a dispute opened),
disputes (repeated, self-challenged, against every validator at once),
votes, finalisation, claims, closing by anyone, minting and releasing
bonds. After every step: supply is conserved, nothing is paid twice or
beyond an escrow, slashing never exceeds stake, bonded stake is exactly
what the open tasks and pending disputes can slash, every open dispute
can still be resolved by its deadline, every open task can still be
closed with its unspent escrow refunded, reputation never exceeds the
rounds a trainer was accepted in, and no slasher holds a bond that its
account did not trust it with when it was made.
"""

import pytest
from eth_utils import keccak
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from deployers import BOND, MIN_STAKE, TOKEN, UNBOND_DELAY, WINDOW, Rewards, actors, deploy, fund, open_task, stake
from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import sign_digest, typed_digest
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.market import DisputeStatus, RoundResult, commitment_leaf, commitment_struct_hash
from fedstake.chain.merkle import MerkleTree
from fedstake.chain.staking import Role
from fedstake.errors import ContractRevert

CREW = actors(seed=7)
VALIDATORS = CREW.validators
TRAINERS = (CREW.trainer, CREW.second_trainer, CREW.outsider)
ROGUE = derive_account(7, "rogue slasher")  # an account the owner authorises as a slasher
ROGUE_TASKS = (1, 2)  # the task ids it bonds stake to
EVERYONE = (CREW.owner, CREW.requester, CREW.challenger, CREW.insurance, ROGUE, *VALIDATORS, *TRAINERS)
ZERO = b"\x00" * 32


def attempt(call, label: str = "") -> bool:
    try:
        call()
    except ContractRevert as exc:
        event(f"{label} reverted: {exc.reason}") if label else None
        return False
    event(f"{label} ok") if label else None
    return True


class ProtocolMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.backend = EmbeddedBackend()
        self.system = deploy(self.backend, CREW)
        self.market, self.registry = self.system.market, self.system.registry
        for v in VALIDATORS:
            stake(self.system, v, 100 * TOKEN, Role.VALIDATOR)
        for challenger in (CREW.challenger, *VALIDATORS):
            fund(self.system, challenger, 1_000 * BOND)
            self.system.token.approve(self.market.address, 1_000 * BOND, sender=challenger)
        self.staked = {a.address: (100 * TOKEN if a in VALIDATORS else 0) for a in EVERYONE}
        self.tasks: dict[int, dict] = {}
        self.tables: dict[bytes, tuple[Rewards, MerkleTree, dict]] = {}  # result hash -> (rewards, updates, sigs)
        self.disputes: list[int] = []
        self.domain = self.market.domain()
        self.registry.set_slasher(ROGUE.address, True, sender=CREW.owner)
        self.trusted = {(v.address, self.market.address) for v in VALIDATORS}  # (account, slasher): stake() trusts
        self.consented: set[tuple[str, int, str]] = set()  # (slasher, task, account) bonded while trusted

    # staking

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS), amount=st.integers(MIN_STAKE, 40 * TOKEN))
    def stake_tokens(self, who, amount):
        stake(self.system, who, amount, Role.VALIDATOR if who in VALIDATORS else Role.TRAINER)
        self.staked[who.address] += amount
        self.trusted.add((who.address, self.market.address))

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS), rogue=st.booleans(), status=st.booleans())
    def set_trust(self, who, rogue, status):
        slasher = ROGUE.address if rogue else self.market.address
        self.registry.set_trust(slasher, status, sender=who)
        (self.trusted.add if status else self.trusted.discard)((who.address, slasher))

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS), task_id=st.sampled_from(ROGUE_TASKS),
          amount=st.integers(1, 40 * TOKEN))
    def rogue_bonds(self, who, task_id, amount):
        """The owner's rogue slasher bonds whomever it can: only an account that trusts it."""
        if attempt(lambda: self.registry.bond(who.address, task_id, amount, sender=ROGUE), "rogue bond"):
            assert (who.address, ROGUE.address) in self.trusted, "bonded an account that does not trust it"
            self.consented.add((ROGUE.address, task_id, who.address))

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS), task_id=st.sampled_from(ROGUE_TASKS),
          percent=st.integers(0, 100), release=st.booleans())
    def rogue_settles(self, who, task_id, percent, release):
        """It slashes part of what it holds to itself, and may release the rest."""
        held = self.registry.bond_of(ROGUE.address, task_id, who.address)
        attempt(lambda: self.registry.slash(who.address, task_id, held * percent // 100, ROGUE.address,
                                            sender=ROGUE), "rogue slash")
        if release:
            attempt(lambda: self.registry.release(who.address, task_id, sender=ROGUE), "rogue release")

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS), percent=st.integers(1, 100))
    def request_unbond(self, who, percent):
        active = self.registry.stake_of(who.address)
        free = active - self.registry.bonded_of(who.address)
        amount = active * percent // 100
        if attempt(lambda: self.registry.request_unbond(amount, sender=who), "unbond"):
            assert amount <= free, "unbonded stake bonded to a task"

    @rule(who=st.sampled_from(TRAINERS))
    def register(self, who):
        attempt(lambda: self.market.register(sender=who))

    @rule(seconds=st.sampled_from([1, 60, WINDOW, UNBOND_DELAY]))
    def wait(self, seconds):
        self.backend.advance_time(seconds)

    @rule(who=st.sampled_from(TRAINERS + VALIDATORS))
    def withdraw(self, who):
        attempt(lambda: self.registry.withdraw(sender=who), "withdraw")

    # tasks, joining and rounds

    @rule(budget=st.one_of(st.integers(1, 100 * TOKEN), st.integers(10 * TOKEN, 100 * TOKEN)),
          rounds=st.integers(1, 3), settle_every=st.integers(1, 3), listed=st.sets(st.sampled_from(VALIDATORS),
                                                                                    min_size=1),
          join=st.sampled_from([True, True, True, False]))
    def create_task(self, budget, rounds, settle_every, listed, join):
        """Each listed validator is asked for a third of its free stake now (at least the minimum,
        which it may not have); with `join` the ones that can join at once, the others may join
        later or never."""
        listed = tuple(v for v in VALIDATORS if v in listed)
        asks = tuple(max((self.registry.stake_of(v.address) - self.registry.bonded_of(v.address)) // 3, MIN_STAKE)
                     for v in listed)
        task_id = open_task(self.system, CREW.requester, tuple(v.address for v in listed), asks=asks,
                            budget=budget, rounds=rounds, settle_every=min(settle_every, rounds))
        self.tasks[task_id] = {"budget": budget, "rounds": rounds, "settle": min(settle_every, rounds),
                               "final": None, "listed": listed}
        if join:
            for v in listed:
                self._join(task_id, v, self.market.asked_bond(task_id, v.address))

    def _task(self, data):
        return data.draw(st.sampled_from(sorted(self.tasks)))

    def _join(self, task_id, who, amount, label=""):
        if attempt(lambda: self.market.join_task(task_id, amount, sender=who), label):
            assert (who.address, self.market.address) in self.trusted, "joined without trusting the market"
            self.consented.add((self.market.address, task_id, who.address))

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(VALIDATORS))
    def join_as_validator(self, data, who):
        task_id = self._task(data)
        self._join(task_id, who, self.market.asked_bond(task_id, who.address), "validator join")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(TRAINERS), amount=st.integers(MIN_STAKE - 1, 30 * TOKEN))
    def join_as_trainer(self, data, who, amount):
        self._join(self._task(data), who, amount, "trainer join")

    def _open(self, data) -> int | None:
        open_tasks = sorted(t for t in self.tasks if not self.market.task(t).closed)
        return data.draw(st.sampled_from(open_tasks)) if open_tasks else None

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), proposer=st.sampled_from(VALIDATORS), gain=st.integers(0, 12_000),
          tag=st.integers(0, 3))
    def propose(self, data, proposer, gain, tag):
        """A proposal paying the trainers `gain` basis points of a round's budget (above
        10,000 it overpays: the contract must refuse what exceeds the budget)."""
        task_id = self._open(data)
        if task_id is not None:
            self._propose(task_id, proposer, gain, tag)

    def _propose(self, task_id, proposer, gain, tag) -> bytes | None:
        task = self.tasks[task_id]
        per_trainer = task["budget"] * gain // 10_000 // task["rounds"] // 3
        round = self.market.rounds_done(task_id) + 1
        table = dict(task["final"].table) if task["final"] else {}
        for t in TRAINERS:
            value, rounds = table.get(t.address, (0, 0))
            table[t.address] = (value + per_trainer, rounds + 1)
        rewards = Rewards(table)
        updates, sigs = self._updates(task_id, round, tag)
        settles = round % task["settle"] == 0 or round == task["rounds"]
        result = RoundResult(keccak(b"model%d" % tag), updates.root, rewards.tree.root if settles else ZERO,
                             rewards.total if settles else 0)
        if attempt(lambda: self.market.propose_round(task_id, round, result, sender=proposer), "propose"):
            self.tables[result.hash(task_id, round)] = (rewards, updates, sigs)
            return result.hash(task_id, round)
        return None

    def _joined(self, data, task_id) -> list:
        """The task's validators that still have weight there, in a drawn order."""
        joined = [v for v in VALIDATORS if self.market.view("weight", task_id, v.address)]
        return data.draw(st.permutations(joined)) if joined else []

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), gain=st.integers(0, 10_000), tag=st.integers(0, 3))
    def round_with_quorum(self, data, gain, tag):
        """The common path: one joined validator proposes, another attests, and the window runs out."""
        task_id = self._open(data)
        if task_id is None:
            return
        pair = self._joined(data, task_id) * 2  # a lone validator proposes and "attests" again (refused)
        if not pair:
            return
        result_hash = self._propose(task_id, pair[0], gain, tag)
        if result_hash:
            attempt(lambda: self.market.attest_round(task_id, self.market.rounds_done(task_id) + 1, result_hash,
                                                     sender=pair[1]))
        self.backend.advance_time(WINDOW)
        self._finalize(task_id)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), uphold=st.booleans(), who=st.sampled_from(TRAINERS))
    def contested_round(self, data, uphold, who):
        """An honest proposal with quorum, a self-paying rival, and a trainer accused:
        both disputes are voted on by everyone eligible and resolved."""
        task_id = self._open(data)
        if task_id is None:
            return
        joined = self._joined(data, task_id)
        if len(joined) < 3:
            return
        honest, rival, third = joined
        honest_hash = self._propose(task_id, honest, 5_000, 0)
        rival_hash = self._propose(task_id, rival, 11_000, 1)
        round = self.market.rounds_done(task_id) + 1
        for result_hash in (honest_hash, rival_hash):
            if result_hash:
                attempt(lambda: self.market.attest_round(task_id, round, result_hash, sender=third))
        opened = len(self.disputes)
        for result_hash in (rival_hash, honest_hash):
            if result_hash:
                self._challenge_result(task_id, round, result_hash, CREW.challenger)
        self._challenge_update(task_id, who)
        for dispute in self.disputes[opened:]:
            for v in VALIDATORS:
                attempt(lambda: self.market.vote(dispute, uphold, sender=v))
            attempt(lambda: self.market.resolve(dispute, sender=CREW.challenger), "resolve")
        self.backend.advance_time(WINDOW)
        self._finalize(task_id)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data())
    def every_validator_attests_a_bad_result_and_is_slashed(self, data):
        """All joined validators attest one result, concede its dispute, and leave the task
        without weight: nothing may reach quorum then, and the task must still close."""
        task_id = self._open(data)
        if task_id is None:
            return
        joined = [v for v in VALIDATORS if self.market.view("weight", task_id, v.address)]
        round = self.market.rounds_done(task_id) + 1
        if not joined or self.market.view("quorum_result", task_id, round) != ZERO:
            return
        bad_hash = self._propose(task_id, joined[0], 10_000, 3)
        if bad_hash is None:
            return
        for v in joined[1:]:
            attempt(lambda: self.market.attest_round(task_id, round, bad_hash, sender=v))
        dispute = self._challenge_result(task_id, round, bad_hash, CREW.challenger)
        if dispute is None:
            return
        for v in joined:
            attempt(lambda: self.market.vote(dispute, True, sender=v))
        attempt(lambda: self.market.resolve(dispute, sender=CREW.challenger), "resolve all")
        if self.market.view("total_weight", task_id) == 0:
            event("every validator slashed")
            attempt(lambda: self.market.check_quorum(task_id, round, keccak(b"nobody proposed this"),
                                                     sender=CREW.outsider))
            assert self.market.view("quorum_result", task_id, round) == ZERO, "quorum without weight"

    def _updates(self, task_id, round, tag):
        sigs = {}
        for t in TRAINERS:
            hashed = commitment_struct_hash(task_id, round, t.address, keccak(b"u%d" % tag), 10, ZERO)
            sigs[t.address] = (hashed, sign_digest(typed_digest(self.domain, hashed), t.private_key))
        return MerkleTree([commitment_leaf(h) for h, _ in sigs.values()]), sigs

    def _proposal(self, data, task_id):
        round = self.market.rounds_done(task_id) + 1
        known = sorted(h for h in self.tables if self.market.proposal(task_id, round, h).proposer != "0x" + "00" * 20)
        return round, (data.draw(st.sampled_from(known)) if known else None)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(VALIDATORS))
    def attest(self, data, who):
        """Any attestation, late ones included: one on a disputed result must be refused."""
        task_id = self._task(data)
        round, result_hash = self._proposal(data, task_id)
        if result_hash:
            disputed = self.market.proposal(task_id, round, result_hash).open_disputes > 0
            if attempt(lambda: self.market.attest_round(task_id, round, result_hash, sender=who), "attest"):
                assert not disputed, "attested a disputed result"

    @precondition(lambda self: self.tasks)
    @rule(data=st.data())
    def finalize(self, data):
        self._finalize(self._task(data))

    def _finalize(self, task_id):
        round = self.market.rounds_done(task_id) + 1
        quorum = self.market.view("quorum_result", task_id, round)
        if not attempt(lambda: self.market.finalize_round(task_id, round, sender=CREW.challenger), "finalize"):
            return
        proposal = self.market.proposal(task_id, round, quorum)
        assert proposal.weight > 0 and proposal.proposer != "0x" + "00" * 20, "final without a proposal"
        assert proposal.weight * 3 >= self.market.view("total_weight", task_id) * 2, "final without quorum"
        assert self.backend.timestamp() >= proposal.quorum_at + WINDOW, "final inside the window"
        assert proposal.open_disputes == 0 and not proposal.rejected
        if proposal.rewards_root != ZERO:
            self.tasks[task_id]["final"] = self.tables[quorum][0]

    # disputes

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(TRAINERS))
    def challenge_update(self, data, who):
        """Also repeats: a commitment already slashed must never be disputed again."""
        self._challenge_update(self._task(data), who)

    def _challenge_update(self, task_id, who):
        round = self.market.rounds_done(task_id) + 1
        quorum = self.market.view("quorum_result", task_id, round)
        if quorum not in self.tables:
            return
        _, updates, sigs = self.tables[quorum]
        hashed, signature = sigs[who.address]
        tag = self.market.proposal(task_id, round, quorum).model_hash
        update_hash = next(keccak(b"u%d" % i) for i in range(4) if keccak(b"model%d" % i) == tag)
        key = keccak(bytes(31) + b"\x01" + hashed)  # disputes' key: abi_encode(KIND_UPDATE, struct hash)
        prior = self.market.view("dispute_by_key", key)
        spent = prior != 0 and self.market.dispute(prior).status == DisputeStatus.UPHELD
        try:
            self.disputes.append(self.market.challenge_update(
                task_id, round, quorum, trainer=who.address, update_hash=update_hash, samples=10,
                transcript_root=ZERO, signature=signature, proof=updates.proof(commitment_leaf(hashed)),
                sender=CREW.challenger))
            assert not spent, "a slashed commitment was disputed again"
            event("update dispute opened" + (" again" if prior else ""))
        except ContractRevert as exc:
            event(f"update dispute refused: {exc.reason}")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), challenger=st.sampled_from((CREW.challenger, *VALIDATORS)))
    def challenge_result(self, data, challenger):
        """By an outsider or by a validator; a validator may even challenge a result it attested."""
        task_id = self._task(data)
        round, result_hash = self._proposal(data, task_id)
        if result_hash:
            self._challenge_result(task_id, round, result_hash, challenger)

    def _challenge_result(self, task_id, round, result_hash, challenger) -> int | None:
        try:
            dispute = self.market.challenge_result(task_id, round, result_hash, sender=challenger)
        except ContractRevert:
            return None
        self.disputes.append(dispute)
        return dispute

    @precondition(lambda self: self.disputes)
    @rule(data=st.data(), who=st.sampled_from(VALIDATORS), uphold=st.booleans())
    def vote(self, data, who, uphold):
        dispute = data.draw(st.sampled_from(self.disputes))
        attempt(lambda: self.market.vote(dispute, uphold, sender=who))

    @precondition(lambda self: self.disputes)
    @rule(data=st.data())
    def resolve(self, data):
        dispute_id = data.draw(st.sampled_from(self.disputes))
        dispute = self.market.dispute(dispute_id)
        seats = self.market.validators(dispute.task_id)
        challenger = dispute.challenger
        dissenter = challenger in seats and not dispute.attesters >> seats.index(challenger) & 1
        before = self.system.token.balance_of(challenger)
        if not attempt(lambda: self.market.resolve(dispute_id, sender=CREW.outsider), "resolve"):
            return
        if dispute.kind == 2 and self.market.dispute(dispute_id).status == DisputeStatus.UPHELD and not dissenter:
            gained = self.system.token.balance_of(challenger) - before
            assert gained == self.system.params.challenge_bond, "a bounty to a non-dissenting challenger"

    # money out

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(TRAINERS))
    def claim(self, data, who):
        task_id = self._task(data)
        final = self.tasks[task_id]["final"]
        if final is not None:
            attempt(lambda: self.market.claim(task_id, *final.ticket(who.address), sender=who), "claim")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(TRAINERS))
    def reclaim(self, data, who):
        task_id = self._task(data)
        final = self.tasks[task_id]["final"]
        if final is not None:
            attempt(lambda: self.market.reclaim_forfeited(task_id, who.address, *final.ticket(who.address),
                                                          sender=CREW.requester))

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from((CREW.requester, CREW.outsider)))
    def close_task(self, data, who):
        attempt(lambda: self.market.close_task(self._task(data), sender=who), "close")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from(TRAINERS + VALIDATORS))
    def release_bond(self, data, who):
        task_id = self._task(data)
        closed = self.market.task(task_id).closed
        pending = self.market.view("open_in_task", task_id)
        if attempt(lambda: self.market.release_bond(task_id, who.address, sender=CREW.outsider), "release"):
            assert closed and pending == 0, "a bond released while its task or a dispute could slash it"

    @precondition(lambda self: self.tasks)
    @rule(data=st.data(), who=st.sampled_from((CREW.owner, CREW.outsider)))
    def mint_model(self, data, who):
        """The deployer's attempt to pre-mint a task's id, or anyone's mint after it closed."""
        task_id = self._task(data)
        closed, done = self.market.task(task_id).closed, self.market.rounds_done(task_id)
        if attempt(lambda: self.system.models.mint_model(task_id, sender=who), "mint"):
            assert closed and done > 0, "a model minted ahead of its task"
            assert self.system.models.owner_of(task_id) == CREW.requester.address

    # invariants

    @invariant()
    def supply_is_conserved(self):
        token = self.system.token
        holders = [a.address for a in EVERYONE] + [self.registry.address, self.market.address]
        assert sum(token.balance_of(h) for h in holders) == token.total_supply()

    @invariant()
    def escrows_and_bonds_are_exactly_held(self):
        held = self.market.view("bonds_held")
        for task_id, task in self.tasks.items():
            left = self.market.view("escrow_left", task_id)
            committed = self.market.view("committed", task_id)
            claimed = [self.market.claimed(task_id, t.address) for t in TRAINERS]
            assert sum(claimed) <= committed <= task["budget"], "paid beyond what was committed"
            assert left <= task["budget"]
            final = task["final"]
            for t, paid in zip(TRAINERS, claimed):
                assert paid <= (final.table[t.address][0] if final else 0), "paid twice or more than earned"
            held += left
        assert self.system.token.balance_of(self.market.address) == held

    @invariant()
    def slashing_never_exceeds_stake_and_bonds_are_exactly_what_tasks_can_slash(self):
        """The registry holds every active and unbonding token; each account's bonded stake is the
        sum of its bonds to tasks (open ones, or closed ones not yet released; the rogue's too), never
        more than its stake, and a validator's weight in a task never exceeds its bond there."""
        stakers = [a.address for a in (*TRAINERS, *VALIDATORS)]
        stakes = self.registry.stakes_of(stakers)
        bonds = {t: self.registry.bonds_of(self.market.address, t, stakers) for t in self.tasks}
        rogue = [self.registry.bonds_of(ROGUE.address, t, stakers) for t in ROGUE_TASKS]
        held = 0
        for i, a in enumerate(stakers):
            assert self.registry.slashed_of(a) <= self.staked[a], "slashed more than staked"
            held += stakes[i] + self.registry.unbonding_of(a)
            bonded = self.registry.bonded_of(a)
            assert bonded == sum(b[i] for b in [*bonds.values(), *rogue]), "bonds do not add up"
            assert stakes[i] >= bonded, "a bond without stake behind it"
        assert self.system.token.balance_of(self.registry.address) == held
        for t, b in bonds.items():
            if self.market.task(t).closed and not self.market.view("open_in_task", t):
                continue  # bonds may leave: nothing is weighed or slashed in the task any more
            for i, v in enumerate(VALIDATORS, len(TRAINERS)):
                assert self.market.view("weight", t, v.address) <= b[i], "weight without a bond behind it"

    @invariant()
    def every_open_dispute_can_be_resolved_by_its_deadline(self):
        for dispute_id in self.disputes:
            dispute = self.market.dispute(dispute_id)
            if dispute.status != DisputeStatus.OPEN:
                continue
            point = self.backend.snapshot()
            try:
                self.backend.advance_time(max(0, dispute.vote_deadline - self.backend.timestamp()))
                self.market.resolve(dispute_id, sender=CREW.outsider)
            finally:
                self.backend.revert(point)

    @invariant()
    def every_open_task_can_be_closed_and_refunded(self):
        for task_id, task in self.tasks.items():
            if self.market.task(task_id).closed:
                continue
            point = self.backend.snapshot()
            try:
                self.backend.advance_time(10**6 + 1)
                expected = min(task["budget"] - self.market.view("committed", task_id),
                               self.market.view("escrow_left", task_id))
                assert self.market.close_task(task_id, sender=CREW.outsider) == expected
            finally:
                self.backend.revert(point)

    @invariant()
    def reputation_never_exceeds_the_rounds_accepted(self):
        done = {task_id: self.market.rounds_done(task_id) for task_id in self.tasks}
        for t in TRAINERS:
            counted = 0
            for task_id in self.tasks:
                rounds = self.market.view("counted_rounds", task_id, t.address)
                assert rounds <= done[task_id], "more rounds counted than done"
                counted += rounds
            assert self.market.reputation(t.address) <= 1 + counted


    @invariant()
    def no_slasher_holds_a_bond_its_account_did_not_trust_it_with(self):
        """Revoking trust leaves a bond in place (an open task may still slash it), so the test is
        that every bond was made while its account trusted the slasher."""
        stakers = [a.address for a in (*TRAINERS, *VALIDATORS)]
        for slasher, tasks in ((self.market.address, self.tasks), (ROGUE.address, ROGUE_TASKS)):
            for t in tasks:
                for a, bond in zip(stakers, self.registry.bonds_of(slasher, t, stakers)):
                    assert bond == 0 or (slasher, t, a) in self.consented, "a bond without the account's trust"


class TestProtocol(ProtocolMachine.TestCase):
    settings = settings(max_examples=20, stateful_step_count=60)


@pytest.mark.slow
class TestProtocolLong(ProtocolMachine.TestCase):
    settings = settings(max_examples=120, stateful_step_count=80)
