"""The README's across-machines link, on loopback: certificates made offline by
examples/federation-certs.sh, a SuperLink with TLS and SuperNode authentication, a node
registered with `flwr supernode register` that comes online through the SuperNode command a
fedstake participant starts, and an unregistered node kept out."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fedstake.chain.anvil import free_port
from fedstake.deploy.federation.agent import FlowerLink, supernode_command
from federation_kit import wait_for

CERTS = Path(__file__).parents[3] / "examples" / "federation-certs.sh"
BIN = Path(sys.executable).parent


def _flwr(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([str(BIN / "flwr"), *args, "--format", "json"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    start = done.stdout.find("{")
    return json.loads(done.stdout[start:]) if start >= 0 else {}


def test_a_registered_node_comes_online_over_tls_and_an_unregistered_one_does_not(tmp_path):
    certs = tmp_path / "certs"
    subprocess.run(["bash", str(CERTS), str(certs), "127.0.0.1", "trainer-0", "validator-0"], check=True,
                   capture_output=True, timeout=60)
    again = subprocess.run(["bash", str(CERTS), str(certs), "127.0.0.1", "trainer-0"], capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 2 and "exists" in again.stderr  # nothing overwritten
    assert oct((certs / "ca.key").stat().st_mode & 0o777) == "0o600"
    port = free_port()
    home = tmp_path / "flwr"
    home.mkdir()
    (home / "config.toml").write_text(f'[superlink]\ndefault = "fed"\n\n[superlink.fed]\naddress = "127.0.0.1:{port}"\n'
                                      f'root-certificates = "{certs / "ca.pem"}"\n')
    env = {**os.environ, "FLWR_HOME": str(home), "FLWR_TELEMETRY_ENABLED": "0",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started: list[subprocess.Popen] = []
    try:
        started.append(subprocess.Popen(
            [str(BIN / "flower-superlink"), "--ssl-ca-certfile", str(certs / "ca.pem"), "--ssl-certfile",
             str(certs / "superlink.pem"), "--ssl-keyfile", str(certs / "superlink.key"), "--enable-supernode-auth",
             "--disable-runtime-dependency-installation", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: _flwr(env, "supernode", "list", "fed").get("success"), 60, "the SuperLink over TLS")
        registered = _flwr(env, "supernode", "register", str(certs / "trainer-0.pub"), "fed")
        assert registered["success"], registered
        for name in ("trainer-0", "validator-0"):
            link = FlowerLink(f"127.0.0.1:{port}", root_certificates=certs / "ca.pem", auth_key=certs / name)
            started.append(subprocess.Popen(supernode_command(link, tmp_path / f"{name}.sock", free_port()), env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def nodes() -> list[dict]:
            return _flwr(env, "supernode", "list", "fed").get("nodes", [])

        wait_for(lambda: any(n["status"] == "online" for n in nodes()), 90, "the registered SuperNode online")
        time.sleep(3)  # the unregistered node has had as long to try
        assert [n["status"] for n in nodes()] == ["online"]  # one node known, the registered one
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
