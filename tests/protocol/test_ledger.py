import pytest

from fedstake.protocol.ledger import EMPTY_ROOT, RewardLedger

A, B = "0x" + "01" * 20, "0x" + "02" * 20


def test_an_empty_ledger_publishes_the_zero_root_and_no_tickets():
    ledger = RewardLedger()
    assert ledger.publish().root == EMPTY_ROOT and ledger.ticket(A) is None


def test_tickets_come_from_the_last_published_table_only():
    ledger = RewardLedger()
    ledger.credit({A: 5, B: 0}, accepted=[A, B])
    first = ledger.publish()
    ledger.credit({A: 2, B: 4}, accepted=[A])
    assert ledger.ticket(A).cumulative == 5 and ledger.ticket(A).verify(first.root)
    second = ledger.publish()
    ticket = ledger.ticket(A)
    assert (ticket.cumulative, ticket.accepted_rounds) == (7, 2) and ticket.verify(second.root)
    assert not ticket.verify(first.root) and ledger.ticket(B).accepted_rounds == 1
    assert second.total == 11 == ledger.total


def test_forks_are_independent():
    ledger = RewardLedger()
    fork = ledger.fork()
    fork.credit({A: 3}, accepted=[A])
    assert ledger.total == 0 and fork.total == 3


def test_a_fork_that_credits_and_publishes_leaves_the_original_and_its_tickets_alone():
    ledger = RewardLedger()
    ledger.credit({A: 5}, accepted=[A])
    table = ledger.publish()
    fork = ledger.fork()
    fork.credit({A: 2, B: 4}, accepted=[A, B])
    fork.publish()
    assert ledger.published is table and ledger.table() == {A: (5, 1)}
    assert ledger.ticket(A).cumulative == 5 and ledger.ticket(B) is None
    assert fork.ticket(A).cumulative == 7 and fork.ticket(B).cumulative == 4


def test_negative_rewards_are_refused():
    with pytest.raises(ValueError):
        RewardLedger().credit({A: -1})
