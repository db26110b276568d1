"""ABI encoding between typed clients and a backend.

A `ContractHandle` turns `transact("stake", amount, role, sender=...)`
into calldata, sends it through whichever backend it holds, names the
gas after the function, and decodes return values and events. Reverts
come back as `ContractRevert` carrying the function name and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.grammar import TupleType, parse
from eth_utils import keccak, to_checksum_address

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend, Receipt
from fedstake.chain.compiler import Artifact
from fedstake.errors import ChainError, ContractRevert


def _abi_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def _normalise(abi_type: Any, value: Any) -> Any:
    """Checksum every address in a decoded value, however deeply nested."""
    if abi_type.is_array:
        return [_normalise(abi_type.item_type, v) for v in value]
    if isinstance(abi_type, TupleType):
        return tuple(_normalise(t, v) for t, v in zip(abi_type.components, value))
    return to_checksum_address(value) if abi_type.base == "address" else value


def _checksum_addresses(types: list[str], values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_normalise(parse(t), v) for t, v in zip(types, values))


@dataclass(frozen=True)
class _Function:
    name: str
    selector: bytes
    inputs: list[str]
    outputs: list[str]


@dataclass(frozen=True)
class _Event:
    name: str
    topic: bytes
    indexed: list[tuple[str, str]]
    plain: list[tuple[str, str]]


class ContractHandle:
    """A deployed contract reached through a backend, addressed by function name."""

    def __init__(self, backend: ChainBackend, address: str, artifact: Artifact) -> None:
        self.backend = backend
        self.address = to_checksum_address(address)
        self.artifact = artifact
        self._functions: dict[str, _Function] = {}
        overloaded: set[str] = set()
        self._events: dict[bytes, _Event] = {}
        for entry in artifact.abi:
            if entry["type"] == "function":
                inputs = [_abi_type(p) for p in entry["inputs"]]
                signature = f"{entry['name']}({','.join(inputs)})"
                fn = _Function(entry["name"], keccak(text=signature)[:4], inputs,
                               [_abi_type(p) for p in entry["outputs"]])
                self._functions[signature] = fn  # always reachable by full signature
                if entry["name"] in self._functions:
                    overloaded.add(entry["name"])
                self._functions[entry["name"]] = fn
            elif entry["type"] == "event":
                inputs = entry["inputs"]
                signature = f"{entry['name']}({','.join(_abi_type(p) for p in inputs)})"
                self._events[keccak(text=signature)] = _Event(
                    entry["name"],
                    keccak(text=signature),
                    [(p["name"], _abi_type(p)) for p in inputs if p["indexed"]],
                    [(p["name"], _abi_type(p)) for p in inputs if not p["indexed"]],
                )
        for name in overloaded:  # an overloaded name alone is ambiguous
            del self._functions[name]

    def _function(self, name: str) -> _Function:
        try:
            return self._functions[name]
        except KeyError:
            raise ChainError(
                f"{self.artifact.name} has no function {name!r} (overloaded functions need their full signature)"
            ) from None

    def calldata(self, name: str, *args: Any) -> bytes:
        fn = self._function(name)
        if len(args) != len(fn.inputs):
            raise ChainError(f"{self.artifact.name}.{name} takes {len(fn.inputs)} arguments, got {len(args)}")
        return fn.selector + encode(fn.inputs, list(args))

    def call(self, name: str, *args: Any) -> Any:
        """A read; a single return value comes back bare, several as a tuple."""
        fn = self._function(name)
        try:
            with self.backend.stopwatch.measure(f"read {name}"):
                raw = self.backend.call(self.address, self.calldata(name, *args))
        except ContractRevert as exc:
            raise ContractRevert(exc.reason, function=f"{self.artifact.name}.{name}") from None
        values = _checksum_addresses(fn.outputs, decode(fn.outputs, raw))
        return values[0] if len(values) == 1 else values

    def transact(self, name: str, *args: Any, sender: Account, operation: str | None = None) -> Receipt:
        """Send a transaction; its gas is recorded under `operation` (default: the function name)."""
        data = self.calldata(name, *args)
        try:
            with self.backend.stopwatch.measure(operation or name):
                receipt = self.backend.transact(self.address, data, sender)
        except ContractRevert as exc:
            raise ContractRevert(exc.reason, function=f"{self.artifact.name}.{name}", gas_used=exc.gas_used) from None
        self.backend.gas.record(operation or name, receipt.gas_used)
        return receipt

    def events(self, receipt: Receipt, name: str) -> list[dict[str, Any]]:
        """This contract's events called `name` in `receipt`, decoded to dicts."""
        found = []
        for log in receipt.logs:
            if log.address != self.address or not log.topics:
                continue
            event = self._events.get(log.topics[0])
            if event is None or event.name != name:
                continue
            record: dict[str, Any] = {}
            for (arg, kind), topic in zip(event.indexed, log.topics[1:]):
                record[arg] = _checksum_addresses([kind], decode([kind], topic))[0]
            plain_types = [kind for _, kind in event.plain]
            values = _checksum_addresses(plain_types, decode(plain_types, log.data))
            record.update({arg: value for (arg, _), value in zip(event.plain, values)})
            found.append(record)
        return found


def deploy_contract(
    backend: ChainBackend, artifact: Artifact, args: tuple[Any, ...], sender: Account
) -> ContractHandle:
    """Deploy `artifact` with constructor `args`; gas is recorded as `deploy_<Name>`."""
    ctor = next((e for e in artifact.abi if e["type"] == "constructor"), {"inputs": []})
    types = [_abi_type(p) for p in ctor["inputs"]]
    with backend.stopwatch.measure("deploy"):
        receipt = backend.deploy(artifact.bytecode + encode(types, list(args)), sender)
    backend.gas.record(f"deploy_{artifact.name}", receipt.gas_used)
    assert receipt.contract_address is not None
    return ContractHandle(backend, receipt.contract_address, artifact)
