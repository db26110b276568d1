import dataclasses

import pytest

from fedstake.chain.accounts import derive_account
from fedstake.errors import SignatureError
from fedstake.proof.sealing import address_of, open_sealed, public_key, seal

ALICE, BOB, MALLORY = (derive_account(3, name) for name in ("alice", "bob", "mallory"))


def recipients(*accounts):
    return {a.address: public_key(a) for a in accounts}


def test_every_recipient_opens_the_same_bytes_and_nobody_else_does():
    payload = b"update bytes" * 100
    sealed = seal(payload, recipients(ALICE, BOB))
    assert payload not in sealed.ciphertext
    assert open_sealed(sealed, ALICE) == payload == open_sealed(sealed, BOB)
    with pytest.raises(SignatureError, match="not sealed for"):
        open_sealed(sealed, MALLORY)


def test_a_key_is_checked_against_its_address():
    assert address_of(public_key(ALICE)) == ALICE.address
    with pytest.raises(SignatureError, match="belongs to"):
        seal(b"x", {ALICE.address: public_key(MALLORY)})  # a relay's own key under a validator's address


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "ephemeral"])
def test_an_altered_seal_does_not_open(field):
    sealed = seal(b"update", recipients(ALICE))
    value = getattr(sealed, field)
    flipped = value[:-1] + bytes([value[-1] ^ 1])
    with pytest.raises(SignatureError, match="does not open"):
        open_sealed(dataclasses.replace(sealed, **{field: flipped}), ALICE)


def test_a_wrapped_key_moved_to_another_recipient_does_not_open():
    sealed = seal(b"update", recipients(ALICE, BOB))
    swapped = dataclasses.replace(sealed, keys={ALICE.address: sealed.keys[BOB.address], BOB.address: b""})
    with pytest.raises(SignatureError, match="does not open"):
        open_sealed(swapped, ALICE)


def test_two_seals_of_the_same_bytes_differ():
    assert seal(b"same", recipients(ALICE)).ciphertext != seal(b"same", recipients(ALICE)).ciphertext
