"""A validator's run directory over HTTP: only published names are served, and what a
client fetches is checked (table root recomputed, model keccak) before it is used."""

import http.client
import json
import socket

import pytest
from eth_utils import keccak

from deployers import actors, deploy
from fedstake.chain.accounts import derive_account
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.manifest import MANIFEST, build_manifest, write_manifest
from fedstake.deploy.publish import ArtifactServer, fetch_manifest, fetch_model, fetch_table
from fedstake.errors import ArtifactError, FetchError
from fedstake.protocol.ledger import RewardLedger
from fedstake.protocol.store import ArtifactStore, model_name, table_name

MODEL = b"safetensors bytes of a global model" * 100


@pytest.fixture(scope="module")
def manifest():
    return build_manifest(deploy(EmbeddedBackend(), actors()), task_id=1, deployment_block=1)


@pytest.fixture
def run_dir(tmp_path, manifest):
    """A validator's run directory: manifest, one model, round 1's table, and its own key file."""
    store = ArtifactStore(tmp_path)
    write_manifest(manifest, tmp_path / MANIFEST)
    store.put_model(MODEL)
    ledger = RewardLedger()
    ledger.credit({derive_account(5, f"trainer-{i}").address: 10**20 + i for i in range(3)})
    store.put_table(1, ledger.publish())
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "validator.json").write_text('{"crypto": "secret"}')
    return tmp_path


@pytest.fixture
def server(run_dir):
    with ArtifactServer(run_dir) as serving:
        yield serving


def raw_get(server, path: str, method: str = "GET"):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    connection.request(method, path)
    response = connection.getresponse()
    answer = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return answer


def test_published_artifacts_are_fetched_and_checked(server, run_dir, manifest):
    assert fetch_manifest(server.url) == manifest
    assert fetch_model(server.url, keccak(MODEL)) == MODEL
    local = ArtifactStore(run_dir).get_table(1)
    fetched = fetch_table(server.url, 1, root=local.root)
    assert fetched.entries == local.entries and fetched.root == local.root


def test_answers_carry_type_and_length_and_head_has_no_body(server):
    status, headers, body = raw_get(server, "/" + table_name(1))
    assert status == 200 and headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) == len(body)
    status, headers, body = raw_get(server, "/" + model_name(keccak(MODEL)), method="HEAD")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert int(headers["Content-Length"]) == len(MODEL) and body == b""


@pytest.mark.parametrize("path", ["/keys/validator.json", "/keys/../keys/validator.json", "/../" + MANIFEST, "/",
                                  "/tables/", "/models", "/tables/round-2.json", "/%2e%2e/etc/passwd"])
def test_nothing_but_published_artifacts_is_served(server, path):
    status, _, body = raw_get(server, path)
    assert status == 404 and b"secret" not in body


def test_writes_are_not_accepted(server):
    assert raw_get(server, "/" + MANIFEST, method="PUT")[0] == 501


def test_a_model_altered_on_the_server_is_refused_by_the_client(server, run_dir):
    (run_dir / model_name(keccak(MODEL))).write_bytes(MODEL + b"!")
    with pytest.raises(ArtifactError, match=f"{server.url}/models/0x[0-9a-f]+.safetensors: the bytes hash to"):
        fetch_model(server.url, keccak(MODEL))


def test_a_table_altered_on_the_server_is_refused_by_the_client(server, run_dir):
    path = run_dir / table_name(1)
    dump = json.loads(path.read_text())
    dump["values"][1]["value"][1] = str(10**30)
    path.write_text(json.dumps(dump))
    with pytest.raises(ArtifactError, match=rf"{server.url}/tables/round-1.json: values\[1\]"):
        fetch_table(server.url, 1)


def test_a_table_that_is_not_the_chains_is_refused(server):
    with pytest.raises(ArtifactError, match="is not the expected root 0x" + "00" * 32):
        fetch_table(server.url, 1, root=b"\x00" * 32)


def test_a_missing_artifact_is_named_with_its_url(server):
    with pytest.raises(FetchError, match=f"{server.url}/tables/round-7.json: HTTP 404"):
        fetch_table(server.url, 7)


def test_closing_frees_the_port_and_later_fetches_fail(run_dir):
    server = ArtifactServer(run_dir)
    url, port = server.url, server.port
    server.close()
    server.close()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with pytest.raises(FetchError, match=f"{url}/manifest.json"):
        fetch_manifest(url, timeout=2)
