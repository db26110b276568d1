"""`fedstake dashboard` refuses a bad combination of sources, naming the flag, with exit 2."""

import pytest
from typer.testing import CliRunner

from fedstake.cli import app


@pytest.mark.parametrize(("args", "words"), [
    ([], "give exactly one of --results DIR, --manifest FILE or --rpc-url URL --market ADDRESS"),
    (["--results", "r", "--manifest", "m.json"], "--results and --manifest: give exactly one"),
    (["--market", "0x0000000000000000000000000000000000000001"], "--rpc-url: missing; --market needs"),
    (["--results", "r", "--rpc-url", "http://127.0.0.1:1"], "--rpc-url: a results directory is read from disk"),
    (["--rpc-url", "http://127.0.0.1:1", "--market", "nope"], "--market: 'nope' is not an address"),
    (["--rpc-url", "http://127.0.0.1:1", "--market", "0x0000000000000000000000000000000000000001"],
     "--rpc-url: no node answers at http://127.0.0.1:1"),
    (["--manifest", "missing.json"], "--manifest: missing.json: cannot read the manifest"),
    (["--results", "r", "--from-block", "5"], "--from-block: only with --market"),
])
def test_a_bad_source_is_one_line_and_exit_2(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r").mkdir()
    result = CliRunner().invoke(app, ["dashboard", *args])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_a_results_directory_without_results_json_is_named(tmp_path):
    result = CliRunner().invoke(app, ["dashboard", "--results", str(tmp_path)])
    assert result.exit_code == 2 and f"--results: {tmp_path}/results.json: cannot read" in result.output
