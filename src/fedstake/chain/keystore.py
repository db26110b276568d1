"""Keys in Ethereum keystore files (the encrypted JSON geth, eth-account and ethers read).

In a deployment every role is its own process holding only its own key:
the key lives in a version-3 keystore file, unlocked by a passphrase
taken from an environment variable or a file, never from the command
line (where `ps` shows it).

Work factor: scrypt with n = 2**17 (r = 8, p = 1; 128 MiB). Measured
here, a load takes 0.42-0.44 s, against 0.75-0.89 s for geth's default
n = 2**18, which crosses a second once other jobs share the two cores;
pbkdf2 at eth-account's 1,000,000 rounds took 0.35-0.40 s but is not
memory-hard. Files written elsewhere load whatever their parameters.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from coincurve import PrivateKey
from eth_account import Account as EthAccount
from eth_keyfile.exceptions import EthKeyfileException

from fedstake.chain.accounts import Account
from fedstake.errors import KeystoreError
from fedstake.files import write_atomically

SCRYPT_N = 2**17


def read_passphrase(*, env: str | None = None, file: str | os.PathLike[str] | None = None) -> str:
    """The passphrase in environment variable `env` or in `file` (one trailing newline dropped).

    Exactly one source must be given; an unset variable, an unreadable
    file and an empty passphrase are errors naming the source.
    """
    if (env is None) == (file is None):
        raise ValueError("give the passphrase's environment variable or its file, not both or neither")
    if env is not None:
        source, passphrase = f"environment variable {env}", os.environ.get(env)
        if passphrase is None:
            raise KeystoreError(source, "not set")
    else:
        source = str(file)
        try:
            passphrase = Path(file).read_text().removesuffix("\n").removesuffix("\r")
        except OSError as exc:
            raise KeystoreError(source, f"cannot read the passphrase file: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise KeystoreError(source, "the passphrase file is not UTF-8 text") from None
    if not passphrase:
        raise KeystoreError(source, "the passphrase is empty")
    return passphrase


def save_keystore(account: Account, path: str | os.PathLike[str], passphrase: str, *, overwrite: bool = False,
                  work_factor: int = SCRYPT_N) -> Path:
    """Encrypt `account`'s key into a keystore file at `path`, readable by its owner only (0600).

    An existing file is never replaced unless `overwrite`: a lost key
    cannot be recovered. `work_factor` is scrypt's n (see the module's note).
    """
    if not passphrase:
        raise KeystoreError(str(path), "refusing to encrypt a key with an empty passphrase")
    keystore = EthAccount.encrypt(account.private_key, passphrase, kdf="scrypt", iterations=work_factor)
    try:
        return write_atomically(path, json.dumps(keystore), mode=0o600, replace=overwrite)
    except FileExistsError:
        raise KeystoreError(str(path), "a key file already exists here; refusing to overwrite it") from None


def create_keystore(path: str | os.PathLike[str], passphrase: str, *, overwrite: bool = False,
                    work_factor: int = SCRYPT_N) -> Account:
    """A new random account, saved to a keystore file at `path` (see `save_keystore`)."""
    account = Account.from_key(PrivateKey().secret)
    save_keystore(account, path, passphrase, overwrite=overwrite, work_factor=work_factor)
    return account


def load_keystore(path: str | os.PathLike[str], passphrase: str) -> Account:
    """The account in the keystore file at `path`; errors name the file and what is wrong with it."""
    source = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise KeystoreError(source, "no such key file") from None
    except OSError as exc:
        raise KeystoreError(source, f"cannot read the key file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeystoreError(source, "not a keystore file (not text)") from None
    try:
        keystore = json.loads(text)
        private_key = bytes(EthAccount.decrypt(keystore, passphrase))
    except EthKeyfileException as exc:
        if "mismatch" in str(exc):  # the MAC (v3) or checksum (v4) over the derived key
            raise KeystoreError(source, "wrong passphrase (or the file's ciphertext is damaged)") from None
        raise KeystoreError(source, f"not a usable keystore file: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:  # bad JSON, missing fields, wrong types
        raise KeystoreError(source, f"not a keystore file ({type(exc).__name__}: {exc})") from None
    account = Account.from_key(private_key)
    recorded = str(keystore.get("address") or "").lower().removeprefix("0x")
    if recorded and recorded != account.address[2:].lower():
        raise KeystoreError(source, f"the key decrypts to {account.address}, but the file says it holds 0x{recorded}")
    return account
