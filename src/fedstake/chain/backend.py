"""The backend-neutral chain API every typed client is written against.

A backend sends raw transactions and calls and returns receipts; ABI
encoding lives above it (`contract.py`), so the embedded EVM and a
JSON-RPC node produce the same receipts for the same calldata.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from statistics import median

from eth_abi import decode

from fedstake.chain.accounts import Account
from fedstake.chain.stopwatch import Stopwatch

_ERROR_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")


@dataclass(frozen=True)
class LogEntry:
    address: str
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class Receipt:
    """What a mined transaction left behind; `gas_used` is what the sender paid for."""

    tx_hash: str
    gas_used: int
    block_number: int
    logs: tuple[LogEntry, ...] = ()
    contract_address: str | None = None


def decode_revert(data: bytes) -> str:
    """The reason string in revert data: Error(string), Panic(uint256) or raw hex."""
    if data[:4] == _ERROR_SELECTOR:
        try:
            return decode(["string"], data[4:])[0]
        except Exception:
            return f"undecodable reason 0x{data.hex()}"
    if data[:4] == _PANIC_SELECTOR and len(data) >= 36:
        return f"panic 0x{int.from_bytes(data[4:36], 'big'):02x}"
    return f"no reason (0x{data.hex()})" if data else "no reason"


@dataclass
class GasLedger:
    """Gas per named operation, as the chain charged it."""

    samples: dict[str, list[int]] = field(default_factory=dict)

    def record(self, operation: str, gas: int) -> None:
        self.samples.setdefault(operation, []).append(gas)

    def summary(self) -> dict[str, int]:
        """Median gas per operation (operations in first-seen order)."""
        return {op: int(median(values)) for op, values in self.samples.items()}


class ChainBackend(ABC):
    """One EVM chain: send transactions, make calls, move time."""

    name: str

    def __init__(self) -> None:
        self.gas = GasLedger()
        self.stopwatch = Stopwatch()

    @property
    @abstractmethod
    def chain_id(self) -> int: ...

    @abstractmethod
    def deploy(self, initcode: bytes, sender: Account) -> Receipt:
        """Create a contract from `initcode` (bytecode + encoded constructor args)."""

    @abstractmethod
    def transact(self, to: str, data: bytes, sender: Account) -> Receipt:
        """Send and mine a transaction; raise `ContractRevert` if it reverts."""

    @abstractmethod
    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        """Execute read-only; raise `ContractRevert` if it reverts."""

    @abstractmethod
    def code_at(self, address: str) -> bytes:
        """The runtime bytecode at `address` (empty for an account with no contract)."""

    @abstractmethod
    def timestamp(self) -> int:
        """The latest block's timestamp."""

    @abstractmethod
    def block_number(self) -> int:
        """The latest block's number (a manifest records where its contracts' history starts)."""

    @abstractmethod
    def advance_time(self, seconds: int) -> None:
        """Move the chain's clock forward (test networks only)."""

    def close(self) -> None:
        """Release whatever the backend holds (processes, connections)."""

    def __enter__(self) -> ChainBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
