"""SIGTERM (a `timeout`, a CI cancel, a plain `kill`) and Ctrl-C stop fedstake and every process it started.

Each test starts the real `fedstake` command as a subprocess, waits until
its children run, sends SIGTERM to fedstake alone (not to its process
group, so nothing but fedstake itself can stop the children) or SIGINT to
its process group as a terminal does, then checks by PID, in /proc, that
no child survives and that the port is free again.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from polling import wait_for

from fedstake.chain.anvil import free_port, port_in_use

pytestmark = pytest.mark.anvil
FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (from /proc/<pid>/stat: the field after the command name)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    direct = children(pid)
    return direct + [d for c in direct for d in descendants(c)]


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    """fedstake in a session of its own, as a shell starts a foreground job."""
    return subprocess.Popen([FEDSTAKE, *args], stdout=open(tmp_path / "stdout", "wb"),
                            stderr=open(tmp_path / "stderr", "wb"), cwd=Path(__file__).parents[2],
                            start_new_session=True)


def terminate(process: subprocess.Popen, tmp_path: Path, signum: int = signal.SIGTERM) -> str:
    """SIGTERM to fedstake alone (a `kill`); SIGINT to its whole process group (a terminal's Ctrl-C)."""
    if signum == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signum)
    assert process.wait(timeout=60) == 128 + signum
    return (tmp_path / "stderr").read_text()


def anvil_children(process: subprocess.Popen) -> list[int]:
    return [p for p in descendants(process.pid) if command_name(p) == "anvil"]


def test_sigterm_to_an_rpc_simulate_stops_its_anvil_and_frees_the_port(tmp_path):
    process = start(["simulate", "-o", str(tmp_path / "run"), "--set", "task.rounds=200", "--set",
                     "task.local-epochs=1", "--set", "chain.backend=rpc"], tmp_path)
    try:
        [anvil] = wait_for(lambda: anvil_children(process), 60, "fedstake to start anvil")
        port = int(Path(f"/proc/{anvil}/cmdline").read_bytes().split(b"\0")[4])
        wait_for(lambda: "round   1/" in (tmp_path / "stdout").read_text(), 90, "the first round")
        assert "interrupted" in terminate(process, tmp_path)
    finally:
        process.kill()
    assert not alive(anvil)
    wait_for(lambda: not port_in_use(port), 10, f"port {port} to be free")
    assert not (tmp_path / "run").exists()  # an interrupted run writes no results


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_to_fedstake_node_stops_anvil_and_frees_the_port(tmp_path, signum):
    port = free_port()
    process = start(["node", "--port", str(port)], tmp_path)
    try:
        wait_for(lambda: "anvil on" in (tmp_path / "stderr").read_text(), 30, "the node to announce itself")
        [anvil] = anvil_children(process)
        assert "interrupted" in terminate(process, tmp_path, signum)
    finally:
        process.kill()
    assert not alive(anvil)
    wait_for(lambda: not port_in_use(port), 10, f"port {port} to be free")


def test_sigterm_to_a_sweep_stops_its_workers_and_keeps_the_finished_runs(tmp_path):
    out = tmp_path / "sweep"
    process = start(["sweep", "-o", str(out), "--workers", "1", "--vary", "task.seed=1,2,3,4,5,6",
                     "--set", "task.rounds=2", "--set", "task.local-epochs=1"], tmp_path)
    try:
        wait_for(lambda: (out / "sweep.json").exists(), 120, "the first finished run")
        workers = descendants(process.pid)
        assert workers
        stderr = terminate(process, tmp_path)
    finally:
        process.kill()
    assert "interrupted" in stderr and "runs finished, kept in" in stderr
    assert not any(alive(pid) for pid in workers)
    rows = json.loads((out / "sweep.json").read_text())
    assert 1 <= len(rows) < 6 and all(r["final_accuracy"] > 0 for r in rows)
    assert "task.seed" in (out / "sweep.md").read_text()


def test_fedstake_node_on_a_busy_port_fails_before_announcing_itself(tmp_path):
    from fedstake.chain.anvil import start_anvil

    with start_anvil() as holder:
        done = subprocess.run([FEDSTAKE, "node", "--port", str(holder.port)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and "anvil on" not in done.stdout + done.stderr
        assert f"error: --port: 127.0.0.1:{holder.port} is already in use" in done.stderr
        assert "Traceback" not in done.stderr and alive(holder.pid)
