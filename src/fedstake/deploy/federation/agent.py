"""A participant's long-lived process: its node's agent, and the Flower SuperNode in front of it.

`fedstake trainer` and `fedstake validator` run this: the key is unlocked
once, the node (its data, its state, the chain) stays loaded, and a
SuperNode started as a child carries the federation's messages to it
through fedstake's light ClientApp (`agent_link` says why). A validator
also serves its published models and tables over HTTP from here. The
SuperNode dies with this process (a parent-death signal), so killing a
participant leaves nothing of it running.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from flwr.app import ConfigRecord

from fedstake.deploy.federation.agent_link import decode, encode, read_frame
from fedstake.deploy.federation.node import PUBLISHED, Node
from fedstake.errors import ConfigError

SOCKET = "agent.sock"
_SUN_PATH = 100  # a Unix socket's path must fit sockaddr_un (108 bytes on Linux, 104 on macOS)


def socket_path(folder: Path) -> Path:
    """Where a participant's agent listens: in its folder, or, when that path is too long for a
    Unix socket, under a private per-user directory in the temporary directory, named after it."""
    path = folder.absolute() / SOCKET
    if len(os.fsencode(path)) < _SUN_PATH:
        return path
    private = Path(tempfile.gettempdir()) / f"fedstake-{os.getuid()}"
    private.mkdir(mode=0o700, exist_ok=True)
    if private.stat().st_uid != os.getuid() or private.stat().st_mode & 0o077:
        raise ConfigError("--dir", f"{folder} is too deep for a Unix socket, and {private} is not this user's "
                          "private directory; choose a shorter --dir")
    return private / f"{hashlib.sha256(os.fsencode(path)).hexdigest()[:16]}.sock"


@dataclass(frozen=True)
class FlowerLink:
    """How this participant's SuperNode reaches the SuperLink."""

    superlink: str  # host:port of its Fleet API
    root_certificates: Path | None = None  # None: --insecure (loopback only)
    auth_key: Path | None = None  # the SuperNode's private key, when the SuperLink authenticates nodes
    port: int = 0  # the SuperNode's own runtime API port (0: any free one)

    def arguments(self) -> list[str]:
        tls = ["--insecure"] if self.root_certificates is None else ["--root-certificates", str(self.root_certificates)]
        auth = [] if self.auth_key is None else ["--auth-supernode-private-key", str(self.auth_key)]
        return ["--superlink", self.superlink, *tls, *auth]


Answer = Callable[[str, Mapping[str, ConfigRecord]], ConfigRecord]


class _Handler(socketserver.BaseRequestHandler):
    answer: Answer
    lock: threading.Lock

    def handle(self) -> None:
        kind = "a message"
        try:
            header, records = decode(read_frame(self.request))
            kind = str(header["kind"])
            with self.lock:  # one message at a time, as a SuperNode delivers them
                answer = self.answer(kind, {k: ConfigRecord(v) for k, v in records.items()})
            frame = encode({}, {"answer": dict(answer)})
        except Exception as exc:  # the ClientApp turns it into the message's error for the coordinator
            frame = encode({"error": f"{type(exc).__name__}: {exc}"}, {})
            print(f"{kind} refused: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        try:
            self.request.sendall(frame)
        except OSError:
            pass  # the ClientApp gave up (its own timeout): nothing to answer


class AgentServer:
    """`answer` (a node's `handle`) on a Unix socket at `path` (mode 0600), in a thread, one
    message at a time, until closed."""

    def __init__(self, answer: Answer, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()  # a socket left by a killed agent
        handler = type("Handler", (_Handler,), {"answer": staticmethod(answer), "lock": threading.Lock()})
        old = os.umask(0o177)
        try:
            self._server = socketserver.UnixStreamServer(str(path), handler)
        finally:
            os.umask(old)
        self.path = path
        self._thread = threading.Thread(target=self._server.serve_forever, name="agent", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the parent dies (Linux's PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def supernode_command(link: FlowerLink, agent: Path, port: int) -> list[str]:
    binary = Path(sys.executable).with_name("flower-supernode")
    return [str(binary), *link.arguments(), "--port", str(port), "--node-config", f'agent="{agent}"']


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_participant(node: Node, link: FlowerLink, *, serve_port: int | None = None, serve_host: str = "127.0.0.1",
                    say: Callable[[str], None] = lambda _: None, flower_env: dict[str, str] | None = None) -> int:
    """Onboard (stake, join), then answer the federation's messages until the SuperNode ends or
    this process is stopped; returns the SuperNode's exit code."""
    node.onboard()
    say(f"{node.config.role} {node.account.address} staked and joined task {node.task_id}")
    with ExitStack() as stack:
        agent = AgentServer(node.handle, socket_path(node.config.folder))
        stack.callback(agent.close)
        if serve_port is not None:
            from fedstake.deploy.publish import ArtifactServer

            published = node.config.folder / PUBLISHED
            published.mkdir(parents=True, exist_ok=True)
            server = stack.enter_context(ArtifactServer(published, host=serve_host, port=serve_port))
            say(f"publishing {published} at {server.url}")
        port = link.port or _free_port()
        env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1",
               "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.1", **(flower_env or {})}
        supernode = subprocess.Popen(supernode_command(link, agent.path, port), env=env, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        stack.callback(_stop, supernode)
        say(f"SuperNode (pid {supernode.pid}) connecting to {link.superlink}")
        while supernode.poll() is None:
            time.sleep(0.5)
        return supernode.returncode


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_link(superlink: str) -> None:
    """`host:port`, refused before anything starts when it is not one."""
    host, _, port = superlink.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("--superlink", f"{superlink!r} is not host:port")
