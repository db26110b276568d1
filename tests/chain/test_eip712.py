import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from fedstake.chain.accounts import derive_account
from fedstake.chain.eip712 import Domain, recover_signer, sign_digest, typed_digest
from fedstake.chain.market import commitment_struct_hash
from fedstake.errors import SignatureError

DOMAIN = Domain("fedstake", "1", 31337, "0x" + "ab" * 20)
FIELDS = dict(task=3, round=2, trainer=derive_account(1, "trainer").address, updateHash=b"\x05" * 32,
              samples=64, transcriptRoot=b"\x00" * 32)


def _eth_account_message():
    return encode_typed_data(full_message={
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Commitment": [{"name": "task", "type": "uint256"}, {"name": "round", "type": "uint256"},
                           {"name": "trainer", "type": "address"}, {"name": "updateHash", "type": "bytes32"},
                           {"name": "samples", "type": "uint256"}, {"name": "transcriptRoot", "type": "bytes32"}],
        },
        "primaryType": "Commitment",
        "domain": {"name": DOMAIN.name, "version": DOMAIN.version, "chainId": DOMAIN.chain_id,
                   "verifyingContract": DOMAIN.verifying_contract},
        "message": FIELDS,
    })


def _digest():
    return typed_digest(DOMAIN, commitment_struct_hash(*FIELDS.values()))


def test_digest_matches_eth_account_encoder():
    signer = derive_account(1, "trainer")
    ours = sign_digest(_digest(), signer.private_key)
    theirs = EthAccount.sign_message(_eth_account_message(), signer.private_key).signature
    assert ours == bytes(theirs)


def test_recover_returns_the_signer():
    signer = derive_account(1, "trainer")
    assert recover_signer(_digest(), sign_digest(_digest(), signer.private_key)) == signer.address


def test_another_domain_recovers_someone_else():
    signer = derive_account(1, "trainer")
    signature = sign_digest(_digest(), signer.private_key)
    other = Domain("fedstake", "1", 1, DOMAIN.verifying_contract)
    moved = typed_digest(other, commitment_struct_hash(*FIELDS.values()))
    assert recover_signer(moved, signature) != signer.address


@pytest.mark.parametrize(
    "mangle, match",
    [
        (lambda s: s[:64], "65 bytes"),
        (lambda s: s[:64] + b"\x05", "v must be 27 or 28"),
        (lambda s: s[:32] + (0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140).to_bytes(32, "big") + s[64:],
         "lower half"),
    ],
)
def test_malformed_signatures_are_refused(mangle, match):
    signature = sign_digest(_digest(), derive_account(1, "trainer").private_key)
    with pytest.raises(SignatureError, match=match):
        recover_signer(_digest(), mangle(signature))


def test_derived_accounts_are_deterministic_and_distinct():
    assert derive_account(5, "a") == derive_account(5, "a")
    assert derive_account(5, "a").address != derive_account(5, "b").address != derive_account(6, "a").address
