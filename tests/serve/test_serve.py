"""`fedstake serve` over real HTTP: a minted model answers queries metered per API key, the fees
settle into its RevenueSplitter one transaction per batch, and the contributors claim them."""

import threading
import time

import httpx
import pytest
import uvicorn

from deployers import minted_model
from serve_kit import CONTRIBUTORS, KEYS, PRICE, SHARES, model_file, served  # noqa: F401 (fixtures)
from fedstake.chain.anvil import free_port
from fedstake.errors import ArtifactError, ConfigError
from fedstake.learn.models import LogReg
from fedstake.proof.codec import encode_update
from fedstake.serve.app import create_app
from fedstake.serve.chain import ServedTask
from fedstake.serve.meter import FeeMeter
from fedstake.serve.model import load_model

@pytest.fixture
def server(served):
    """The app on a real socket (uvicorn in a thread), stopped at the end: (base URL, meter)."""
    task, model, _ = served
    meter = FeeMeter(batch=3, read_price=task.read_price, settle=task.settle)
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(create_app(model, meter, KEYS), host="127.0.0.1", port=port,
                                             log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", meter, instance
    instance.should_exit = True
    thread.join(timeout=10)


def _ask(url, key="key-lab", features=None):
    headers = {"X-API-Key": key} if key else {}
    return httpx.post(f"{url}/predict", json={"features": features or [0.5] * 64}, headers=headers, timeout=10)


def test_fees_settle_per_batch_and_reach_the_contributors_claims(system, served, server):
    task, _, rewards = served
    url, meter, _ = server
    for key in ("key-lab", "key-clinic", "key-lab", "key-lab"):
        answer = _ask(url, key)
        assert answer.status_code == 200 and 0 <= answer.json()["class"] < 10
    assert task.splitter.total_received() == 3 * PRICE  # one batch of 3 settled, one query pending
    assert len(meter.settlements) == 1
    flushed = httpx.post(f"{url}/flush", headers={"X-API-Key": "key-clinic"}, timeout=10).json()
    assert flushed["settled"] == PRICE and flushed["queries"] == 1
    usage = httpx.get(f"{url}/meter", timeout=10).json()
    assert usage["queries"] == {"lab": 3, "clinic": 1} and usage["pending_fees"] == 0
    settled = system.backend.gas.samples["serve_settle_batch"]
    assert len(settled) == 2
    for contributor, expected in zip(CONTRIBUTORS, (1_000, 3_000)):
        task.splitter.claim(*rewards.ticket(contributor.address), sender=contributor)
        assert system.token.balance_of(contributor.address) == expected


def test_shutdown_settles_what_is_pending(served, server):
    task, _, _ = served
    url, _, instance = server
    _ask(url)
    instance.should_exit = True
    deadline = time.monotonic() + 10
    while task.splitter.total_received() != PRICE:
        assert time.monotonic() < deadline, "shutdown did not settle the pending query"
        time.sleep(0.05)


def test_an_unknown_key_is_401_and_a_bad_body_422_naming_the_field(server):
    url, meter, _ = server
    assert _ask(url, key=None).status_code == 401
    assert _ask(url, key="stolen").status_code == 401
    short = _ask(url, features=[1.0] * 3)
    assert short.status_code == 422 and short.json()["error"] == "features: expected 64 numbers, got 3"
    wrong = httpx.post(f"{url}/predict", json={"features": "many"}, headers={"X-API-Key": "key-lab"}, timeout=10)
    assert wrong.status_code == 422 and wrong.json()["error"].startswith("features:")
    assert meter.pending == (0, 0) and not meter.queries


def test_a_file_that_is_not_the_tasks_model_is_refused(tmp_path, served):
    task, _, _ = served
    other = tmp_path / "other.safetensors"
    other.write_bytes(encode_update({n: p.detach() for n, p in LogReg(64, 10).named_parameters()}))
    with pytest.raises(ArtifactError, match="does not match task .* model hash"):
        load_model(other, expected_hash=task.model_hash, task_id=task.task_id)


def test_a_model_without_a_voted_price_is_not_served(system, actors, model_file):
    task_id, _, _ = minted_model(system, actors, SHARES, model_hash=model_file[1])
    with pytest.raises(ConfigError, match="have not voted a price"):
        ServedTask(system.models, system.governance, task_id, actors.outsider)
