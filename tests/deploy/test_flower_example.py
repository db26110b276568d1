"""examples/flower runs as its README says, on flwr 1.41, offline: the README's commands, as written.

The commands run with bash in a copy of the example (so its results/ land
in the test's directory), with fedstake's environment on PATH, TMPDIR at a
short fresh folder (the README's `mktemp -d` makes FLWR_HOME there; Ray's
socket paths must stay short) and the local SuperLink on free ports. The
README's last line stops the SuperLink; the test then checks, by PID in
/proc, that no process of this FLWR_HOME survives, and kills any that did.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eth_utils import keccak

from fedstake.chain.anvil import free_port

EXAMPLE = Path(__file__).parents[2] / "examples" / "flower"


def documented_commands() -> str:
    [block] = re.findall(r"```sh\n(.*?)```", (EXAMPLE / "README.md").read_text(), flags=re.S)
    return block


def processes_of(home: str) -> list[int]:
    """Live (not zombie) processes whose environment holds FLWR_HOME=`home`: the SuperLink and its workers."""
    marker = f"FLWR_HOME={home}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                state = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_the_documented_commands_run_the_example_and_leave_nothing_running(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root / "examples" / "flower")
    short_tmp = tempfile.mkdtemp(prefix="fsflwr-", dir="/tmp")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "TMPDIR": short_tmp,
           "FLWR_LOCAL_SUPERLINK_HTTP_API_PORT": str(free_port()), "FLWR_LOCAL_CONTROL_API_PORT": str(free_port())}
    env.pop("FLWR_HOME", None)
    (tmp_path / "commands.sh").write_text("set -euo pipefail\n" + documented_commands())
    started = time.perf_counter()
    try:
        done = subprocess.run(["bash", str(tmp_path / "commands.sh")], cwd=root, env=env, capture_output=True,
                              text=True, timeout=600)
        seconds = time.perf_counter() - started
        [home] = [str(p.parent) for p in Path(short_tmp).glob("*/config.toml")]  # Ray keeps its files there too
        deadline = time.monotonic() + 20
        while processes_of(home) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = processes_of(home)
    finally:
        for home in Path(short_tmp).iterdir():
            for pid in processes_of(str(home)):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(short_tmp, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert left == [], f"still running after the README's kill: {left}"
    results = root / "examples" / "flower" / "results"
    history = json.loads((results / "history.json").read_text())
    accuracy = [history["evaluate-metrics-serverapp"][str(r)]["accuracy"] for r in range(4)]
    assert accuracy == sorted(accuracy) and accuracy[-1] > accuracy[0] + 0.4, accuracy
    assert [(r["round"], r["reason"]) for r in history["rejections"]] == [(n, "1 NaN/Inf values") for n in (1, 2, 3)]
    assert history["model-hash"] == "0x" + keccak((results / "final_model.safetensors").read_bytes()).hex()
    print(f"documented commands: {seconds:.1f} s")
