"""A node's ClientApp and its agent: records cross the Unix socket whole, errors come back as
errors, the socket is its owner's alone, and the ClientApp loads nothing heavy."""

import os
import stat
import subprocess
import sys

import pytest
from flwr.app import ConfigRecord

from fedstake.deploy.federation.agent import SOCKET, AgentServer, FlowerLink, check_link, socket_path
from fedstake.deploy.federation.agent_link import AgentError, ask_agent, decode, encode
from fedstake.errors import ConfigError


def test_a_frame_carries_text_and_bytes_whole():
    records = {"question": {"doc": '{"round": 3}', "model": b"\x00\x01" * 5000, "empty": b""},
               "sub.0": {"ciphertext": bytes(range(256))}}
    header, back = decode(encode({"kind": "query.assess"}, records)[8:])
    assert header == {"kind": "query.assess"} and back == records


def test_a_malformed_frame_is_an_agent_error():
    with pytest.raises(AgentError, match="malformed frame"):
        decode(b"\x00\x00\x00\x00\x00\x00\x00\x09{not json")


def test_the_agent_answers_and_reports_its_errors_on_a_socket_only_its_owner_can_use(tmp_path):
    def answer(kind, records):
        if kind == "query.fail":
            raise ValueError("the model sent is not the chain's latest")
        return ConfigRecord({"doc": f"{kind}:{records['question']['doc']}", "echo": records["question"]["blob"]})

    server = AgentServer(answer, tmp_path / "agent.sock")
    try:
        assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
        reply = ask_agent(str(server.path), "train", {"question": {"doc": "hi", "blob": b"\xff" * 3}})
        assert reply == {"doc": "train:hi", "echo": b"\xff" * 3}
        with pytest.raises(AgentError, match="ValueError: the model sent is not the chain's latest"):
            ask_agent(str(server.path), "query.fail", {"question": {"doc": ""}})
    finally:
        server.close()
    assert not server.path.exists()
    with pytest.raises(AgentError, match="no agent answers at"):
        ask_agent(str(server.path), "train", {"question": {"doc": ""}})


def test_the_client_app_imports_neither_torch_nor_the_chain_stack():
    probe = ("import sys, fedstake.deploy.federation.client_app; "
             "print(sorted(m for m in ('torch', 'web3', 'boa', 'fedstake.deploy.federation.node') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_participant_folder_too_deep_for_a_unix_socket_gets_a_private_short_one(tmp_path):
    shallow, deep = tmp_path / "node", tmp_path.joinpath(*["a-rather-long-folder-name"] * 6, "node")
    assert socket_path(shallow) == shallow / SOCKET
    path = socket_path(deep)
    assert path != deep / SOCKET and len(os.fsencode(path)) < 100 and path == socket_path(deep)  # stable
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.getuid()
    server = AgentServer(lambda kind, records: ConfigRecord({"doc": kind}), path)
    try:
        assert ask_agent(str(path), "query.hello", {"question": {"doc": ""}}) == {"doc": "query.hello"}
    finally:
        server.close()


def test_a_supernode_link_is_insecure_only_without_certificates(tmp_path):
    assert FlowerLink("127.0.0.1:9092").arguments() == ["--superlink", "127.0.0.1:9092", "--insecure"]
    ca, key = tmp_path / "ca.crt", tmp_path / "node.key"
    assert FlowerLink("link.example:9092", ca, key).arguments() == [
        "--superlink", "link.example:9092", "--root-certificates", str(ca), "--auth-supernode-private-key", str(key)]
    with pytest.raises(ConfigError, match="--superlink: 'localhost' is not host:port"):
        check_link("localhost")
