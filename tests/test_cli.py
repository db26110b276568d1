import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_utils import keccak
from typer.testing import CliRunner

from fedstake.cli import app

runner = CliRunner()


def test_bad_key_exits_non_zero_naming_it_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--set", "task.rounds=-2"])
    assert result.exit_code == 2
    assert "task.rounds" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_key_in_a_file_exits_non_zero(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[task]\nroundz = 3\n")
    result = runner.invoke(app, ["simulate", "--config", str(config), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "task.roundz: unknown key" in result.output


def test_a_small_run_writes_results_plots_report_and_model(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--set", "task.rounds=2", "--set",
                                 "task.local-epochs=1", "--set", "trainers.0.count=4", "--set",
                                 "task.clients-per-round=2"])
    assert result.exit_code == 0, result.output
    assert "round   2/2" in result.output and "final accuracy" in result.output
    data = json.loads((out / "results.json").read_text())
    assert {"fedstake_version", "scenario", "chain", "rounds", "participants", "final"} <= set(data)
    assert data["scenario"]["task"]["rounds"] == 2
    for name in ("rounds.csv", "participants.csv", "accuracy.png", "rewards.png", "report.html", "model.safetensors"):
        assert (out / name).stat().st_size > 0, name
    model_hash = "0x" + keccak((out / "model.safetensors").read_bytes()).hex()
    assert model_hash == data["final"]["model_hash"] == data["rounds"][-1]["model_hash"]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip()


def test_gas_prints_one_json_object_with_both_claims():
    result = runner.invoke(app, ["gas", "--cohort", "16", "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.output.strip().splitlines()[-1])
    assert {"claim_first", "claim_again", "propose_round", "attest_round", "finalize_round", "challenge_update",
            "challenge_result", "vote", "close_task"} <= set(table)
    assert table["claim_first"] <= 110_000 and table["claim_again"] <= 70_000


def test_gas_rejects_an_unknown_backend():
    result = runner.invoke(app, ["gas", "--backend", "solana"])
    assert result.exit_code == 2 and "--backend" in result.output


def test_verify_model_refuses_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"not a model")
    result = runner.invoke(app, ["verify-model", "--model", str(bogus), "--task", "1", "--rpc-url",
                                 "http://127.0.0.1:9", "--registry", "0x" + "11" * 20])
    assert result.exit_code == 2 and "not a safetensors model file" in result.output


# --- an --out that holds a user's files ------------------------------------------------------------------------

TINY = ["--set", "task.rounds=2", "--set", "task.local-epochs=1", "--set", "trainers.0.count=4", "--set",
        "task.clients-per-round=2", "-q"]


def _snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() if p.is_file() else None for p in sorted(directory.rglob("*"))}


def test_a_users_files_in_out_survive_and_force_keeps_them_too(tmp_path):
    out = tmp_path / "run"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "sub" / "data.csv").write_text("1,2")
    scenario = out / "scenario.toml"
    scenario.write_text("[task]\nrounds = 2\n")
    before = _snapshot(out)
    refused = runner.invoke(app, ["simulate", "-c", str(scenario), "-o", str(out), *TINY])
    assert refused.exit_code == 2 and "--force" in refused.output and "notes.txt" in refused.output
    assert _snapshot(out) == before
    for _ in range(2):  # and a rerun over fedstake's own files
        forced = runner.invoke(app, ["simulate", "-c", str(scenario), "-o", str(out), "--force", *TINY])
        assert forced.exit_code == 0, forced.output
    after = _snapshot(out)
    assert all(after[name] == content for name, content in before.items())
    assert (out / "results.json").exists() and (out / "model.safetensors").exists()


@pytest.mark.parametrize("command", [
    ["simulate", *TINY],
    ["sweep", "--vary", "task.aggregator=fedavg,median", *TINY[:-1]],
    ["compare", "-c", "examples/mechanisms.toml", "--mechanisms", "per-round"],
])
def test_every_command_that_writes_a_directory_refuses_a_file_and_a_users_folder(tmp_path, command):
    mine = tmp_path / "results.txt"
    mine.write_text("mine")
    at_file = runner.invoke(app, [*command, "-o", str(mine)])
    assert at_file.exit_code == 2 and "--out:" in at_file.output and "is a file" in at_file.output
    at_folder = runner.invoke(app, [*command, "-o", str(tmp_path)])
    assert at_folder.exit_code == 2 and "--force" in at_folder.output
    assert mine.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["results.txt"]


def test_force_refuses_a_users_file_where_simulate_would_write_before_any_round(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.html").write_text("mine")
    result = runner.invoke(app, ["simulate", "-o", str(out), "--force", *TINY])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0, result.output  # one line
    assert f"error: --out: {out / 'report.html'} is not fedstake's" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.html"] and (out / "report.html").read_text() == "mine"


def test_the_names_simulate_declares_are_the_names_it_writes(tmp_path):
    from fedstake.sim.outdir import MARKER
    from fedstake.sim.publish import ARTIFACT_NAMES
    from fedstake.sim.report import REPORT_FILES
    from fedstake.sim.results import RUN_FILES

    result = runner.invoke(app, ["simulate", "-o", str(tmp_path / "run"), *TINY])
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "run").iterdir()} - {MARKER}
    assert written == {name.rstrip("/") for name in (*RUN_FILES, *REPORT_FILES, *ARTIFACT_NAMES)}


def test_a_reverse_auction_run_also_publishes_the_asks_it_declares(tmp_path):
    from fedstake.protocol.store import ArtifactStore
    from fedstake.sim.outdir import MARKER

    auction = ["--set", "task.pricing=reverse-auction", "--set", "edge.deadline=300"]
    result = runner.invoke(app, ["simulate", "-o", str(tmp_path / "run"), *TINY, *auction])
    assert result.exit_code == 0, result.output
    assert "asks" in {p.name for p in (tmp_path / "run").iterdir()} - {MARKER}
    store, rounds = ArtifactStore(tmp_path / "run"), json.loads((tmp_path / "run" / "results.json").read_text())["rounds"]
    for row in rounds:
        bidders = [a.trainer for a in store.get_asks(row["round"])]
        assert len(bidders) == 4 and set(row["selected"]) <= set(bidders)


@pytest.mark.parametrize("where", ["/proc/fedstake-run", "x" * 300])
def test_an_out_the_os_refuses_fails_at_the_claim_in_one_line(tmp_path, where):
    result = runner.invoke(app, ["simulate", "-o", str(tmp_path / where), *TINY])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0, result.output
    assert result.output.startswith("error: --out: cannot write ") and "Traceback" not in result.output


def test_an_oserror_while_publishing_is_one_line_naming_the_file_and_nothing_is_left(tmp_path, monkeypatch):
    import errno

    import fedstake.sim.report

    def broken(results, world, staging):
        raise OSError(errno.ENAMETOOLONG, "File name too long", str(staging / "report.html"))

    monkeypatch.setattr(fedstake.sim.report, "write_report", broken)
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "-o", str(out), *TINY])
    assert result.exit_code == 1 and result.output.strip().endswith(
        f"error: cannot write {out / 'report.html'}: File name too long"), result.output
    assert "Traceback" not in result.output and list(tmp_path.iterdir()) == []


def test_no_command_group_prints_the_locals_of_a_traceback():
    from fedstake.cli import account_app, task_app

    assert not any(group.pretty_exceptions_show_locals for group in (app, account_app, task_app))


def test_an_error_is_printed_as_it_is_square_brackets_and_all(tmp_path):
    bogus = tmp_path / "model[task].safetensors"
    bogus.write_bytes(b"not a model")
    result = runner.invoke(app, ["verify-model", "--model", str(bogus), "--task", "1", "--rpc-url",
                                 "http://127.0.0.1:9", "--registry", "0x" + "11" * 20])
    assert result.exit_code == 2 and f"error: --model: {bogus} is not a safetensors model file" in result.output


# --- late errors fail before any training ----------------------------------------------------------------------

def _refused_early(args, key, tmp_path):
    out = tmp_path / "never"
    result = runner.invoke(app, [*args, "-o", str(out)] if "-o" not in args else args)
    assert result.exit_code == 2, result.output
    assert f"error: {key}" in result.output and "Traceback" not in result.output
    assert not any(line.startswith("round ") for line in result.output.splitlines())  # no round ran
    assert not out.exists()  # nothing written
    return result.output


def test_a_wrong_sweep_metric_fails_before_any_run(tmp_path):
    output = _refused_early(["sweep", "--vary", "task.aggregator=fedavg,median", "--metric", "accuracy"], "--metric",
                            tmp_path)
    assert "final_accuracy, best_accuracy, rejected" in output


def test_a_krum_that_cannot_aggregate_the_cohort_fails_before_any_round(tmp_path):
    output = _refused_early(["simulate", "--set", "task.aggregator=krum", "--set", "aggregator.assumed-malicious=9"],
                            "task.aggregator", tmp_path)
    assert "aggregator.assumed-malicious = 9) needs at least 21 trainers per round" in output
    assert "task.clients-per-round is 10" in output


def test_an_aggregator_against_the_devices_an_edge_model_leaves_online(tmp_path):
    output = _refused_early(["simulate", "-c", "examples/edge-5g.toml", "--set", "task.aggregator=bulyan",
                             "--set", "aggregator.assumed-malicious=23"], "task.aggregator", tmp_path)
    assert "only about 91 of the 100 selected devices are online" in output


def test_a_config_that_is_a_directory_is_named(tmp_path):
    assert "is a directory" in _refused_early(["simulate", "-c", "examples"], "--config", tmp_path)


def test_flags_that_need_another_flag(tmp_path):
    _refused_early(["simulate", "--set", "chain.rpc-url=http://127.0.0.1:8545"], "chain.rpc-url", tmp_path)
    _refused_early(["simulate", "--set", "costs.participation=rational"], "costs.participation", tmp_path)
    gas = runner.invoke(app, ["gas", "--rpc-url", "http://127.0.0.1:8545"])
    assert gas.exit_code == 2 and "error: --rpc-url: only means something with --backend rpc" in gas.output


def test_an_unreachable_node_fails_at_once_with_a_hint_to_start_one(tmp_path):
    from fedstake.chain.anvil import free_port

    port = free_port()
    started = time.perf_counter()
    output = _refused_early(["simulate", "--set", "chain.backend=rpc", "--set", f"chain.rpc-url=http://127.0.0.1:{port}"],
                            "chain.rpc-url", tmp_path)
    assert time.perf_counter() - started < 8  # web3 alone retried for ~11 s
    assert f"no node answers at http://127.0.0.1:{port}" in output and f"fedstake node --port {port}" in output
    gas = runner.invoke(app, ["gas", "--backend", "rpc", "--rpc-url", f"http://127.0.0.1:{port}"])
    assert gas.exit_code == 2 and "error: --rpc-url: no node answers" in gas.output


def test_help_takes_h_and_a_typo_gets_one_suggestion():
    assert runner.invoke(app, ["-h"]).exit_code == 0 and "simulate" in runner.invoke(app, ["-h"]).output
    assert runner.invoke(app, ["simulate", "-h"]).exit_code == 0
    typo = runner.invoke(app, ["simulat"])
    assert typo.exit_code == 2 and typo.output.count("Did you mean 'simulate'?") == 1


# --- a round that cannot aggregate at run time ----------------------------------------------------------------

def test_a_round_the_rule_cannot_aggregate_keeps_the_model_pays_nothing_and_says_why(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "-o", str(out), "--set", "task.rounds=2", "--set", "task.local-epochs=1",
                                 "--set", "task.aggregator=krum", "--set", "aggregator.assumed-malicious=1",
                                     "--set", "task.clients-per-round=6",
                                 "--set", "trainers.0.count=4", "--set", "trainers=[{count=4},{count=2,behaviour='nan'}]"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert all(r["held"] == "krum needs at least 5 updates and 4 were accepted" for r in data["rounds"])
    assert data["final"]["paid"] == 0 and data["final"]["refunded"] == data["final"]["budget"]
    assert {r["model_hash"] for r in data["rounds"]} == {data["final"]["model_hash"]}
    assert "kept the model, paid nothing: krum needs at least 5 updates" in result.output
    assert "rounds 1, 2 kept the previous model and paid nothing" in result.output


# --- the console says what happened ----------------------------------------------------------------------------

def test_the_dishonest_validator_summary_names_the_disputes_and_the_slash(tmp_path):
    result = runner.invoke(app, ["simulate", "-c", "examples/dishonest-validator.toml", "-o", str(tmp_path / "run"),
                                 "--set", "task.rounds=2", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    disputes = [line for line in lines if line.startswith("  dispute ")]
    assert len(disputes) == 2
    assert "result dispute by validator 0x" in disputes[0] and "against validator (self-pay) 0x" in disputes[0]
    assert "upheld (3 of 4 votes to uphold), 500 tokens slashed" in disputes[0]
    assert "by validator (self-pay)" in disputes[1] and "dismissed (0 of 3 votes to uphold)" in disputes[1]
    assert any(line.startswith("  slashed    validator (self-pay) 0x") and "lost 500 tokens of the 1,000 tokens"
               in line for line in lines)
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    contracts = next(line for line in lines if line.startswith("  contracts "))
    assert all(f"{name} {address}" in contracts for name, address in data["chain"]["contracts"].items())
    assert f"  task       {data['chain']['task_id']} on the embedded chain" in result.output


def test_the_edge_summary_names_stragglers_and_offline_devices_and_pipes_are_not_wrapped(tmp_path):
    result = runner.invoke(app, ["simulate", "-c", "examples/edge-5g.toml", "-o", str(tmp_path / "run"),
                                 "--set", "task.rounds=2"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    rounds = [line for line in result.output.splitlines() if line.startswith("round ")]
    for line, row in zip(rounds, data["rounds"], strict=True):
        assert f"offline {row['edge']['offline']}  declined 0  late {len(row['edge']['stragglers'])}" in line
    [edge] = [line for line in result.output.splitlines() if line.startswith("  edge ")]
    offline = sum(r["edge"]["offline"] for r in data["rounds"])
    late = sum(len(r["edge"]["stragglers"]) for r in data["rounds"])
    assert edge.startswith("  edge       of the 100 selected devices: offline ")
    assert f"({offline} in all)" in edge and "stragglers " in edge and f"({late} in all)" in edge
    assert "missed the 300 s deadline" in edge and "payout latency p50" in edge
    final = next(line for line in result.output.splitlines() if line.startswith("final accuracy"))
    assert len(final) > 80 and "refunded" in final and final.endswith(" s)")  # one line, not wrapped at 80


# --- keys -------------------------------------------------------------------------------------------------------

def test_account_new_writes_a_private_keystore_once_and_show_reads_it_back(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDSTAKE_PASSPHRASE", "correct horse")
    key = tmp_path / "trainer.json"
    made = runner.invoke(app, ["account", "new", "--out", str(key), "--passphrase-env", "FEDSTAKE_PASSPHRASE"])
    assert made.exit_code == 0, made.output
    address = made.output.strip()
    assert address.startswith("0x") and len(address) == 42 and (key.stat().st_mode & 0o777) == 0o600
    again = runner.invoke(app, ["account", "new", "--out", str(key), "--passphrase-env", "FEDSTAKE_PASSPHRASE"])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    (tmp_path / "pass").write_text("correct horse\n")
    shown = runner.invoke(app, ["account", "show", str(key), "--passphrase-file", str(tmp_path / "pass")])
    assert shown.exit_code == 0 and shown.output.strip() == address
    monkeypatch.setenv("FEDSTAKE_PASSPHRASE", "wrong")
    wrong = runner.invoke(app, ["account", "show", str(key), "--passphrase-env", "FEDSTAKE_PASSPHRASE"])
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output
    neither = runner.invoke(app, ["account", "new", "--out", str(tmp_path / "other.json")])
    assert neither.exit_code == 2 and "give exactly one" in neither.output and not (tmp_path / "other.json").exists()


def test_verify_model_needs_a_manifest_or_all_three_flags(tmp_path):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"")
    missing = runner.invoke(app, ["verify-model", "--model", str(model), "--task", "1"])
    assert missing.exit_code == 2 and "--rpc-url, --registry: missing" in missing.output
    (tmp_path / "manifest.json").write_text("{}")
    broken = runner.invoke(app, ["verify-model", "--model", str(model), "--manifest", str(tmp_path / "manifest.json")])
    assert broken.exit_code == 2 and "--manifest:" in broken.output


# --- what a finished run prints ---------------------------------------------------------------------------------

FEDSTAKE = str(Path(sys.executable).with_name("fedstake"))


def test_a_finished_sweep_prints_its_table_first_and_no_traceback_or_leak_warning(tmp_path):
    done = subprocess.run([FEDSTAKE, "sweep", "-o", str(tmp_path / "sweep"), "--jobs", "2", "--vary",
                           "task.seed=1,2", *TINY[:-1], "--set", "task.rounds=1"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "leaked" not in done.stderr, done.stderr[-3000:]
    assert done.stdout.startswith("| task.seed | final_accuracy |"), done.stdout


def test_progress_off_a_terminal_prints_nothing_not_even_a_blank_line():
    from rich.console import Console

    from fedstake.cli import _progress

    buffer = io.StringIO()
    with _progress(Console(file=buffer, soft_wrap=True), "runs") as progress:
        progress.advance(progress.add_task("runs", total=1))
    assert buffer.getvalue() == ""


def _commands(group, prefix=""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_commands_help_is_whole_sentences_that_the_listing_does_not_cut():
    import inspect

    import typer

    for name, command in _commands(typer.main.get_command(app)):
        paragraphs = inspect.cleandoc(command.help or "").split("\n\n")
        assert paragraphs[0].endswith("."), name
        assert all("\n" not in paragraph for paragraph in paragraphs), f"{name}: -h keeps a line break mid-sentence"
