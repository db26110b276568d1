"""A sweep's cells as tasks on a Ray cluster (`--ray ADDRESS`) or on a local Ray instance
started for the sweep (`--ray auto`, `jobs` CPUs, no dashboard), shut down on the way out
even on Ctrl-C, so no raylet or GCS process outlives the sweep. Every node of a cluster
needs this same fedstake installed; cells travel as checked scenarios, not file paths.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from typing import Any, Iterator

from fedstake.errors import ConfigError
from fedstake.sim.sweep import run_cell


def check_ray_address(address: str) -> None:
    """Refuse an address no cluster answers at, in a second (ray.init would retry for minutes)."""
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError("--ray", f"{address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        raise ConfigError("--ray", f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
                          "`ray start --head`, or pass --ray auto for a local instance") from None


@contextmanager
def ray_results(cells: list[tuple], *, jobs: int, address: str) -> Iterator[Iterator[tuple[int, dict[str, Any]]]]:
    """(cell index, row) as tasks finish; pending tasks are cancelled on an interrupt."""
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # silences a FutureWarning on CPU hosts
    import ray

    local = address == "auto"
    ray.init(address="local" if local else address, num_cpus=jobs if local else None, include_dashboard=False,
             log_to_driver=False, logging_level=logging.ERROR)
    pending: dict[Any, int] = {}
    try:
        task = ray.remote(num_cpus=1)(run_cell)
        pending = {task.remote(cell): cell[0] for cell in cells}
        yield _as_finished(ray, pending)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()


def _as_finished(ray: Any, pending: dict[Any, int]) -> Iterator[tuple[int, dict[str, Any]]]:
    while pending:
        [ready], _ = ray.wait(list(pending), num_returns=1)
        del pending[ready]
        yield ray.get(ready)
