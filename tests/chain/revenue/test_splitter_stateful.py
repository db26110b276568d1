"""Stateful property test of a RevenueSplitter: random share tables, deposits, plain transfers
and claims (honest, repeated, with another's leaf). After every step nothing is created or lost
(balance + paid out = every fee received), nobody is paid beyond its share of what was received,
a claim leaves nothing due to its claimer, and what stays is what is still due plus under one
base unit of dust per contributor."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from deployers import TOKEN, actors, deploy, fund, minted_model, pay_fees
from fedstake.chain.accounts import derive_account
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.errors import ContractRevert

CREW = actors(seed=9)
CONTRIBUTORS = [derive_account(9, f"contributor-{i}") for i in range(5)]


class SplitterMachine(RuleBasedStateMachine):
    @initialize(shares=st.lists(st.integers(1, 10**6), min_size=2, max_size=len(CONTRIBUTORS)))
    def mint_a_model(self, shares):
        self.backend = EmbeddedBackend()
        self.system = deploy(self.backend, CREW)
        self.members = CONTRIBUTORS[:len(shares)]
        table = {c.address: (s * TOKEN // 1_000, 1) for c, s in zip(self.members, shares)}
        _, self.splitter, self.rewards = minted_model(self.system, CREW, table)
        self.received = 0
        self.paid = {c.address: 0 for c in self.members}

    def _share(self, account: str) -> int:
        return self.rewards.table[account][0]

    def _entitled(self, account: str) -> int:
        return self.received * self._share(account) // self.rewards.total

    @rule(amount=st.integers(1, 10**21))
    def deposit(self, amount):
        pay_fees(self.system, CREW.requester, self.splitter, amount)
        self.received += amount

    @rule(amount=st.integers(1, 10**9))
    def transfer_in(self, amount):
        fund(self.system, CREW.outsider, amount)
        self.system.token.transfer(self.splitter.address, amount, sender=CREW.outsider)
        self.received += amount

    @rule(who=st.integers(0, len(CONTRIBUTORS) - 1))
    def claim(self, who):
        member = self.members[who % len(self.members)]
        due = self._entitled(member.address) - self.paid[member.address]
        before = self.system.token.balance_of(member.address)
        try:
            self.splitter.claim(*self.rewards.ticket(member.address), sender=member)
        except ContractRevert as exc:
            assert due == 0 and exc.reason == "split: nothing to claim"
            return
        assert self.system.token.balance_of(member.address) - before == due > 0
        self.paid[member.address] += due

    @rule(who=st.integers(0, len(CONTRIBUTORS) - 1), thief=st.integers(0, len(CONTRIBUTORS) - 1))
    def claim_with_anothers_leaf(self, who, thief):
        owner, sender = self.members[who % len(self.members)], self.members[thief % len(self.members)]
        if owner == sender:
            return
        try:
            self.splitter.claim(*self.rewards.ticket(owner.address), sender=sender)
        except ContractRevert as exc:
            assert exc.reason == "split: invalid proof"
        else:
            raise AssertionError("a claim with another's leaf paid")

    @invariant()
    def nothing_created_or_lost(self):
        balance = self.system.token.balance_of(self.splitter.address)
        assert balance + self.splitter.released() == self.received == self.splitter.total_received()
        assert self.splitter.released() == sum(self.paid.values())

    @invariant()
    def nobody_paid_beyond_its_share(self):
        for account, paid in self.paid.items():
            assert self.splitter.paid(account) == paid <= self._entitled(account)

    @invariant()
    def what_stays_is_due_plus_dust(self):
        due = sum(self._entitled(a) - p for a, p in self.paid.items())
        dust = self.system.token.balance_of(self.splitter.address) - due
        assert 0 <= dust < len(self.members)


TestSplitter = SplitterMachine.TestCase
TestSplitter.settings = settings(max_examples=25, stateful_step_count=20)
