"""`fedstake coordinate`, the relay a coordinator runs by hand across machines: started against a
federation's SuperLink with the task's files, it relays the task to its end, every book in order."""

import subprocess
import sys
from pathlib import Path

import pytest

from federation_kit import check_books, federation

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))


def test_the_coordinate_command_relays_a_task_to_its_end(tmp_path):
    with federation(tmp_path) as (fed, scenario):
        servers = [f"http://127.0.0.1:{s.port}" for s in fed.services if s.role == "validator" and s.port]
        command = [FEDSTAKE, "coordinate", "--config", str(fed.run_dir / "scenario.toml"), "--manifest",
                   str(fed.run_dir / "manifest.json"), "--dir", str(fed.run_dir), "--superlink",
                   f"127.0.0.1:{fed.service('superlink').port}", *(x for url in servers for x in ("--server", url))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "round   3/3" in done.stdout and "3 rounds relayed in 1 coordinator run(s)" in done.stdout
        books = check_books(fed, scenario)
    assert [len(r.accepted) for r in books.results.rounds] == [4, 4, 4]
