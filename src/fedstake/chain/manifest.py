"""The deployment manifest: what any Ethereum library needs to use a task's contracts.

`manifest.json` is `{"chain_id", "task_id", "deployment_block",
"contracts": {NAME: {"address", "abi"}}}`, plus `"rpc_url"` when the
publisher names a node: plain JSON that web3.py, ethers or viem use
without fedstake, and from which fedstake's own processes attach typed
clients to the chain. `deployment_block` is where the contracts' history
starts (no event of theirs is older), so log scans can begin there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from eth_utils import to_checksum_address

from fedstake.chain.accounts import is_address_text
from fedstake.chain.backend import ChainBackend
from fedstake.chain.compiler import Artifact
from fedstake.chain.contract import ContractHandle
from fedstake.chain.delegation import Delegation
from fedstake.chain.deployment import Deployment
from fedstake.chain.governance import ModelGovernance
from fedstake.chain.market import TaskMarket
from fedstake.chain.models import ModelRegistry
from fedstake.chain.scoreboard import ScoreBoard
from fedstake.chain.staking import StakeRegistry
from fedstake.chain.token import FedToken
from fedstake.errors import ChainError, ManifestError
from fedstake.files import json_object, write_atomically

MANIFEST = "manifest.json"
_KEYS = ("chain_id", "task_id", "deployment_block", "rpc_url", "contracts")
_CLIENTS = {"FedToken": ("token", FedToken), "StakeRegistry": ("registry", StakeRegistry),
            "ModelRegistry": ("models", ModelRegistry), "TaskMarket": ("market", TaskMarket),
            "ModelGovernance": ("governance", ModelGovernance),
            "Delegation": ("delegation", Delegation), "ScoreBoard": ("board", ScoreBoard)}
_OPTIONAL = ("Delegation",)  # manifests published before delegation existed stay valid


@dataclass(frozen=True)
class ContractEntry:
    address: str
    abi: list[dict[str, Any]]


@dataclass(frozen=True)
class Manifest:
    chain_id: int
    task_id: int
    deployment_block: int
    contracts: dict[str, ContractEntry]
    rpc_url: str | None = None

    def address(self, name: str) -> str:
        return self.contracts[name].address

    def to_json(self) -> dict[str, Any]:
        head = {"chain_id": self.chain_id, "task_id": self.task_id, "deployment_block": self.deployment_block}
        return head | ({"rpc_url": self.rpc_url} if self.rpc_url else {}) | {
            "contracts": {name: {"address": c.address, "abi": c.abi} for name, c in self.contracts.items()}}


@dataclass(frozen=True)
class Contracts:
    """fedstake's typed clients on the contracts a manifest names."""

    token: FedToken
    registry: StakeRegistry
    models: ModelRegistry
    market: TaskMarket
    # @dev None when found from the market's address alone (the dashboard): nothing links these to it.
    governance: ModelGovernance | None = None
    delegation: Delegation | None = None
    board: ScoreBoard | None = None


def build_manifest(deployment: Deployment, *, task_id: int, deployment_block: int,
                   rpc_url: str | None = None) -> Manifest:
    """The manifest of `deployment`'s task `task_id`.

    `deployment_block`: a block at or before the first contract's creation,
    e.g. `backend.block_number() + 1` read just before `deploy_system`.
    """
    clients = {name: getattr(deployment, field) for name, (field, _) in _CLIENTS.items()}
    contracts = {name: ContractEntry(c.address, c.handle.artifact.abi) for name, c in clients.items()}
    return Manifest(deployment.backend.chain_id, task_id, deployment_block, contracts, rpc_url)


def write_manifest(manifest: Manifest, path: str | os.PathLike[str]) -> Path:
    """Write `manifest` as JSON at `path`, atomically (readers never see half a file)."""
    return write_atomically(path, json.dumps(manifest.to_json(), indent=2) + "\n")


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest at `path`, validated (see `parse_manifest`)."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read the manifest: {exc.strerror}") from None
    return parse_manifest(text, source=str(path))


def parse_manifest(data: str | bytes | Mapping[str, Any], *, source: str = "manifest") -> Manifest:
    """A manifest from its JSON text or parsed JSON; `ManifestError` names the first field that
    is missing or wrong (`source`, where the text came from, names a document that is not JSON)."""
    data = json_object(data, source=source, error=ManifestError)
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise ManifestError(unknown[0], "unknown key")
    rpc_url = data.get("rpc_url")
    if rpc_url is not None and not (isinstance(rpc_url, str) and rpc_url.startswith(("http://", "https://"))):
        raise ManifestError("rpc_url", f"{rpc_url!r} is not an http(s) URL")
    contracts = _field(data, "contracts", "contracts")
    if not isinstance(contracts, Mapping):
        raise ManifestError("contracts", "not an object of contract name to {address, abi}")
    unknown = [k for k in contracts if k not in _CLIENTS]
    if unknown:
        raise ManifestError(f"contracts.{unknown[0]}", f"unknown contract (fedstake's are {', '.join(_CLIENTS)})")
    return Manifest(
        chain_id=_integer(data, "chain_id", minimum=1),
        task_id=_integer(data, "task_id", minimum=0),  # 0: the contracts alone, before any task
        deployment_block=_integer(data, "deployment_block", minimum=0),
        contracts={name: _contract(_field(contracts, name, f"contracts.{name}"), f"contracts.{name}")
                   for name in _CLIENTS if name in contracts or name not in _OPTIONAL},
        rpc_url=rpc_url,
    )


def check_chain(manifest: Manifest, backend: ChainBackend) -> None:
    """Refuse a node of another chain than the manifest's."""
    if backend.chain_id != manifest.chain_id:
        raise ChainError(f"the manifest is for chain {manifest.chain_id}, but the node is chain {backend.chain_id}")


def attach(manifest: Manifest, backend: ChainBackend) -> Contracts:
    """Typed clients on the manifest's contracts, once the chain is the manifest's and
    has code at every address (a wrong RPC URL or a stale manifest fails here, by name)."""
    check_chain(manifest, backend)
    clients = {}
    for name, entry in manifest.contracts.items():
        if not backend.code_at(entry.address):
            raise ChainError(f"no contract at {entry.address} ({name} in the manifest) on chain {backend.chain_id}: "
                             "a node of another network, or a manifest from another deployment")
        artifact = Artifact(name, entry.abi, b"", b"")  # a manifest carries ABIs, not bytecode: enough to call
        field, client = _CLIENTS[name]
        clients[field] = client(ContractHandle(backend, entry.address, artifact))
    return Contracts(**clients)


def _field(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise ManifestError(path, "missing")
    return data[key]


def _integer(data: Mapping[str, Any], key: str, *, minimum: int) -> int:
    value = _field(data, key, key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ManifestError(key, f"{value!r} is not an integer >= {minimum}")
    return value


def _contract(entry: Any, where: str) -> ContractEntry:
    if not isinstance(entry, Mapping) or set(entry) != {"address", "abi"}:
        raise ManifestError(where, "not an object with exactly `address` and `abi`")
    address, abi = entry["address"], entry["abi"]
    if not is_address_text(address):
        raise ManifestError(f"{where}.address", f"{address!r} is not an address (or its checksum is wrong)")
    if not isinstance(abi, list) or not abi:
        raise ManifestError(f"{where}.abi", "not a non-empty list of ABI entries")
    for i, item in enumerate(abi):
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise ManifestError(f"{where}.abi[{i}]", "not an ABI entry (an object with a `type`)")
        if item["type"] in ("function", "event") and not (
                isinstance(item.get("name"), str) and isinstance(item.get("inputs"), list)):
            raise ManifestError(f"{where}.abi[{i}]", f"a {item['type']} needs a `name` and a list of `inputs`")
    return ContractEntry(to_checksum_address(address), list(abi))
