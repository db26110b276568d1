"""Stateful property test of delegation: random delegating, undelegating, withdrawing, bonding and
slashing the delegates, sharing and claiming rewards, and take changes. After every step nothing is
created or lost (each contract holds exactly what it owes), nobody is paid twice, claims never
exceed what was shared, and slashes take the delegators exactly pro rata."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from deployers import TOKEN, UNBOND_DELAY, actors, attempt, deploy, fund, stake
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.staking import Role

CREW = actors(seed=11)
DELEGATES = (CREW.validator, CREW.trainer)
DELEGATORS = (CREW.outsider, CREW.second_trainer, CREW.requester)
SLASHER = CREW.challenger


class DelegationMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.backend = EmbeddedBackend()
        self.system = deploy(self.backend, CREW)
        self.registry, self.delegation, self.token = self.system.registry, self.system.delegation, self.system.token
        self.registry.set_slasher(SLASHER.address, True, sender=CREW.owner)
        for d, role in zip(DELEGATES, (Role.VALIDATOR, Role.TRAINER)):
            stake(self.system, d, 50 * TOKEN, role)
            self.registry.set_trust(SLASHER.address, True, sender=d)
            self.delegation.open(1_800, sender=d)
        self.minted = 100 * TOKEN
        self.shared = {d.address: 0 for d in DELEGATES}
        self.claimed = {(a.address, d.address): 0 for a in DELEGATORS for d in DELEGATES}
        self.bonds: list[tuple[str, int]] = []

    @rule(who=st.sampled_from(DELEGATORS), to=st.sampled_from(DELEGATES), amount=st.integers(1, 60 * TOKEN))
    def delegate(self, who, to, amount):
        self.minted += amount
        fund(self.system, who, amount)
        self.token.approve(self.delegation.address, amount, sender=who)
        attempt(lambda: self.delegation.delegate(to.address, amount, sender=who))

    @rule(who=st.sampled_from(DELEGATORS), to=st.sampled_from(DELEGATES), percent=st.integers(1, 100))
    def undelegate(self, who, to, percent):
        shares = self.delegation.shares_of(who.address, to.address) * percent // 100
        free = self.registry.stake_of(to.address) - self.registry.bonded_of(to.address)
        value = self.delegation.value_of(who.address, to.address) * percent // 100
        if attempt(lambda: self.delegation.request_undelegate(to.address, shares, sender=who)):
            assert value <= free + 1, "bonded delegated stake left"

    @rule(who=st.sampled_from(DELEGATORS))
    def withdraw(self, who):
        attempt(lambda: self.delegation.withdraw(sender=who))

    @rule(to=st.sampled_from(DELEGATES), percent=st.integers(1, 100))
    def bond(self, to, percent):
        free = self.registry.stake_of(to.address) - self.registry.bonded_of(to.address)
        task = len(self.bonds) + 1
        if attempt(lambda: self.registry.bond(to.address, task, max(free * percent // 100, 1), sender=SLASHER)):
            self.bonds.append((to.address, task))

    @rule(data=st.data(), percent=st.integers(0, 100), release=st.booleans())
    def slash(self, data, percent, release):
        if not self.bonds:
            return
        account, task = data.draw(st.sampled_from(self.bonds))
        amount = self.registry.bond_of(SLASHER.address, task, account) * percent // 100
        active, delegated = self.registry.stake_of(account), self.registry.delegated_of(account)
        if amount and attempt(lambda: self.registry.slash(account, task, amount, CREW.insurance.address,
                                                          sender=SLASHER)):
            assert self.registry.delegated_of(account) == delegated - amount * delegated // active
            assert self.registry.stake_of(account) == active - amount
        if release:
            attempt(lambda: self.registry.release(account, task, sender=SLASHER))

    @rule(to=st.sampled_from(DELEGATES), earned=st.integers(0, 100 * TOKEN))
    def share(self, to, earned):
        self.minted += earned
        fund(self.system, to, earned)
        self.token.approve(self.delegation.address, earned, sender=to)
        receipt = self.delegation.share_rewards(earned, sender=to)
        (logged,) = self.delegation.handle.events(receipt, "RewardsShared")
        assert logged["take_bps"] <= 1_800
        self.shared[to.address] += logged["to_delegators"]

    @rule(who=st.sampled_from(DELEGATORS), to=st.sampled_from(DELEGATES))
    def claim(self, who, to):
        before = self.token.balance_of(who.address)
        if attempt(lambda: self.delegation.claim(to.address, sender=who)):
            self.claimed[(who.address, to.address)] += self.token.balance_of(who.address) - before
            assert self.delegation.claimable(who.address, to.address) == 0
            assert not attempt(lambda: self.delegation.claim(to.address, sender=who)), "paid twice"

    @rule(to=st.sampled_from(DELEGATES), take=st.integers(0, 2_000))
    def set_take(self, to, take):
        if attempt(lambda: self.delegation.set_take(take, sender=to)):
            assert take <= 1_800

    @rule(seconds=st.sampled_from([60, UNBOND_DELAY]))
    def wait(self, seconds):
        self.backend.advance_time(seconds)

    @invariant()
    def nothing_created_or_lost(self):
        accounts = [a.address for a in (*DELEGATES, *DELEGATORS, CREW.insurance)]
        held = sum(self.token.balance_of(a) for a in accounts)
        registry = self.token.balance_of(self.registry.address)
        pool = self.token.balance_of(self.delegation.address)
        assert held + registry + pool == self.minted == self.token.total_supply()
        assert registry == sum(self.registry.stake_of(d.address) + self.registry.unbonding_of(d.address)
                               for d in DELEGATES)
        unclaimed = sum(self.shared.values()) - sum(self.claimed.values())
        assert pool == sum(self.delegation.unbonding_of(a.address) for a in DELEGATORS) + unclaimed

    @invariant()
    def claims_never_exceed_what_was_shared(self):
        for d in DELEGATES:
            owed = sum(self.claimed[(a.address, d.address)] + self.delegation.claimable(a.address, d.address)
                       for a in DELEGATORS)
            assert owed <= self.shared[d.address]

    @invariant()
    def shares_redeem_at_most_the_pool(self):
        for d in DELEGATES:
            delegated = self.registry.delegated_of(d.address)
            assert sum(self.delegation.value_of(a.address, d.address) for a in DELEGATORS) <= delegated
            assert delegated <= self.registry.stake_of(d.address)
            assert self.registry.stake_of(d.address) - delegated >= 0
            assert self.delegation.take_of(d.address) <= 1_800


TestDelegation = DelegationMachine.TestCase
TestDelegation.settings = settings(max_examples=40, stateful_step_count=30)
