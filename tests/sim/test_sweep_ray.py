"""The same sweep as Ray tasks on a local Ray instance gives the serial files, byte for byte,
and leaves no Ray process (raylet, GCS, workers) behind; an address no cluster answers at is
refused at once."""

import os
from pathlib import Path

import pytest
from polling import wait_for
from sweep_kit import AXES, BASE, files, sweep

from fedstake.deploy.federation.launcher import descendants
from fedstake.errors import ConfigError
from fedstake.sim.outdir import OutputDir
from fedstake.sim.sweep import make_grid, run_sweep
from fedstake.sim.sweep_files import finished_rows, write_sweep
from fedstake.sim.sweep_ray import check_ray_address


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_sweep_on_a_local_ray_instance_writes_the_serial_files_and_leaves_no_ray_process(tmp_path):
    grid = make_grid(None, BASE, AXES)
    sweep(tmp_path / "serial", grid)
    outdir = OutputDir.claim(tmp_path / "ray", command="sweep")
    seen: set[int] = set()
    earlier = set(descendants(os.getpid()))  # what an earlier test in this worker left (Flower's own Ray)

    def on_done(rows):
        seen.update(set(descendants(os.getpid())) - earlier)
        write_sweep(rows, grid, outdir, "final_accuracy")

    assert finished_rows(outdir, grid, force=False) == {}
    run_sweep(grid, jobs=2, ray="auto", on_done=on_done)
    assert seen  # raylet, gcs_server, workers
    # ray.shutdown() signals them; on a loaded machine the last may take a moment to go
    wait_for(lambda: not [pid for pid in seen if _alive(pid)], 30, f"Ray's processes {sorted(seen)} to exit")
    assert files(tmp_path / "ray") == files(tmp_path / "serial")


def test_an_address_no_cluster_answers_at_is_refused_in_a_moment():
    with pytest.raises(ConfigError, match="--ray: no Ray cluster answers at 127.0.0.1:9"):
        check_ray_address("127.0.0.1:9")
    with pytest.raises(ConfigError, match="is not HOST:PORT"):
        check_ray_address("cluster")
