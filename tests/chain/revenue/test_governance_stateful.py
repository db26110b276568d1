"""Stateful property test of ModelGovernance: random proposals, votes (repeated, late, with another's
leaf), time passing and executions (early, repeated, out of order). After every step no tally exceeds
the shares, each account's weight is counted at most once per proposal, and the model's terms are
those of the newest proposal that passed its vote and timelock and was executed, executed once."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from deployers import TOKEN, actors, deploy, minted_model
from fedstake.chain.accounts import derive_account
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.errors import ContractRevert

CREW = actors(seed=11)
CONTRIBUTORS = [derive_account(11, f"contributor-{i}") for i in range(4)]
MEMBER = st.integers(0, len(CONTRIBUTORS) - 1)


class GovernanceMachine(RuleBasedStateMachine):
    @initialize(shares=st.lists(st.integers(1, 100), min_size=len(CONTRIBUTORS), max_size=len(CONTRIBUTORS)))
    def mint_a_model(self, shares):
        self.backend = EmbeddedBackend()
        self.system = deploy(self.backend, CREW)
        self.gov, self.params = self.system.governance, self.system.params
        table = {c.address: (s * TOKEN, 1) for c, s in zip(CONTRIBUTORS, shares)}
        self.task_id, _, self.rewards = minted_model(self.system, CREW, table)
        self.proposals: dict[int, dict] = {}  # id -> {"ends", "yes", "no", "voters", "price", "executed"}
        self.executed: list[int] = []

    def _share(self, who: int) -> int:
        return self.rewards.table[CONTRIBUTORS[who].address][0]

    @rule(price=st.integers(0, 10**6))
    def propose(self, price):
        pid = self.gov.propose(self.task_id, price=price, licence_uri="ipfs://l", licence_hash=b"\x01" * 32,
                               sender=CREW.outsider)
        self.proposals[pid] = {"ends": self.backend.timestamp() + self.params.gov_voting_period, "yes": 0, "no": 0,
                               "voters": set(), "price": price, "executed": False}

    @rule(pick=st.integers(0, 50), who=MEMBER, support=st.booleans())
    def vote(self, pick, who, support):
        if not self.proposals:
            return
        pid = sorted(self.proposals)[pick % len(self.proposals)]
        p, member = self.proposals[pid], CONTRIBUTORS[who]
        try:
            self.gov.vote(pid, support, *self.rewards.ticket(member.address), sender=member)
        except ContractRevert as exc:
            closed = self.backend.timestamp() >= p["ends"]  # the contract checks the deadline first
            assert exc.reason == ("gov: voting closed" if closed else "gov: already voted")
            assert closed or member.address in p["voters"]
            return
        assert member.address not in p["voters"] and self.backend.timestamp() < p["ends"]
        p["voters"].add(member.address)
        p["yes" if support else "no"] += self._share(who)

    @rule(who=MEMBER, thief=MEMBER)
    def vote_with_anothers_leaf(self, who, thief):
        if not self.proposals or who == thief:
            return
        pid = max(self.proposals)
        try:
            self.gov.vote(pid, True, *self.rewards.ticket(CONTRIBUTORS[who].address), sender=CONTRIBUTORS[thief])
        except ContractRevert as exc:
            assert exc.reason in ("gov: invalid proof", "gov: voting closed", "gov: already voted")
        else:
            raise AssertionError("a vote with another's leaf counted")

    @rule(seconds=st.sampled_from([3600, 24 * 3600, 3 * 24 * 3600]))
    def wait(self, seconds):
        self.backend.advance_time(seconds)

    @rule(pick=st.integers(0, 50))
    def execute(self, pick):
        if not self.proposals:
            return
        pid = sorted(self.proposals)[pick % len(self.proposals)]
        p = self.proposals[pid]
        try:
            self.gov.execute(pid, sender=CREW.outsider)
        except ContractRevert as exc:
            assert p["executed"] or self.backend.timestamp() < p["ends"] + self.params.gov_timelock or \
                (p["yes"] + p["no"]) * 10_000 < self.rewards.total * self.params.gov_quorum_bps or \
                p["yes"] <= p["no"] or (self.executed and pid < self.executed[-1]), exc.reason
            return
        assert not p["executed"] and p["yes"] > p["no"] and (not self.executed or pid > self.executed[-1])
        assert self.backend.timestamp() >= p["ends"] + self.params.gov_timelock
        p["executed"] = True
        self.executed.append(pid)

    @invariant()
    def tallies_are_the_votes_counted_once(self):
        for pid, p in self.proposals.items():
            chain = self.gov.proposal(pid)
            assert (chain.yes, chain.no, chain.executed) == (p["yes"], p["no"], p["executed"])
            assert chain.yes + chain.no <= self.rewards.total
            assert all(self.gov.voted(pid, c.address) == (c.address in p["voters"]) for c in CONTRIBUTORS)

    @invariant()
    def terms_are_the_newest_executed(self):
        terms = self.gov.terms(self.task_id)
        newest = self.executed[-1] if self.executed else 0
        assert terms.proposal_id == newest
        assert terms.price == (self.proposals[newest]["price"] if newest else 0)


TestGovernance = GovernanceMachine.TestCase
TestGovernance.settings = settings(max_examples=25, stateful_step_count=25)
