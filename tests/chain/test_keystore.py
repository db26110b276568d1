"""Keys in keystore files: round trips, the passphrase's sources, and an error naming
the file and the problem for every way a key file can be unusable."""

import json
import stat

import pytest
from eth_account import Account as EthAccount

from fedstake.chain.accounts import derive_account
from fedstake.chain.keystore import SCRYPT_N, create_keystore, load_keystore, read_passphrase, save_keystore
from fedstake.errors import KeystoreError

FAST = 2**10  # scrypt's n for tests that are not about the work factor
PASS = "correct horse battery staple"


@pytest.fixture
def trainer():
    return derive_account(1, "trainer")


@pytest.fixture
def key_file(tmp_path, trainer):
    return save_keystore(trainer, tmp_path / "trainer.json", PASS, work_factor=FAST)


def test_a_saved_key_loads_back_as_the_same_account(key_file, trainer):
    assert load_keystore(key_file, PASS) == trainer


def test_the_file_is_a_standard_keystore_readable_only_by_its_owner(key_file, trainer):
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keystore = json.loads(key_file.read_text())
    assert keystore["version"] == 3 and keystore["crypto"]["kdf"] == "scrypt"
    assert bytes(EthAccount.decrypt(keystore, PASS)) == trainer.private_key  # eth-account reads it unaided


def test_by_default_a_key_is_saved_with_the_measured_work_factor(tmp_path, trainer):
    path = save_keystore(trainer, tmp_path / "trainer.json", PASS)
    assert SCRYPT_N == 2**17
    assert json.loads(path.read_text())["crypto"]["kdfparams"] | {"salt": ""} == {"n": SCRYPT_N, "r": 8, "p": 1,
                                                                                  "dklen": 32, "salt": ""}
    assert load_keystore(path, PASS) == trainer


def test_create_makes_a_fresh_key_each_time(tmp_path):
    first = create_keystore(tmp_path / "a.json", PASS, work_factor=FAST)
    second = create_keystore(tmp_path / "b.json", PASS, work_factor=FAST)
    assert first != second
    assert load_keystore(tmp_path / "a.json", PASS) == first


def test_a_key_file_written_by_another_tool_with_pbkdf2_loads(tmp_path, trainer):
    path = tmp_path / "geth-style.json"
    path.write_text(json.dumps(EthAccount.encrypt(trainer.private_key, PASS, kdf="pbkdf2", iterations=1000)))
    assert load_keystore(path, PASS) == trainer


def test_an_existing_key_is_never_overwritten_unless_asked(key_file):
    other = derive_account(1, "outsider")
    with pytest.raises(KeystoreError, match="already exists") as refused:
        save_keystore(other, key_file, PASS, work_factor=FAST)
    assert str(key_file) in str(refused.value)
    save_keystore(other, key_file, PASS, overwrite=True, work_factor=FAST)
    assert load_keystore(key_file, PASS) == other


def test_a_wrong_passphrase_is_named_as_such(key_file):
    with pytest.raises(KeystoreError, match="wrong passphrase") as wrong:
        load_keystore(key_file, PASS + "!")
    assert wrong.value.source == str(key_file)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(KeystoreError, match="no such key file") as missing:
        load_keystore(tmp_path / "nowhere.json", PASS)
    assert missing.value.source == str(tmp_path / "nowhere.json")


@pytest.mark.parametrize("content", [b"not json at all", b'{"address": "00"}', b"[1, 2]", b"\xff\xfe\x00binary",
                                     b'{"version": 3, "crypto": {"kdf": "argon2"}}'])
def test_a_file_that_is_not_a_keystore_is_named(tmp_path, content):
    path = tmp_path / "junk.json"
    path.write_bytes(content)
    with pytest.raises(KeystoreError, match="keystore") as junk:
        load_keystore(path, PASS)
    assert junk.value.source == str(path)


def test_a_file_whose_address_does_not_match_its_key_is_refused(key_file):
    keystore = json.loads(key_file.read_text())
    keystore["address"] = derive_account(1, "outsider").address[2:].lower()
    key_file.write_text(json.dumps(keystore))
    with pytest.raises(KeystoreError, match="decrypts to"):
        load_keystore(key_file, PASS)


def test_an_empty_passphrase_is_refused_when_saving(tmp_path, trainer):
    with pytest.raises(KeystoreError, match="empty passphrase"):
        save_keystore(trainer, tmp_path / "k.json", "", work_factor=FAST)
    assert not (tmp_path / "k.json").exists()


def test_the_passphrase_comes_from_an_environment_variable(monkeypatch):
    monkeypatch.setenv("FEDSTAKE_TEST_PASSPHRASE", PASS)
    assert read_passphrase(env="FEDSTAKE_TEST_PASSPHRASE") == PASS


@pytest.mark.parametrize("value, problem", [(None, "not set"), ("", "empty")])
def test_an_unset_or_empty_variable_is_named(monkeypatch, value, problem):
    if value is None:
        monkeypatch.delenv("FEDSTAKE_TEST_PASSPHRASE", raising=False)
    else:
        monkeypatch.setenv("FEDSTAKE_TEST_PASSPHRASE", value)
    with pytest.raises(KeystoreError, match=problem) as error:
        read_passphrase(env="FEDSTAKE_TEST_PASSPHRASE")
    assert error.value.source == "environment variable FEDSTAKE_TEST_PASSPHRASE"


def test_the_passphrase_comes_from_a_file_without_its_trailing_newline(tmp_path):
    (tmp_path / "pass").write_text(PASS + " \n")
    assert read_passphrase(file=tmp_path / "pass") == PASS + " "  # only the newline is dropped


@pytest.mark.parametrize("content, problem", [(None, "cannot read"), ("\n", "empty"), (b"\xff\xfe", "UTF-8")])
def test_an_unusable_passphrase_file_is_named(tmp_path, content, problem):
    path = tmp_path / "pass"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(KeystoreError, match=problem) as error:
        read_passphrase(file=path)
    assert error.value.source == str(path)


@pytest.mark.parametrize("sources", [{}, {"env": "X", "file": "y"}])
def test_exactly_one_passphrase_source_is_taken(sources):
    with pytest.raises(ValueError, match="not both or neither"):
        read_passphrase(**sources)
