"""`fedstake up` as the README runs it: every role its own process with its own pid, and the same
model hash, updates root and rewards root, round by round, as `fedstake simulate` on the file."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fedstake.deploy.federation.launcher import down

pytestmark = pytest.mark.anvil
FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))
EXAMPLE = Path(__file__).parents[3] / "examples" / "deploy-local.toml"


def _stop_leftovers(out: Path) -> None:
    """Stop, by the pids federation.json lists, whatever a failed or timed-out `up` left running."""
    if (out / "federation.json").is_file():
        down(out)


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    out = Path(args[args.index("--out") + 1])
    try:
        done = subprocess.run([FEDSTAKE, *args], capture_output=True, text=True, timeout=timeout)
    finally:
        _stop_leftovers(out)
    logs = "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                   for log in sorted(out.glob("logs/coordinator-*.log")))  # why a federation's run failed
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + logs
    return done


def test_a_local_federation_gives_the_simulators_hashes_and_roots_round_by_round(tmp_path):
    up = _run("up", "--config", str(EXAMPLE), "--out", str(tmp_path / "federation"), timeout=1200)
    _run("simulate", "--config", str(EXAMPLE), "--out", str(tmp_path / "simulation"), "-q", timeout=600)
    federation = json.loads((tmp_path / "federation" / "results.json").read_text())
    simulation = json.loads((tmp_path / "simulation" / "results.json").read_text())
    keys = ("round", "model_hash", "updates_root", "rewards_root", "accepted", "cumulative_rewards")
    assert [{k: r[k] for k in keys} for r in federation["rounds"]] == \
        [{k: r[k] for k in keys} for r in simulation["rounds"]]
    assert federation["final"]["model_hash"] == simulation["final"]["model_hash"]
    assert federation["final"]["supply_conserved"] and federation["final"]["paid"] == simulation["final"]["paid"]
    processes = json.loads((tmp_path / "federation" / "federation.json").read_text())["processes"]
    names = {"anvil", "superlink", *(f"{role}-{i}" for role in ("trainer", "validator") for i in range(4))}
    long_lived = [p for p in processes if p["name"] in names]
    assert len({p["pid"] for p in long_lived}) == len(long_lived) == len(names)  # a process each
    assert {p["role"] for p in processes} >= {"chain", "requester", "superlink", "trainer", "validator"}
    for validator in (p for p in long_lived if p["role"] == "validator"):  # each publishes what it reported
        folder = tmp_path / "federation" / "nodes" / validator["name"] / "published" / "scores"
        for row in federation["rounds"]:
            published = json.loads((folder / f"round-{row['round']}.json").read_text())
            assert published["validator"] == validator["address"]
            assert published["scores"] == row["scores"][validator["address"]]
    assert (tmp_path / "federation" / "model.safetensors").read_bytes() == \
        (tmp_path / "simulation" / "model.safetensors").read_bytes()
    assert "results in" in up.stdout


def test_a_second_up_into_a_running_federation_is_refused_and_an_interrupted_one_leaves_its_files_known(tmp_path):
    from fedstake.deploy.federation.launcher import running
    from fedstake.sim.outdir import OutputDir, owned_files

    out, log = tmp_path / "federation", tmp_path / "up.log"
    with log.open("w") as sink:
        first = subprocess.Popen([FEDSTAKE, "up", "--config", str(EXAMPLE), "--out", str(out)], stdout=sink,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "up in " not in log.read_text() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "up in " in log.read_text(), log.read_text()[-2000:]
        second = subprocess.run([FEDSTAKE, "up", "--config", str(EXAMPLE), "--out", str(out), "--force"],
                                capture_output=True, text=True, timeout=120, check=False)
        assert second.returncode == 2 and "a federation still runs" in second.stderr and "fedstake down" in second.stderr
        listed = running(out)
        assert len(listed) >= 10  # anvil, the SuperLink, 8 participants
    finally:
        first.send_signal(signal.SIGTERM)
        try:
            first.wait(120)
        finally:
            first.kill()  # a no-op once it has ended
            _stop_leftovers(out)
    assert first.returncode == 143
    deadline = time.monotonic() + 30
    while running(out) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running(out) == []  # every process it started is gone
    assert {"keys/passphrase", "federation.json", "contracts.json", "manifest.json", "scenario.toml"} <= owned_files(out)
    OutputDir.claim(out, command="up")  # all of it fedstake's: a rerun needs no --force, and starts afresh
