"""Start-up imports only what the scenario needs: no privacy accounting, plotting, Flower,
web3 or scikit-learn (digits are read from its data file) for a plain embedded run; each
costs 0.5-1.5 s to import, more than a short run's rounds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fedstake

SRC = str(Path(fedstake.__file__).resolve().parents[1])
HEAVY = ("dp_accounting", "matplotlib", "flwr", "web3", "sklearn", "scipy")


def _loaded_after(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("module", ["fedstake.cli", "fedstake.sim.runner", "fedstake.sim.report",
                                    "fedstake.sim.compare_report", "fedstake.sim.publish"])
def test_importing_a_module_of_the_run_loads_none_of_the_heavy_optional_libraries(module):
    assert _loaded_after(f"import {module}") == []


def test_a_world_without_privacy_on_the_embedded_chain_loads_none_of_them():
    build = ("from fedstake.sim.config import load_scenario\nfrom fedstake.sim.world import build_world\n"
             "build_world(load_scenario(None, ['trainers.0.count=3', 'task.clients-per-round=2'])).backend.close()")
    assert _loaded_after(build) == []


def test_privacy_accounting_loads_dp_accounting_when_it_is_used():
    account = ("from fedstake.learn.privacy import PrivacyAccountant\n"
               "PrivacyAccountant(noise_multiplier=1.0, sampling_rate=0.1, delta=1e-5).record_round(received=1, "
               "expected=1)")
    assert "dp_accounting" in _loaded_after(account)
