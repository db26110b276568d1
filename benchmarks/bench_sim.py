"""Same federated work, three engines: Flower's simulation, a plain loop, fedstake's cohort.

Digits MLP, FedAvg, every client every round, one Dirichlet partition and
one set of hyperparameters; no chain. Each engine runs in its own
subprocess and is timed from the call that starts the simulation to its
return: imports are outside the clock, Flower's start-up (Ray, actors) is
inside. Every engine evaluates the global model on the test split after
each round; the accuracies must agree. A last pair of runs trains one
1,000-client round (MLP and CNN) to record peak memory.

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/bench_sim.py

The last line printed is one JSON object: per client count, each engine's
seconds, fedstake's speedups against Flower and the plain loop, the
largest per-round accuracy gap and whether the accuracies are identical;
then the 1,000-client memory figures.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

import torch

from fedstake.learn.aggregators import fedavg
from fedstake.learn.cohort import train_cohort
from fedstake.learn.data import load_dataset
from fedstake.learn.models import ParamSpec, build_model, initial_parameters
from fedstake.learn.partition import partition_dirichlet
from fedstake.learn.train import LocalTraining, evaluate, local_train

ROUNDS, SEED, ALPHA = 10, 0, 0.5
LOCAL = LocalTraining(epochs=2, batch_size=10, learning_rate=0.1)
CLIENT_COUNTS = (20, 100)
ACCURACY_TOLERANCE = 0.01  # 3-4 of the 360 test images
REPEATS = {"plain": 3, "fedstake": 3}  # sub-second runs on a shared machine: report the median; Flower runs once


def client_seed(round_: int, client: int) -> int:
    """The data-order seed of a client in a round: the same in every engine."""
    return 1_000 * round_ + client


@lru_cache(maxsize=4)
def federation(clients: int):
    """(module, spec, genesis, client datasets, test set): built once per process."""
    data = load_dataset("digits", seed=SEED)
    parts = partition_dirichlet(data.y_train.numpy(), clients, alpha=ALPHA, seed=SEED)
    module = build_model("mlp", data.num_features, data.num_classes)
    spec = ParamSpec.of(module)
    datasets = [(data.x_train[p], data.y_train[p]) for p in map(torch.from_numpy, parts)]
    return module, spec, initial_parameters(module, seed=SEED), datasets, (data.x_test, data.y_test)


def accuracy(clients: int, params: torch.Tensor) -> float:
    module, spec, _, _, (x, y) = federation(clients)
    return evaluate(module, spec, params, x, y)[0]


# --- engines 1 and 2: the plain loop and fedstake's cohort --------------------------------------

def run_loop(clients: int, train_round) -> list[float]:
    """FedAvg rounds where `train_round(global, round)` returns the clients' new parameters."""
    _, _, params, datasets, _ = federation(clients)
    weights = torch.tensor([float(len(y)) for _, y in datasets])
    accuracies = []
    for round_ in range(1, ROUNDS + 1):
        params = params + fedavg(train_round(params, round_) - params, weights)
        accuracies.append(accuracy(clients, params))
    return accuracies


def run_plain(clients: int) -> list[float]:
    module, spec, _, datasets, _ = federation(clients)
    return run_loop(clients, lambda params, r: torch.stack([
        local_train(module, spec, params, x, y, LOCAL, seed=client_seed(r, c)) for c, (x, y) in enumerate(datasets)]))


def run_fedstake(clients: int) -> list[float]:
    module, spec, _, datasets, _ = federation(clients)
    seeds = range(len(datasets))
    return run_loop(clients, lambda params, r: train_cohort(
        module, spec, params, datasets, LOCAL, seeds=[client_seed(r, c) for c in seeds]))


# --- engine 3: Flower 1.41's message API, run by flwr.simulation.run_simulation ------------------

_FLOWER_STATE: dict = {}  # the ServerApp runs in a thread of this process: it reports here


def flower_apps():
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg

    client_app, server_app = ClientApp(), ServerApp()

    @client_app.train()
    def train(msg: Message, context: Context) -> Message:
        client, clients = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
        module, spec, _, datasets, _ = federation(clients)
        x, y = datasets[client]
        params = spec.flatten(msg.content["arrays"].to_torch_state_dict())
        round_ = int(msg.content["config"]["server-round"])
        new = local_train(module, spec, params, x, y, LOCAL, seed=client_seed(round_, client))
        content = RecordDict({"arrays": ArrayRecord(torch_state_dict=spec.unflatten(new)),
                              "metrics": MetricRecord({"num-examples": len(y)})})
        return Message(content=content, reply_to=msg)

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        clients = _FLOWER_STATE["clients"]
        _, spec, genesis, _, _ = federation(clients)

        def central(round_: int, arrays: ArrayRecord) -> MetricRecord:
            if round_ > 0:
                _FLOWER_STATE["accuracies"].append(accuracy(clients, spec.flatten(arrays.to_torch_state_dict())))
            return MetricRecord({})

        strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=clients,
                          min_available_nodes=clients)
        strategy.start(grid=grid, initial_arrays=ArrayRecord(torch_state_dict=spec.unflatten(genesis)),
                       num_rounds=ROUNDS, evaluate_fn=central)

    return client_app, server_app


def run_flower(clients: int) -> list[float]:
    from flwr.simulation import run_simulation

    client_app, server_app = flower_apps()
    _FLOWER_STATE.update(clients=clients, accuracies=[])
    ray_dir = os.path.join(os.environ["FLWR_HOME"], "ray")  # Ray's sessions go with the temporary FLWR_HOME
    run_simulation(server_app=server_app, client_app=client_app, num_supernodes=clients,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                   "init_args": {"_temp_dir": ray_dir}})
    return _FLOWER_STATE["accuracies"]


# --- the 1,000-client memory round -------------------------------------------------------------

def run_thousand(model: str) -> list[float]:
    """One cohort round of 1,000 clients with 20-200 samples each, drawn from digits' train split."""
    data = load_dataset("digits", seed=SEED)
    generator = torch.Generator().manual_seed(SEED)
    sizes = torch.randint(20, 201, (1_000,), generator=generator).tolist()
    picks = [torch.randint(len(data.y_train), (n,), generator=generator) for n in sizes]
    module = build_model(model, data.num_features, data.num_classes)
    spec, params = ParamSpec.of(module), initial_parameters(module, seed=SEED)
    datasets = [(data.x_train[p], data.y_train[p]) for p in picks]
    new = train_cohort(module, spec, params, datasets, LocalTraining(1, 32, 0.05), seeds=range(1_000))
    assert new.shape == (1_000, spec.size) and bool(new.isfinite().all())
    return []  # one round from scratch: its accuracy says nothing


RUNNERS = {"flower": run_flower, "plain": run_plain, "fedstake": run_fedstake,
           "thousand-mlp": lambda _: run_thousand("mlp"), "thousand-cnn": lambda _: run_thousand("cnn")}


# --- measuring, in the child process -----------------------------------------------------------

def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants (Ray's processes included), from /proc."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            rss[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier and p not in tree]
        tree.update(children)
        frontier = children
    return sum(rss.get(p, 0) for p in tree) / 2**20


def child(runner: str, clients: int) -> None:
    """Run one engine and print {seconds, accuracies, peak_rss_mb} as the last line."""
    import torch._dynamo  # noqa: F401  torch.func imports it on first use (~1.5-2.5 s): an import, so untimed

    federation(clients)
    peak, done = [0.0], threading.Event()

    def sample() -> None:  # only Flower has processes of its own; the sampler costs the driver a little
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_rss_mb(os.getpid()))

    if runner == "flower":
        threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    accuracies = RUNNERS[runner](clients)
    seconds = time.perf_counter() - start
    done.set()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "accuracies": accuracies, "peak_rss_mb": max(own, peak[0])}))


# --- the parent: spawn, collect, compare, report -----------------------------------------------

def spawn(runner: str, clients: int, home: str) -> dict:
    env = dict(os.environ, FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1", FLWR_HOME=home)
    env.setdefault("OMP_NUM_THREADS", "1")  # one intra-op thread, like each Ray actor; see README
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, __file__, "--child", runner, str(clients)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{runner} with {clients} clients failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(runner: str, clients: int, home: str) -> dict:
    """The run with the median time of REPEATS[runner] fresh subprocesses; `all_seconds` keeps them all."""
    runs = sorted((spawn(runner, clients, home) for _ in range(REPEATS.get(runner, 1))), key=lambda r: r["seconds"])
    return dict(runs[len(runs) // 2], all_seconds=[r["seconds"] for r in runs])


def compare(clients: int, home: str) -> tuple[dict, float]:
    """The three engines on one federation, and the largest per-round accuracy gap to the plain loop."""
    runs = {name: measure(name, clients, home) for name in ("flower", "plain", "fedstake")}
    reference = runs["plain"]["accuracies"]
    return runs, max(abs(a - b) for run in runs.values() for a, b in zip(run["accuracies"], reference))


def report(summary: dict, thousand: dict) -> None:
    print(f"{'run':30} {'seconds':>8} {'(all runs)':>24} {'peak RSS MB':>12} {'final acc':>10}")
    named = [(f"{name} x{clients}", run) for clients, (runs, _) in summary.items() for name, run in runs.items()]
    named += [(f"fedstake 1 round x1000 {model}", run) for model, run in thousand.items()]
    for name, run in named:
        spread = " ".join(f"{s:.2f}" for s in run["all_seconds"])
        final = f"{run['accuracies'][-1]:.4f}" if run["accuracies"] else "-"
        print(f"{name:30} {run['seconds']:8.3f} {spread:>24} {run['peak_rss_mb']:12.0f} {final:>10}")
    for clients, (_, gap) in summary.items():
        verdict = "agree" if gap <= ACCURACY_TOLERANCE else "DISAGREE"
        print(f"{clients} clients: per-round accuracies {verdict}, max gap {gap:.4f} (tolerance {ACCURACY_TOLERANCE})")
    line = {}
    for clients, (runs, gap) in summary.items():
        flower, plain, ours = (runs[n]["seconds"] for n in ("flower", "plain", "fedstake"))
        line.update({f"flower_s_{clients}": round(flower, 3), f"plain_s_{clients}": round(plain, 3),
                     f"fedstake_s_{clients}": round(ours, 3),
                     f"speedup_vs_flower_{clients}": round(flower / ours, 1),
                     f"speedup_vs_plain_{clients}": round(plain / ours, 2),
                     f"accuracy_max_gap_{clients}": round(gap, 4),
                     f"accuracies_identical_{clients}": all(run["accuracies"] == runs["plain"]["accuracies"]
                                                            for run in runs.values())})
    line.update({"peak_rss_mb": round(summary[100][0]["fedstake"]["peak_rss_mb"]),
                 "peak_rss_mb_1000_mlp": round(thousand["mlp"]["peak_rss_mb"]),
                 "peak_rss_mb_1000_cnn": round(thousand["cnn"]["peak_rss_mb"])})
    print(json.dumps(line))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flwr-home-") as home:
        summary = {clients: compare(clients, home) for clients in CLIENT_COUNTS}
        thousand = {model: measure(f"thousand-{model}", 1_000, home) for model in ("mlp", "cnn")}
    report(summary, thousand)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        import bench_sim  # the apps must live in an importable module so Ray's workers can unpickle them

        bench_sim.child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
