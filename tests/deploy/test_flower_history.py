"""`flower.output-dir` is a fedstake results directory: claimed before the first round, a user's files never replaced."""

import pytest

from fedstake.deploy.flower.config import read_run_config
from fedstake.deploy.flower.history import HISTORY_FILE, MODEL_FILE, claim_output
from fedstake.deploy.flower.server_app import run_server
from fedstake.errors import ConfigError


class UntouchableGrid:
    """A Grid that fails the test if the server asks it anything: the output is refused before."""

    def __getattr__(self, name):
        raise AssertionError(f"the server used the grid ({name}) before refusing its output directory")


def test_a_folder_with_a_users_files_is_refused_before_any_node_is_waited_for(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    settings = read_run_config({"task.rounds": 1, "flower.output-dir": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"flower.output-dir: .* holds files fedstake did not write \(notes.txt\)"):
        run_server(UntouchableGrid(), settings)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_is_refused_naming_the_key(tmp_path):
    (tmp_path / "results").write_text("mine")
    with pytest.raises(ConfigError, match=r"flower.output-dir: .* is a file; flower.output-dir names a directory"):
        claim_output(str(tmp_path / "results"))


def test_its_own_previous_results_are_replaced_whole(tmp_path):
    def results(model: bytes):
        return lambda staging: [(staging / MODEL_FILE).write_bytes(model), (staging / HISTORY_FILE).write_text("{}")]

    claim_output(str(tmp_path / "results")).publish(results(b"first"))
    claim_output(str(tmp_path / "results")).publish(results(b"second"))  # no force needed: fedstake's own files
    assert (tmp_path / "results" / MODEL_FILE).read_bytes() == b"second"
