"""`fedstake serve-model`'s setup: the API keys file and the app built from a manifest."""

import json

import pytest
from fastapi.testclient import TestClient

from deployers import minted_model
from fedstake.chain.manifest import build_manifest, write_manifest
from fedstake.errors import ConfigError, NotFound
from fedstake.serve.chain import ServedTask
from fedstake.serve.command import read_keys, serve_app
from serve_kit import KEYS, PRICE, SHARES, model_file, served  # noqa: F401 (fixtures)


@pytest.mark.parametrize("text, problem", [("{", "is not JSON"), ("[]", "expected a non-empty object"),
                                           ('{"k": 1}', "expected a non-empty object")])
def test_a_bad_keys_file_is_named(tmp_path, text, problem):
    path = tmp_path / "keys.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        read_keys(path)


def test_the_app_is_built_from_a_manifest_and_answers(system, tmp_path, served, model_file):
    task, _, _ = served
    manifest = write_manifest(build_manifest(system, task_id=task.task_id, deployment_block=0), tmp_path / "m.json")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    app = serve_app(system.backend, manifest, task_id=None, model=model_file[0], keys=keys, payer=task.payer, batch=1)
    with TestClient(app) as client:
        answer = client.post("/predict", json={"features": [0.0] * 64}, headers={"X-API-Key": "key-lab"})
    assert answer.status_code == 200 and answer.json()["price"] == PRICE
    assert task.splitter.total_received() == PRICE  # a batch of one: settled at once


def test_a_task_without_a_minted_model_is_not_served(system, actors):
    with pytest.raises(NotFound, match="no minted model"):
        ServedTask(system.models, system.governance, 99, actors.outsider)
