"""Updates sealed for the task's validators, so the relay between trainers and validators cannot read them.

A trainer encrypts its update's bytes once under a fresh content key
(AES-256-GCM) and wraps that key for each validator: ECDH between a fresh
ephemeral secp256k1 key and the validator's Ethereum public key, HKDF-SHA256
over the shared point, AES-GCM over the content key. A validator's public key
is checked against its address (the last 20 bytes of its keccak256), so a
relay that swaps in a key of its own would have to swap the address too, and
the addresses are the task's validators on chain. The signed commitment
still binds the plaintext: whoever opens the seal checks the bytes against
the update hash the trainer signed.

The ephemeral key and the nonces come from the operating system's random
source, never from a scenario seed: a predictable key would let anyone open
the seal. Nothing on chain or in a rewards table depends on these bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from coincurve import PrivateKey, PublicKey
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_utils import keccak, to_checksum_address

from fedstake.chain.accounts import Account
from fedstake.errors import SignatureError

_INFO = b"fedstake sealed update v1"
_NONCE = 12


@dataclass(frozen=True)
class Sealed:
    """The sealed bytes: the ephemeral public key, the content's nonce and ciphertext, and the
    content key wrapped for each recipient address (nonce || ciphertext)."""

    ephemeral: bytes
    nonce: bytes
    ciphertext: bytes
    keys: dict[str, bytes]


def public_key(account: Account) -> bytes:
    """The account's uncompressed secp256k1 public key (65 bytes), what others seal to."""
    return PrivateKey(account.private_key).public_key.format(compressed=False)


def address_of(key: bytes) -> str:
    """The Ethereum address a public key belongs to."""
    uncompressed = PublicKey(key).format(compressed=False)
    return to_checksum_address(keccak(uncompressed[1:])[-20:])


def _wrapping_key(secret_point: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO).derive(secret_point)


def seal(payload: bytes, recipients: Mapping[str, bytes]) -> Sealed:
    """`payload` readable by the holders of `recipients` (address -> public key) only."""
    for address, key in recipients.items():
        if address_of(key) != address:
            raise SignatureError(f"public key given for {address} belongs to {address_of(key)}")
    content_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(_NONCE)
    ciphertext = AESGCM(content_key).encrypt(nonce, payload, None)
    ephemeral = PrivateKey()
    ephemeral_public = ephemeral.public_key.format(compressed=False)
    keys = {}
    for address, key in sorted(recipients.items()):
        recipient = PublicKey(key).format(compressed=False)
        wrap = _wrapping_key(ephemeral.ecdh(recipient), ephemeral_public, recipient)
        wrap_nonce = os.urandom(_NONCE)
        keys[address] = wrap_nonce + AESGCM(wrap).encrypt(wrap_nonce, content_key, address.encode())
    return Sealed(ephemeral_public, nonce, ciphertext, keys)


def open_sealed(sealed: Sealed, account: Account) -> bytes:
    """The payload, for one of its recipients; a seal not made for `account`, or altered, is refused."""
    wrapped = sealed.keys.get(account.address)
    if wrapped is None:
        raise SignatureError(f"the update is not sealed for {account.address}")
    own = public_key(account)
    try:
        wrap = _wrapping_key(PrivateKey(account.private_key).ecdh(sealed.ephemeral), sealed.ephemeral, own)
        content_key = AESGCM(wrap).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], account.address.encode())
        return AESGCM(content_key).decrypt(sealed.nonce, sealed.ciphertext, None)
    except Exception as exc:  # cryptography raises InvalidTag; anything else is as bad
        raise SignatureError(f"the sealed update does not open for {account.address}: altered or not for it") \
            from exc
