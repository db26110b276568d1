"""The one exception hierarchy every fedstake layer raises from.

Callers catch `FedstakeError` to handle anything of ours; the subclasses
that also derive from a builtin (`ValueError`) keep working with code that
expects the builtin.
"""

from __future__ import annotations


class FedstakeError(Exception):
    """Root of every error fedstake raises on purpose."""


class ConfigError(FedstakeError, ValueError):
    """A scenario or command-line value is missing, unknown or out of range."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class ChainError(FedstakeError):
    """Talking to the chain failed (compile, deploy, connection)."""


class CompileError(ChainError):
    """A Vyper source did not compile."""


class ContractRevert(ChainError):
    """A contract call reverted; `reason` is the contract's revert string."""

    def __init__(self, reason: str, *, function: str = "", gas_used: int = 0) -> None:
        where = f" in {function}" if function else ""
        super().__init__(f"reverted{where}: {reason}")
        self.reason = reason
        self.function = function
        self.gas_used = gas_used


class SignatureError(FedstakeError):
    """A signature does not recover to the address it claims."""


class LearningError(FedstakeError, ValueError):
    """Training or aggregation was given inputs it cannot work with."""


class ProtocolError(FedstakeError):
    """A role was asked to act out of the protocol's order."""


class Unreachable(FedstakeError):
    """A party gave no answer: it crashed, was cut off, was too slow, or refused with an error.
    A round goes on without it while enough of the others answer."""


class NotFound(FedstakeError, LookupError):
    """Asked for something that does not exist: a task id, a participant, a dispute (the
    dashboard answers HTTP 404 with this message)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (see `fedstake.signals`). A KeyboardInterrupt, not a
    FedstakeError, on purpose: no `except Exception` or `except FedstakeError` may swallow it
    on its way up, so every `finally` that stops a child process runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


class KeystoreError(FedstakeError):
    """A key file or its passphrase cannot be used; `source` names the file or variable."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ArtifactError(FedstakeError, ValueError):
    """A published artifact (manifest, rewards table, model file) is malformed, or its
    content does not match the hash or root it is named by; `where` names the file
    and, inside it, the field."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class ManifestError(ArtifactError):
    """A deployment manifest is malformed; `where` is the field (e.g. `contracts.TaskMarket.address`)."""


class FetchError(FedstakeError):
    """A published artifact could not be fetched: absent from a store, or its server
    unreachable or answering with an error."""


class OutputError(FedstakeError):
    """A results directory could not be written (the OS said no while publishing); `path` is
    the file or folder, `reason` the OS's words."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason
