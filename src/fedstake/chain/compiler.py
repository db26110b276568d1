"""Compile fedstake's Vyper sources at run time, with a content-addressed cache.

Contracts are compiled from source through vyper's Python API so no
toolchain has to be downloaded; the snekmate modules they import live in
site-packages, so the input bundle searches `sys.path` as well as the
contracts folder. Artifacts are cached by a hash of every source and the
compiler versions, so a change to any contract recompiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from fedstake.errors import CompileError
from fedstake.files import write_atomically

CONTRACT_NAMES = ("FedToken", "StakeRegistry", "ModelRegistry", "TaskMarket", "RevenueSplitter", "ModelGovernance", "Delegation",
                  "ScoreBoard")


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: what deploying and calling it needs."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_bytecode: bytes


def contracts_dir() -> Path:
    """Where the `.vy` sources are: `FEDSTAKE_CONTRACTS`, the wheel's copy, or the checkout."""
    override = os.environ.get("FEDSTAKE_CONTRACTS")
    if override:
        return Path(override)
    packaged = Path(__file__).resolve().parent.parent / "contracts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "contracts"


def cache_dir() -> Path:
    """Artifact cache, a user's directory (never site-packages): `$FEDSTAKE_CACHE/artifacts`, else
    `$XDG_CACHE_HOME/fedstake/artifacts`, else `~/.cache/fedstake/artifacts`."""
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("FEDSTAKE_CACHE") or user_cache / "fedstake") / "artifacts"


def _sources_digest(source_dir: Path, optimize: str) -> str:
    digest = hashlib.sha256()
    for pkg in ("vyper", "snekmate"):
        digest.update(f"{pkg}={metadata.version(pkg)};".encode())
    digest.update(f"optimize={optimize};".encode())
    for path in sorted(source_dir.rglob("*.vy")):
        digest.update(str(path.relative_to(source_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def _compile_source(name: str, source_dir: Path, optimize: str) -> Artifact:
    return artifact_of(name, vyper_output(name, source_dir, optimize=optimize,
                                          output_formats=["abi", "bytecode", "bytecode_runtime"]))


def vyper_output(name: str, source_dir: Path, *, optimize: str, output_formats: list[str],
                 evm_version: str | None = None) -> dict[str, Any]:
    """Vyper's own output for contract `name` in `source_dir` (imports resolve there and in the
    installed packages, snekmate's modules among them); `evm_version` None is Vyper's default fork.
    Not cached: `load_artifact` is the cached path."""
    from vyper.compiler import compile_code
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.settings import OptimizationLevel, Settings

    path = source_dir / f"{name}.vy"
    if not path.is_file():
        raise CompileError(f"no contract source {path}")
    search = [source_dir] + [Path(p) for p in sys.path if p and Path(p).is_dir()]
    settings = Settings(optimize=OptimizationLevel.from_string(optimize),
                        **({"evm_version": evm_version} if evm_version else {}))
    try:
        return compile_code(path.read_text(), contract_path=path.name, input_bundle=FilesystemInputBundle(search),
                            output_formats=output_formats, settings=settings)
    except Exception as exc:  # vyper raises many unrelated types
        raise CompileError(f"{path.name}: {exc}") from exc


def artifact_of(name: str, output: Mapping[str, Any]) -> Artifact:
    """The artifact in Vyper's output (`vyper_output` with abi, bytecode and bytecode_runtime)."""
    return Artifact(
        name=name,
        abi=output["abi"],
        bytecode=bytes.fromhex(output["bytecode"].removeprefix("0x")),
        runtime_bytecode=bytes.fromhex(output["bytecode_runtime"].removeprefix("0x")),
    )


@cache
def load_artifact(name: str, optimize: str = "gas", source_dir: Path | None = None) -> Artifact:
    """The compiled artifact for contract `name` (in `source_dir`, default the
    project's contracts), compiling on a cache miss."""
    source_dir = source_dir or contracts_dir()
    cached = cache_dir() / f"{name}-{_sources_digest(source_dir, optimize)}.json"  # digest covers the folder
    if cached.is_file():
        data = json.loads(cached.read_text())
        return Artifact(
            name=name,
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"]),
            runtime_bytecode=bytes.fromhex(data["runtime_bytecode"]),
        )
    artifact = _compile_source(name, source_dir, optimize)
    payload = {
        "abi": artifact.abi,
        "bytecode": artifact.bytecode.hex(),
        "runtime_bytecode": artifact.runtime_bytecode.hex(),
    }
    write_atomically(cached, json.dumps(payload))
    return artifact
