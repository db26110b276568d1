"""ScoreBoard under random sequences of commits, reveals and waiting: a reveal is accepted only
when it opens the sender's own commitment of that round inside the reveal phase, and what is
revealed never changes."""

from eth_utils import keccak
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from deployers import TOKEN, actors, deploy, staked_task
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.scoreboard import score_commitment
from fedstake.errors import ContractRevert

CREW = actors(seed=11)
SENDERS = (*CREW.validators, CREW.outsider)
VECTORS = [keccak(b"scores%d" % i) for i in range(3)]
SALTS = [keccak(b"salt%d" % i) for i in range(2)]


class BoardMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.backend = EmbeddedBackend()
        self.system = deploy(self.backend, CREW)
        self.task = staked_task(self.system, CREW, budget=100 * TOKEN)
        self.board, self.params = self.system.board, self.system.params
        self.opened: int | None = None
        self.committed: dict[str, bytes] = {}  # sender -> its commitment
        self.revealed: dict[str, bytes] = {}  # sender -> the scores hash it revealed

    def _phase(self) -> str:
        if self.opened is None:
            return "commit"
        elapsed = self.backend.timestamp() - self.opened
        return "commit" if elapsed < self.params.commit_period else \
            "reveal" if elapsed < self.params.commit_period + self.params.reveal_period else "over"

    @rule(who=st.sampled_from(SENDERS), scores=st.sampled_from(VECTORS), salt=st.sampled_from(SALTS),
          as_whom=st.sampled_from(SENDERS))
    def commit(self, who, scores, salt, as_whom):
        commitment = score_commitment(self.task, 1, as_whom.address, scores, salt)
        expected = who in CREW.validators and who.address not in self.committed and self._phase() == "commit"
        try:
            self.board.commit(self.task, 1, commitment, sender=who)
        except ContractRevert:
            assert not expected
            return
        assert expected
        self.opened = self.backend.timestamp() if self.opened is None else self.opened
        self.committed[who.address] = commitment

    @rule(who=st.sampled_from(SENDERS), scores=st.sampled_from(VECTORS), salt=st.sampled_from(SALTS))
    def reveal(self, who, scores, salt):
        opens = self.committed.get(who.address) == score_commitment(self.task, 1, who.address, scores, salt)
        expected = opens and who.address not in self.revealed and self._phase() == "reveal"
        try:
            self.board.reveal(self.task, 1, scores, salt, sender=who)
        except ContractRevert:
            assert not expected
            return
        assert expected
        self.revealed[who.address] = scores

    @rule(seconds=st.sampled_from([1, 60, 299, 300, 600]))
    def wait(self, seconds):
        self.backend.advance_time(seconds)

    @invariant()
    def the_chain_holds_what_was_committed_and_revealed(self):
        for who in SENDERS:
            assert self.board.revealed(self.task, 1, who.address) == self.revealed.get(who.address)
            assert self.board.commitment(self.task, 1, who.address) == self.committed.get(who.address, b"\x00" * 32)


class TestBoard(BoardMachine.TestCase):
    settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
