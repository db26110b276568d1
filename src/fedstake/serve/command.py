"""`fedstake serve`'s setup from its flags: the API keys file, the chain, the checked model."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend
from fedstake.chain.manifest import attach, read_manifest
from fedstake.errors import ConfigError
from fedstake.serve.app import create_app
from fedstake.serve.chain import ServedTask
from fedstake.serve.meter import FeeMeter
from fedstake.serve.model import load_model


def read_keys(path: Path) -> dict[str, str]:
    """An API keys file: a JSON object of key -> the name its queries are metered under."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError("--keys", f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError("--keys", f"{path} is not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not data or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in data.items()):
        raise ConfigError("--keys", f"{path}: expected a non-empty object of API key -> client name")
    return data


def serve_app(backend: ChainBackend, manifest: Path, *, task_id: int | None, model: Path, keys: Path,
              payer: Account, batch: int) -> FastAPI:
    """The prediction app for task `task_id` (default: the manifest's) on the manifest's contracts."""
    read = read_manifest(manifest)
    contracts = attach(read, backend)
    task_id = read.task_id if task_id is None else task_id
    task = ServedTask(contracts.models, contracts.governance, task_id, payer)
    served = load_model(model, expected_hash=task.model_hash, task_id=task_id)
    return create_app(served, FeeMeter(batch=batch, read_price=task.read_price, settle=task.settle), read_keys(keys))
