"""Keys and addresses: every simulated participant's key derives from the seed.

Deriving keys from (seed, label) makes a scenario's addresses, and thus its
Merkle roots, the same on every run and every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coincurve import PrivateKey
from eth_utils import is_checksum_address, is_checksum_formatted_address, is_hex_address, keccak, to_checksum_address

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Account:
    """An externally owned account: checksummed address and its private key."""

    address: str
    private_key: bytes = field(repr=False)

    @classmethod
    def from_key(cls, private_key: bytes) -> Account:
        public = PrivateKey(private_key).public_key.format(compressed=False)[1:]
        return cls(to_checksum_address(keccak(public)[-20:]), private_key)


def is_address_text(value: object) -> bool:
    """True for "0x" and 40 hex digits whose mixed case, if any, is a valid EIP-55 checksum: the
    addresses ethers and web3 accept from a file (eth_utils' `is_address` ignores checksums)."""
    return (isinstance(value, str) and value.startswith("0x") and is_hex_address(value)
            and (not is_checksum_formatted_address(value) or is_checksum_address(value)))


def derive_account(seed: int, label: str) -> Account:
    """The account for `label` (e.g. "trainer-3") in a scenario seeded `seed`."""
    counter = 0
    while True:
        material = keccak(f"fedstake:{seed}:{label}:{counter}".encode())
        scalar = int.from_bytes(material, "big")
        if 0 < scalar < _SECP256K1_N:
            return Account.from_key(material)
        counter += 1
