"""Signed asks: the digest eth-account computes, and every reason an ask is left out of a round."""

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import Domain
from fedstake.errors import SignatureError
from fedstake.protocol.asks import Ask, SignedAsk, ask_problem, sign_ask, valid_asks

DOMAIN = Domain("fedstake", "1", 31337, "0x" + "ab" * 20)
TRAINER = derive_account(1, "trainer")
OTHER = derive_account(1, "other-trainer")


def ask(account=TRAINER, **change) -> Ask:
    fields = dict(task_id=3, trainer=account.address, price=5 * 10**17, samples=64, first_round=2, last_round=4)
    return Ask(**(fields | change))


def test_the_ask_digest_is_eth_accounts_typed_data():
    a = ask()
    message = encode_typed_data(full_message={
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"},
                                   {"name": "verifyingContract", "type": "address"}],
                  "Ask": [{"name": n, "type": t} for n, t in [("task", "uint256"), ("trainer", "address"),
                                                              ("price", "uint256"), ("samples", "uint256"),
                                                              ("firstRound", "uint256"), ("lastRound", "uint256")]]},
        "primaryType": "Ask",
        "domain": {"name": DOMAIN.name, "version": DOMAIN.version, "chainId": DOMAIN.chain_id,
                   "verifyingContract": DOMAIN.verifying_contract},
        "message": {"task": 3, "trainer": a.trainer, "price": a.price, "samples": 64, "firstRound": 2, "lastRound": 4},
    })
    theirs = EthAccount.sign_message(message, TRAINER.private_key).signature
    assert sign_ask(a, DOMAIN, TRAINER).signature == bytes(theirs)


def test_a_good_ask_bids_in_every_round_of_its_window():
    signed = sign_ask(ask(), DOMAIN, TRAINER)
    assert [ask_problem(signed, DOMAIN, task_id=3, round=r) for r in (2, 3, 4)] == [None] * 3


@pytest.mark.parametrize("signed, round, reason", [
    (sign_ask(ask(), DOMAIN, TRAINER), 5, "ask expired after round 4"),
    (sign_ask(ask(), DOMAIN, TRAINER), 1, "ask opens at round 2"),
    (sign_ask(ask(task_id=4), DOMAIN, TRAINER), 3, "ask is for task 4"),
    (sign_ask(ask(samples=0), DOMAIN, TRAINER), 3, "ask offers no samples"),
    (SignedAsk(ask(), sign_ask(ask(price=1), DOMAIN, TRAINER).signature), 3, "ask signed by 0x"),  # price changed
    (sign_ask(ask(), Domain("fedstake", "1", 1, DOMAIN.verifying_contract), TRAINER), 3, "ask signed by 0x"),
    (SignedAsk(ask(), b"\x00" * 64), 3, "bad signature: signature must be 65 bytes"),
])
def test_a_bad_or_expired_ask_is_left_out_with_its_reason(signed, round, reason):
    assert ask_problem(signed, DOMAIN, task_id=3, round=round).startswith(reason)


def test_nobody_signs_anothers_ask():
    with pytest.raises(SignatureError, match="cannot sign an ask"):
        sign_ask(ask(), DOMAIN, OTHER)


def test_valid_asks_keeps_candidates_drops_double_asks_and_forgives_an_old_expired_one():
    old = sign_ask(ask(first_round=1, last_round=2), DOMAIN, TRAINER)
    new = sign_ask(ask(first_round=3, last_round=9), DOMAIN, TRAINER)
    twice = [sign_ask(ask(OTHER, price=p), DOMAIN, OTHER) for p in (1, 2)]
    stranger = derive_account(1, "stranger")
    kept, rejected = valid_asks([old, new, new, *twice, sign_ask(ask(stranger), DOMAIN, stranger)], DOMAIN,
                                task_id=3, round=3, candidates=[TRAINER.address, OTHER.address])
    assert kept == [new]  # relayed twice, one ask; the expired one beside it does not count
    assert rejected == {OTHER.address: "two asks for the round", stranger.address: "not a trainer of the task"}
