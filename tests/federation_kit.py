"""Real federations for tests: every part its own OS process on loopback (anvil, a SuperLink,
a `fedstake trainer` / `fedstake validator` per participant, the coordinator through `flwr run`),
brought up and played by the launcher `fedstake up` runs, with hooks to hurt it while it plays.

After a run, `check_books` asks what every fault test asks: tokens conserved, no claim paid
twice (each participant was paid exactly its cumulative amount in the last settled table),
nobody slashed, and results that agree with the chain.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from polling import wait_for  # noqa: F401  (the fault tests take it from here)

from fedstake.chain.manifest import MANIFEST, attach, read_manifest
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation.launcher import Federation, bring_up, descendants, play, read_ending
from fedstake.deploy.federation.relay_log import RelayLog
from fedstake.deploy.federation.results import collect_artifacts, federation_results
from fedstake.deploy.publish import fetch_table
from fedstake.sim.config import Scenario, load_scenario

EXAMPLE = Path(__file__).parents[1] / "examples" / "deploy-local.toml"


def scenario_file(folder: Path, *, rounds: int = 3) -> Path:
    """examples/deploy-local.toml (4 trainers, 4 validators) with `rounds` rounds."""
    path = folder / "scenario.toml"
    path.write_text(EXAMPLE.read_text().replace("rounds = 3", f"rounds = {rounds}"))
    return path


@dataclass
class Played:
    """A federation playing in a thread: its rounds as they are logged, and how it ended."""

    federation: Federation
    rows: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    runs: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def wait(self, timeout: float) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the federation did not finish within {timeout:g} s"
        if self.error is not None:
            raise self.error


@contextmanager
def federation(tmp_path: Path, *, rounds: int = 3,
               participant: Callable[[str, list[str]], list[str]] = lambda name, command: command
               ) -> Iterator[tuple[Federation, Scenario]]:
    """A federation brought up in `tmp_path/run`; every process it started is stopped at the end."""
    path = scenario_file(tmp_path, rounds=rounds)
    scenario = load_scenario(path, [])
    fed = bring_up(tmp_path / "run", path, scenario, rpc_url=None, participant=participant)
    try:
        yield fed, scenario
    finally:
        fed.stop()


def play_in_background(fed: Federation, rounds: int) -> Played:
    played = Played(fed)

    def run() -> None:
        try:
            played.runs = play(fed, rounds, on_round=played.rows.append, poll_s=1.0)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread by `wait`
            played.error = exc

    played.thread = threading.Thread(target=run, name="play", daemon=True)
    played.thread.start()
    return played


def log_count(fed: Federation, name: str, text: str) -> int:
    path = fed.run_dir / fed.service(name).log
    return path.read_text(errors="replace").count(text) if path.exists() else 0


def received(fed: Federation, name: str, message_type: str) -> int:
    """How many messages of `message_type` participant `name`'s SuperNode has received so far."""
    return log_count(fed, name, f"Receiving: {message_type} message")


def kill(fed: Federation, name: str) -> int:
    """SIGKILL participant `name` and its SuperNode (its process group): a crash, no clean-up."""
    pid = fed.service(name).pid
    os.killpg(pid, signal.SIGKILL)
    return pid


def coordinator_pid(fed: Federation) -> int | None:
    """The running coordinator: the `flwr-serverapp` process the SuperLink started."""
    for pid in descendants(fed.service("superlink").pid):
        try:
            if b"flwr-serverapp" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def logged(fed: Federation) -> dict[int, dict]:
    return RelayLog(fed.run_dir).rows()


@dataclass(frozen=True)
class Books:
    results: object
    refund: int
    claimed: dict[str, int]
    table: dict[str, tuple[int, int]]


def check_books(fed: Federation, scenario: Scenario) -> Books:
    """Close the task as its requester, then check the money against the chain: conservation,
    every claim paid once and in full, no slash; and results.json against the chain."""
    refund = read_ending(fed)
    manifest = read_manifest(fed.run_dir / MANIFEST)
    with RpcBackend.over_http(fed.rpc_url) as chain:
        results = federation_results(fed.run_dir, scenario, manifest, chain, refunded=refund, timing={},
                                     node_stays=False)  # also checks every logged round is the chain's final
        collect_artifacts(fed.run_dir, manifest, chain, fed.run_dir / "collected")  # every model, every table
        contracts = attach(manifest, chain)
        market, registry = contracts.market, contracts.registry
        root = market.rewards_root(manifest.task_id)
        servers = [f"http://127.0.0.1:{s.port}" for s in fed.services if s.role == "validator" and s.port]
        table = fetch_table(servers[0], max(r.round for r in results.rounds), root=root).entries
        claimed = {p.address: market.claimed(manifest.task_id, p.address) for p in results.participants}
        slashed = {p.address: registry.slashed_of(p.address) for p in results.participants}
    assert results.final["supply_conserved"], "tokens were created or destroyed"
    assert all(v == 0 for v in slashed.values()), f"an honest party was slashed: {slashed}"
    for address, (cumulative, _) in table.items():
        assert claimed[address] == cumulative, f"{address} claimed {claimed[address]} of {cumulative}"
    assert sum(claimed.values()) + refund <= results.final["budget"], "more paid out than escrowed"
    assert sum(claimed.values()) == results.final["paid"]
    return Books(results, refund, claimed, table)
