"""Start and stop a local anvil node for the JSON-RPC backend and its tests.

anvil comes from the npm package `@foundry-rs/anvil` pinned in the
project's package.json; its binary is an optional dependency
(`@foundry-rs/anvil-<os>-<arch>/bin/anvil`). We start that binary
directly, not through `npx`, so the PID we hold is anvil's own and
stopping it frees the node. Each start takes a fresh free port because
a killed anvil holds its old port for about 1.5 s.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, Sequence

from fedstake.chain.probe import rpc_problem
from fedstake.errors import ChainError

HARDFORK = "prague"  # the embedded backend's py-evm VM; gas rules must match
_BINARY_GLOB = "node_modules/@foundry-rs/anvil-*/bin/anvil*"
_READY_TIMEOUT = 10.0
_START_ATTEMPTS = 3


def _project_roots() -> list[Path]:
    """Where `npm install` may have put node_modules: the cwd, then every folder above this file."""
    return [Path.cwd(), *Path(__file__).resolve().parents]


def find_anvil(binary: str | os.PathLike[str] | None = None, *, roots: Sequence[Path] | None = None) -> Path:
    """The anvil executable: `binary`, else $FEDSTAKE_ANVIL, else node_modules in one of `roots`."""
    explicit = binary or os.environ.get("FEDSTAKE_ANVIL")
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ChainError(f"anvil binary {path} does not exist or is not executable")
        return path
    for root in _project_roots() if roots is None else roots:
        found = sorted(p for p in root.glob(_BINARY_GLOB) if os.access(p, os.X_OK))
        if found:
            return found[0]
    raise ChainError(
        "anvil not found: run `npm install` in the fedstake project root (it installs @foundry-rs/anvil "
        "from package.json) or point FEDSTAKE_ANVIL at an anvil binary"
    )


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port` (checked before announcing a node there).
    SO_REUSEADDR as servers set it: connections of a stopped node lingering in TIME_WAIT
    do not hold the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _terminate(process: subprocess.Popen, log: IO[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, wait, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    log.close()


@dataclass
class AnvilNode:
    """A running anvil process; `stop()` ends it by PID, as does interpreter exit if nobody did."""

    url: str
    pid: int
    port: int
    chain_id: int
    process: subprocess.Popen = field(repr=False)
    log: IO[bytes] = field(repr=False)

    def __post_init__(self) -> None:
        self._stopper = weakref.finalize(self, _terminate, self.process, self.log)

    def stop(self) -> None:
        """End the process; safe to call twice."""
        self._stopper()


def _command(binary: Path, port: int, chain_id: int, block_time: int | None, quiet: bool,
             state: Path | None = None) -> list[str]:
    command = [str(binary), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id),
               "--hardfork", HARDFORK]
    command += ["--silent"] if quiet else []
    command += ["--block-time", str(block_time)] if block_time else []
    # loaded at start if it exists, written on a clean stop and every few seconds while it runs
    return command + (["--state", str(state), "--state-interval", "5"] if state else [])


def _wait_until_ready(node: AnvilNode) -> bool:
    """True once the node answers; False if it exited (e.g. someone took the port first)."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            return False
        if rpc_problem(node.url, timeout=0.5) is None:
            return True
        time.sleep(0.01)
    node.stop()
    raise ChainError(f"anvil (pid {node.pid}) did not answer at {node.url} within {_READY_TIMEOUT:.0f} s")


def _launch_once(binary: Path, port: int, chain_id: int, block_time: int | None, quiet: bool,
                 state: Path | None = None) -> AnvilNode | None:
    """A ready node on `port`, or None if the port was taken first. `quiet` False: anvil's
    own output (accounts, requests) goes to our stdout; its errors still to the log we read."""
    log = tempfile.TemporaryFile()
    # a session of its own: a terminal's Ctrl-C reaches fedstake alone, which stops the node
    # itself, after whatever is still talking to it, rather than racing it
    process = subprocess.Popen(_command(binary, port, chain_id, block_time, quiet, state), stdin=subprocess.DEVNULL,
                               stdout=log if quiet else None, stderr=log, start_new_session=True)
    node = AnvilNode(f"http://127.0.0.1:{port}", process.pid, port, chain_id, process, log)
    if _wait_until_ready(node):
        return node
    log.seek(0)
    output = log.read().decode(errors="replace").strip()
    node.stop()
    if "address already in use" in output.lower():
        return None
    raise ChainError(f"anvil exited with code {process.returncode}: {output or 'no output'}")


def launch_anvil(
    *, chain_id: int = 31337, block_time: int | None = None, binary: str | os.PathLike[str] | None = None,
    port: int | None = None, quiet: bool = True, state: Path | None = None,
) -> AnvilNode:
    """Start anvil on `port` (default: a free loopback port) and wait until it answers; the
    caller stops it (or exit does). `quiet` False shows anvil's own output on our stdout.
    `state`: a file the chain is loaded from if it exists and saved to (a restart resumes it)."""
    path = find_anvil(binary)
    if port is not None:
        node = None if port_in_use(port) else _launch_once(path, port, chain_id, block_time, quiet, state)
        if node is None:
            raise ChainError(f"127.0.0.1:{port} is already in use")
        return node
    for _ in range(_START_ATTEMPTS):
        node = _launch_once(path, free_port(), chain_id, block_time, quiet, state)
        if node is not None:
            return node
    raise ChainError(f"anvil could not bind a free port in {_START_ATTEMPTS} attempts")


@contextmanager
def start_anvil(
    *, chain_id: int = 31337, block_time: int | None = None, binary: str | os.PathLike[str] | None = None
) -> Iterator[AnvilNode]:
    """An anvil node for the duration of the `with` block (automine unless `block_time` is given)."""
    node = launch_anvil(chain_id=chain_id, block_time=block_time, binary=binary)
    try:
        yield node
    finally:
        node.stop()
