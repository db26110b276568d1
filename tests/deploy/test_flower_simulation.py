"""A real Flower simulation: fedstake's ServerApp and ClientApp, four nodes, three rounds, two attackers.

Node 0 flips the sign of its update (times 4), node 1 sends NaN. The
NaN update must be rejected by screening every round, and the median
must keep learning despite the sign-flipper. One run costs ~25-30 s
here, almost all of it Ray starting its actor and importing torch.
"""

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from eth_utils import keccak
from flwr.simulation import run_simulation

from fedstake.deploy.flower import make_client_app, make_server_app
from fedstake.deploy.flower.history import HISTORY_FILE, MODEL_FILE

ROUNDS, NODES = 3, 4


@pytest.fixture
def ray_temp_dir():
    """Ray's session files, removed afterwards; under /tmp because Ray's socket paths must stay short."""
    path = Path(tempfile.mkdtemp(prefix="fedstake-ray-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
    assert not path.exists()


@pytest.mark.slow
def test_median_learns_through_a_sign_flipper_while_screening_drops_nan(tmp_path, ray_temp_dir, record_property):
    config = {"task.partition": "iid", "task.rounds": ROUNDS, "task.local-epochs": 1, "task.aggregator": "median",
              "attack.sign-flip.partitions": "0", "attack.nan.partitions": "1",
              "flower.min-nodes": NODES, "flower.output-dir": str(tmp_path)}
    started = time.perf_counter()
    run_simulation(make_server_app(config), make_client_app(config), num_supernodes=NODES,
                   backend_config={"init_args": {"_temp_dir": str(ray_temp_dir)}})
    record_property("run_simulation_seconds", round(time.perf_counter() - started, 1))
    history = json.loads((tmp_path / HISTORY_FILE).read_text())

    accuracy = [history["evaluate-metrics-serverapp"][str(r)]["accuracy"] for r in range(ROUNDS + 1)]
    assert accuracy == sorted(accuracy) and accuracy[-1] > accuracy[0] + 0.4
    assert [r["round"] for r in history["rejections"]] == [1, 2, 3]
    assert len({r["node-id"] for r in history["rejections"]}) == 1
    assert all(r["reason"] == "1 NaN/Inf values" for r in history["rejections"])
    for metrics in history["train-metrics"].values():
        assert (metrics["screening.accepted"], metrics["screening.rejected"]) == (3, 1)
    assert history["aggregator"] == {"name": "median", "params": {}}
    assert history["model-hash"] == "0x" + keccak((tmp_path / MODEL_FILE).read_bytes()).hex()


def test_a_run_with_fewer_nodes_than_min_nodes_fails_after_node_wait_naming_the_fix(ray_temp_dir):
    from fedstake.errors import ConfigError

    config = {"task.rounds": 1, "flower.min-nodes": 4, "flower.node-wait": 1.0}
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"flower.min-nodes: 2 of the 4 nodes joined within 1 s .*"
                                          r"--federation-config num-supernodes=4"):
        run_simulation(make_server_app(config), make_client_app(config), num_supernodes=2,
                       backend_config={"init_args": {"_temp_dir": str(ray_temp_dir)}})
    assert time.perf_counter() - started < 120
