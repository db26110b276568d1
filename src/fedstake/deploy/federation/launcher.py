"""`fedstake up`: a scenario's task as a federation of separate processes on loopback.

Every part is its own OS process, started here and listed in
`DIR/federation.json` (role, address, pid, port, log file):

- anvil (unless a node's URL is given), mining a block every second so chain
  time moves while the federation waits for windows;
- the requester (`fedstake task create`, later `fedstake task close`), with its key;
- one artifact server per validator (`fedstake serve`), publishing its models and tables;
- a Flower SuperLink, and one SuperNode per trainer and per validator, each with
  its own key file in its node config;
- the coordinator, Flower's ServerApp, started through `flwr run`.

The operator (this process, `operator.py`) deploys the contracts with the
owner's key and, on a local chain, mints every participant's tokens: a faucet
a real network would not have. Keys are derived from the scenario's seed,
as the simulator derives them, and written as keystore files under
`DIR/keys/` with one passphrase file, so the federation's addresses, and
hence its rewards roots, are the simulator's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from fedstake.chain.accounts import Account, derive_account
from fedstake.chain.anvil import AnvilNode, free_port, launch_anvil
from fedstake.chain.deployment import TOKEN
from fedstake.chain.keystore import save_keystore
from fedstake.chain.manifest import MANIFEST, attach, write_manifest
from fedstake.chain.probe import rpc_problem
from fedstake.chain.rpc import RpcBackend
from fedstake.deploy.federation import operator
from fedstake.deploy.federation.relay_log import ROUNDS_LOG
from fedstake.errors import ConfigError, FedstakeError
from fedstake.sim.config import Scenario
from fedstake.sim.world import BOND_FUNDS

FEDERATION = "federation.json"
CONTRACTS = "contracts.json"
# What a federation writes straight into its directory (a trailing slash: a folder), all fedstake's own:
# a rerun of `fedstake up` there starts from none of it.
FEDERATION_FILES = ("keys/", "logs/", "flwr/", "nodes/", "chain/", "relay/", FEDERATION, CONTRACTS, "scenario.toml",
                    ROUNDS_LOG, MANIFEST)
APP = Path(__file__).parent / "app"
_STOP_TIMEOUT = 10.0


@dataclass
class Service:
    role: str
    name: str
    pid: int
    port: int | None
    log: str
    address: str = ""
    command: list[str] = field(default_factory=list)


@dataclass
class Federation:
    """The processes of one local federation, and where its files are."""

    run_dir: Path
    rpc_url: str
    services: list[Service] = field(default_factory=list)
    _processes: dict[int, subprocess.Popen] = field(default_factory=dict, repr=False)
    _anvil: AnvilNode | None = field(default=None, repr=False)

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    def record(self) -> None:
        """federation.json, rewritten whenever a process starts: `fedstake down` reads it."""
        (self.run_dir / FEDERATION).write_text(json.dumps(
            {"rpc_url": self.rpc_url, "processes": [asdict(s) for s in self.services]}, indent=2) + "\n")

    def spawn(self, role: str, name: str, command: Sequence[str], *, port: int | None = None, address: str = "",
              env: dict[str, str] | None = None) -> Service:
        """Start `command` in a session of its own (so stopping it stops its children), logging to logs/NAME.log."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **(env or {})}, start_new_session=True)
        service = Service(role, name, process.pid, port, str(log.relative_to(self.run_dir)), address, list(command))
        self._processes[process.pid] = process
        self.services = [s for s in self.services if s.name != name] + [service]  # a restart replaces its entry
        self.record()
        return service

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def restart(self, name: str) -> Service:
        """Start `name` again, as it was started (its key, its folder: it carries on from its state)."""
        old = self.service(name)
        stop_groups([old.pid], self._processes)
        return self.spawn(old.role, name, old.command, port=old.port, address=old.address,
                          env=_flower_env(self.run_dir))

    def restart_chain(self) -> None:
        """Stop the federation's anvil cleanly (it saves its state) and start it again from that
        state on the same port: the participants wait for it and carry on."""
        if self._anvil is None:
            raise FedstakeError("this federation uses a node it did not start; restart that node yourself")
        port = self._anvil.port
        self._anvil.stop()
        deadline = time.monotonic() + 30.0
        while True:  # the port takes a moment to come free
            try:
                self._anvil = launch_anvil(block_time=1, port=port, state=chain_state(self.run_dir))
                break
            except FedstakeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        self.services = [s for s in self.services if s.name != "anvil"] + [
            Service("chain", "anvil", self._anvil.pid, port, "", "")]
        self.record()

    def alive(self, service: Service) -> bool:
        process = self._processes.get(service.pid)
        return process is not None and process.poll() is None

    def exited(self) -> list[Service]:
        """Its trainers and validators (the long-lived participants, not their one-off commands such
        as a stake) whose process has ended."""
        return [s for s in self.services if s.name == f"{s.role}-{s.name.rsplit('-', 1)[-1]}"
                and s.role in ("trainer", "validator") and s.pid in self._processes
                and self._processes[s.pid].poll() is not None]

    def stop(self, keep_chain: bool = False) -> None:
        """Stop every process this federation started (anvil too, unless kept)."""
        stop_groups([s.pid for s in self.services if not (s.role == "chain" and keep_chain)], self._processes)
        if self._anvil is not None and not keep_chain:
            self._anvil.stop()


def stop_groups(pids: Sequence[int], processes: dict[int, subprocess.Popen] | None = None) -> None:
    """SIGTERM the process groups `pids` lead, all at once; wait; SIGKILL whatever lingers."""
    processes = processes or {}
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + _STOP_TIMEOUT
    def lingering() -> list[int]:
        return [p for p in pids if (processes[p].poll() is None if p in processes else _running(p))]
    while lingering() and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in lingering():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        if pid in processes:
            processes[pid].wait()


def parents() -> dict[int, int]:
    """Every process's parent pid, from /proc (Linux)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            found[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # it ended while we read
    return found


def descendants(pid: int, tree: dict[int, int] | None = None) -> list[int]:
    """The pids below `pid` in the process tree, nearest first."""
    tree = parents() if tree is None else tree
    found, frontier = [], [pid]
    while frontier:
        frontier = [p for p, parent in tree.items() if parent in frontier]
        found += frontier
    return found


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def _still_ours(service: Service) -> bool:
    """The process `service` names still runs, and is the program it started (not a pid reused)."""
    if not _running(service.pid):
        return False
    if not service.command:
        return True
    try:
        argv = Path(f"/proc/{service.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = {a.decode(errors="replace") for a in argv}
    return all(a in args for a in service.command[:6])  # a script's interpreter may come first


def running(run_dir: Path) -> list[Service]:
    """What `run_dir/federation.json` lists that still runs (nothing without the file)."""
    try:
        listed = json.loads((run_dir / FEDERATION).read_text())["processes"]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError("DIR", f"{run_dir} holds no readable {FEDERATION}: {exc}") from None
    return [service for service in (Service(**entry) for entry in listed) if _still_ours(service)]


def down(run_dir: Path) -> list[Service]:
    """Stop whatever `run_dir/federation.json` lists that still runs; returns what was stopped."""
    if not (run_dir / FEDERATION).is_file():
        raise ConfigError("DIR", f"{run_dir} holds no {FEDERATION}: not a directory `fedstake up` wrote")
    stopped = running(run_dir)
    stop_groups([s.pid for s in stopped])
    return stopped


def chain_state(run_dir: Path) -> Path:
    """Where the federation's own anvil saves the chain (so it can be restarted from it)."""
    return run_dir / "chain" / "state.json"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _flower_env(run_dir: Path) -> dict[str, str]:
    return {"FLWR_HOME": str(run_dir / "flwr"), "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _fedstake(*args: str) -> list[str]:
    return [sys.executable, "-m", "fedstake.cli", *args]


@dataclass(frozen=True)
class Cast:
    """Who plays the federation: every account derived from the scenario's seed."""

    owner: Account
    insurance: Account
    requester: Account
    trainers: list[Account]
    validators: list[Account]

    @classmethod
    def of(cls, scenario: Scenario) -> Cast:
        seed = scenario.task.seed
        validators = sum(g.count for g in scenario.validators)
        return cls(derive_account(seed, "owner"), derive_account(seed, "insurance"), derive_account(seed, "requester"),
                   [derive_account(seed, f"trainer-{i}") for i in range(scenario.trainer_count)],
                   [derive_account(seed, f"validator-{i}") for i in range(validators)])


def _write_keys(run_dir: Path, cast: Cast) -> tuple[Path, dict[str, Path]]:
    """Every participant's keystore and one passphrase file, readable by this user only."""
    keys = run_dir / "keys"
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    passphrase = keys / "passphrase"
    if not passphrase.exists():
        passphrase.write_text(secrets.token_hex(16))
        passphrase.chmod(0o600)
    secret = passphrase.read_text()
    files = {}
    named = [("requester", cast.requester)] + [(f"trainer-{i}", a) for i, a in enumerate(cast.trainers)] + \
        [(f"validator-{i}", a) for i, a in enumerate(cast.validators)]
    for name, account in named:
        path = keys / f"{name}.json"
        if not path.exists():
            save_keystore(account, path, secret)
        files[name] = path
    return passphrase, files


def _grants(scenario: Scenario, cast: Cast) -> list[tuple[str, int]]:
    """The operator's faucet on a local chain: the budget, every stake and the validators' bond funds."""
    grants = [(cast.requester.address, scenario.task.budget * TOKEN)]
    stakes = [g.stake for g in scenario.trainers for _ in range(g.count)]
    grants += [(account.address, stake * TOKEN) for account, stake in zip(cast.trainers, stakes)]
    stakes = [g.stake for g in scenario.validators for _ in range(g.count)]
    grants += [(account.address, (stake + BOND_FUNDS) * TOKEN) for account, stake in zip(cast.validators, stakes)]
    return grants


def check_scenario(scenario: Scenario) -> None:
    """What a federation cannot play yet, refused before anything starts."""
    if scenario.proof.pol:
        raise ConfigError("proof.pol", "proof-of-learning spot checks are not relayed between nodes yet: "
                          "fedstake up needs proof.pol = false")
    if scenario.edge is not None:
        raise ConfigError("edge", "fedstake up runs real processes, not the simulated edge: drop the [edge] section")
    if scenario.task.tasks > 1:
        raise ConfigError("task.tasks", "a federation plays one task; a sequence of tasks runs in fedstake simulate "
                          "and compare")
    if scenario.chain.backend != "rpc" and scenario.chain.rpc_url:
        raise ConfigError("chain.rpc-url", "set chain.backend = \"rpc\" with it, or pass --rpc-url")


Command = Callable[[str, list[str]], list[str]]


def bring_up(run_dir: Path, scenario_file: Path, scenario: Scenario, *, rpc_url: str | None,
             say: Callable[[str], None] = lambda _: None,
             participant: Command = lambda name, command: command) -> Federation:
    """Start every part on loopback and open the task; the caller plays it (`play`) and stops it.
    `participant(name, command)` is the command that starts participant `name` (default: the
    honest `fedstake trainer` / `fedstake validator` command it is given)."""
    check_scenario(scenario)
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(scenario_file, run_dir / "scenario.toml")
    anvil = None
    if rpc_url is None:
        chain_state(run_dir).parent.mkdir(exist_ok=True)
        anvil = launch_anvil(block_time=1, state=chain_state(run_dir))
        rpc_url = anvil.url
    elif rpc_problem(rpc_url, timeout=2.0) is not None:
        raise ConfigError("--rpc-url", f"no node answers at {rpc_url}: {rpc_problem(rpc_url, timeout=2.0)}")
    federation = Federation(run_dir, rpc_url, _anvil=anvil)
    try:
        if anvil is not None:
            federation.services.append(Service("chain", "anvil", anvil.pid, anvil.port, "", ""))
            federation.record()
        _open(federation, scenario, say, participant)
    except BaseException:
        federation.stop()
        raise
    return federation


def _open(federation: Federation, scenario: Scenario, say: Callable[[str], None], participant: Command) -> None:
    run_dir, rpc_url = federation.run_dir, federation.rpc_url
    cast = Cast.of(scenario)
    passphrase, keys = _write_keys(run_dir, cast)
    say(f"keys in {run_dir / 'keys'}; chain at {rpc_url}")
    with RpcBackend.over_http(rpc_url) as backend:
        contracts = operator.deploy(backend, cast.owner, scenario, insurance=cast.insurance.address, rpc_url=rpc_url)
        write_manifest(contracts, run_dir / CONTRACTS)
        operator.mint(attach(contracts, backend), cast.owner, _grants(scenario, cast))
    say("contracts deployed, participants funded")
    stakes = [g.stake for g in scenario.validators for _ in range(g.count)]
    for i, (account, stake) in enumerate(zip(cast.validators, stakes)):  # listed only once staked as validators
        _run_to_end(federation, "validator", f"validator-{i}-stake", _fedstake(
            "stake", "--manifest", str(run_dir / CONTRACTS), "--key", str(keys[f"validator-{i}"]), "--passphrase-file",
            str(passphrase), "--role", "validator", "--amount", str(stake)), address=account.address)
    requester = _fedstake("task", "create", "--config", str(run_dir / "scenario.toml"), "--contracts",
                          str(run_dir / CONTRACTS), "--key", str(keys["requester"]), "--passphrase-file",
                          str(passphrase), "--out", str(run_dir / MANIFEST))
    _run_to_end(federation, "requester", "task-create", requester, address=cast.requester.address)
    say(f"task opened: {run_dir / MANIFEST}")
    link = free_port()
    env = _flower_env(run_dir)
    write_connection(run_dir, f"127.0.0.1:{link}")
    federation.spawn("superlink", "superlink", [_bin("flower-superlink"), "--insecure",
                                                "--disable-runtime-dependency-installation", "--port", str(link)],
                     port=link, env=env)
    _wait_for_port(link)
    servers = []
    for role, accounts in (("trainer", cast.trainers), ("validator", cast.validators)):
        for i, account in enumerate(accounts):
            name = f"{role}-{i}"
            command = _fedstake(role, "--config", str(run_dir / "scenario.toml"), "--manifest", str(run_dir / MANIFEST),
                                "--index", str(i), "--dir", str(run_dir / "nodes" / name), "--key", str(keys[name]),
                                "--passphrase-file", str(passphrase), "--superlink", f"127.0.0.1:{link}")
            port = None
            if role == "validator":
                port = free_port()
                command += ["--serve-port", str(port)]
                servers.append(f"http://127.0.0.1:{port}")
            federation.spawn(role, name, participant(name, command), port=port, address=account.address, env=env)
    write_run_config(run_dir, rpc_url, servers)
    say(f"SuperLink on 127.0.0.1:{link}, {len(cast.trainers)} trainer and {len(cast.validators)} validator nodes")


def write_connection(run_dir: Path, superlink: str, root_certificates: Path | None = None) -> None:
    """The SuperLink connection `flwr run` uses (Flower reads connections from $FLWR_HOME/config.toml):
    TLS checked against `root_certificates`, or insecure on loopback without them."""
    (run_dir / "flwr").mkdir(exist_ok=True)
    security = "insecure = true" if root_certificates is None else \
        f"root-certificates = {json.dumps(str(root_certificates.absolute()))}"
    (run_dir / "flwr" / "config.toml").write_text(
        f'[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "{superlink}"\n{security}\n')


def write_run_config(run_dir: Path, rpc_url: str, servers: Sequence[str]) -> None:
    """The coordinator's run config (see `coordinator`): the task's files in `run_dir`."""
    (run_dir / "flwr" / "run-config.toml").write_text("".join(
        f"{k} = {json.dumps(v)}\n" for k, v in {"run-dir": str(run_dir), "scenario": str(run_dir / "scenario.toml"),
                                                "rpc-url": rpc_url, "servers": " ".join(servers)}.items()))


def relay(run_dir: Path, scenario_file: Path, manifest_file: Path, *, superlink: str, rpc_url: str,
          servers: Sequence[str], root_certificates: Path | None = None) -> Federation:
    """A coordinator's directory for a task run across machines (`fedstake coordinate`): the
    scenario, the task's manifest, the SuperLink connection and the run config; `play` runs it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for source, name in ((scenario_file, "scenario.toml"), (manifest_file, MANIFEST)):
        if source.absolute() != (run_dir / name).absolute():
            shutil.copyfile(source, run_dir / name)
    write_connection(run_dir, superlink, root_certificates)
    write_run_config(run_dir, rpc_url, servers)
    federation = Federation(run_dir, rpc_url)
    federation.logs.mkdir(exist_ok=True)
    return federation


def _run_to_end(federation: Federation, role: str, name: str, command: Sequence[str], *, address: str = "",
                timeout: float = 300.0) -> None:
    """A short-lived process (the requester's commands): started, listed, waited for, its failure reported."""
    service = federation.spawn(role, name, command, address=address)
    process = federation._processes[service.pid]
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop_groups([service.pid], federation._processes)
        raise FedstakeError(f"{name} did not finish within {timeout:g} s (log: {federation.run_dir / service.log})")
    if code != 0:
        tail = (federation.run_dir / service.log).read_text().strip().splitlines()[-3:]
        raise FedstakeError(f"{name} failed with exit code {code}: {' / '.join(tail)}")


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise FedstakeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def start_coordinator(federation: Federation) -> str:
    """`flwr run` the federation's app: the SuperLink starts the coordinator; returns the run id."""
    run_dir = federation.run_dir
    out = subprocess.run([_bin("flwr"), "run", str(APP), "local", "--run-config", str(run_dir / "flwr" / "run-config.toml"),
                          "--format", "json"], env={**os.environ, **_flower_env(run_dir)}, capture_output=True,
                         text=True, timeout=120)
    try:
        return str(json.loads(out.stdout[out.stdout.index("{"):])["run-id"])
    except (ValueError, KeyError):
        raise FedstakeError(f"flwr run failed: {out.stdout.strip()[-400:]} {out.stderr.strip()[-400:]}") from None


def run_status(federation: Federation, run_id: str) -> str:
    """The run's status as the SuperLink reports it (e.g. running, finished:completed, finished:failed)."""
    out = subprocess.run([_bin("flwr"), "ls", "local", "--run-id", run_id, "--format", "json"],
                         env={**os.environ, **_flower_env(federation.run_dir)}, capture_output=True, text=True,
                         timeout=60)
    try:
        runs = json.loads(out.stdout[out.stdout.index("{"):])["runs"]
        return str(runs[0]["status"])
    except (ValueError, KeyError, IndexError):
        return "unknown"


def save_run_log(federation: Federation, run_id: str, number: int) -> Path:
    """The coordinator's own output (Flower keeps it in the SuperLink) as logs/coordinator-N.log."""
    out = subprocess.run([_bin("flwr"), "log", run_id, "local", "--show"], env={**os.environ, **_flower_env(
        federation.run_dir)}, capture_output=True, text=True, timeout=60)
    path = federation.logs / f"coordinator-{number}.log"
    path.write_text(out.stdout + out.stderr)
    return path


def play(federation: Federation, rounds: int, *, on_round: Callable[[dict], None] = lambda _: None,
         poll_s: float = 2.0, restarts: int = 2) -> list[str]:
    """Start the coordinator and wait until it has played every round and the trainers claimed;
    report each round as the coordinator logs it. A coordinator whose run fails (killed, say) is
    started again, up to `restarts` times: it resumes at the chain's last final round. Returns
    the run ids."""
    log, seen = federation.run_dir / ROUNDS_LOG, 0
    runs = [start_coordinator(federation)]
    while True:
        rows = log.read_text().splitlines() if log.exists() else []
        for row in rows[seen:]:
            on_round(json.loads(row))
        seen = len(rows)
        dead = federation.exited() if not seen else []  # later, a fault may kill one and restart it
        if dead:
            raise FedstakeError(f"{dead[0].name} ended before the first round (its log: "
                                f"{federation.run_dir / dead[0].log}); {len(dead)} participant(s) down")
        status = run_status(federation, runs[-1])
        if status.startswith("finished"):
            save_run_log(federation, runs[-1], len(runs))
            if status.endswith("completed"):
                return runs
            if len(runs) > restarts:
                raise FedstakeError(f"the coordinator's run {runs[-1]} ended ({status}) after {seen} of {rounds} "
                                    f"rounds, {len(runs)} runs in all; its output: "
                                    f"{federation.logs / f'coordinator-{len(runs)}.log'}")
            runs.append(start_coordinator(federation))
        time.sleep(poll_s)


def read_ending(federation: Federation) -> int:
    """The requester ends the task (`fedstake task close`, its own key); returns the refund."""
    run_dir = federation.run_dir
    command = _fedstake("task", "close", "--manifest", str(run_dir / MANIFEST), "--key",
                        str(run_dir / "keys" / "requester.json"), "--passphrase-file",
                        str(run_dir / "keys" / "passphrase"), "--json")
    _run_to_end(federation, "requester", "task-close", command)
    log = (run_dir / federation.services[-1].log).read_text()
    return int(json.loads(log[log.rindex("{"):])["refund"])
