"""The same scenario on a real node (anvil) gives the same bytes and the same gas,
and `fedstake verify-model` checks its model against that chain."""

import json
import shlex

import pytest
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from fedstake.chain.anvil import start_anvil
from fedstake.cli import app
from fedstake.sim.config import load_scenario
from fedstake.sim.runner import run_scenario

pytestmark = pytest.mark.anvil
SHORT = ["task.rounds=2", "task.local-epochs=1", "trainers.0.count=6", "task.clients-per-round=3"]


@pytest.fixture(scope="module")
def node():
    with start_anvil() as anvil:
        yield anvil


def test_a_scenario_on_anvil_matches_the_embedded_chain_byte_for_byte(node):
    on_node, _ = run_scenario(load_scenario(None, SHORT + ["chain.backend=rpc", f"chain.rpc-url={node.url}"]))
    embedded, _ = run_scenario(load_scenario(None, SHORT))
    assert [r.model_hash for r in on_node.rounds] == [r.model_hash for r in embedded.rounds]
    assert [r.rewards_root for r in on_node.rounds] == [r.rewards_root for r in embedded.rounds]
    assert on_node.final == embedded.final
    assert on_node.chain["gas"] == embedded.chain["gas"]


def test_verify_model_accepts_the_real_model_and_rejects_a_tampered_one(node, tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["simulate", "-o", str(out), "-q", *sum((["--set", s] for s in SHORT), []),
                                 "--set", "chain.backend=rpc", "--set", f"chain.rpc-url={node.url}"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    args = ["--task", str(data["chain"]["task_id"]), "--rpc-url", node.url,
            "--registry", data["chain"]["contracts"]["ModelRegistry"]]
    [printed] = [line.split("verify", 1)[1] for line in result.output.splitlines() if line.startswith("  verify ")]
    assert shlex.split(printed) == ["fedstake", "verify-model", "--model", str(out / "model.safetensors"),
                                    "--manifest", str(out / "manifest.json")]
    ok = runner.invoke(app, shlex.split(printed)[1:])  # the command the summary prints, as printed: the manifest alone
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output and "provenance of model NFT" in ok.output
    explicit = runner.invoke(app, ["verify-model", "--model", str(out / "model.safetensors"), *args])
    assert explicit.exit_code == 0, explicit.output
    tensors = load_file(out / "model.safetensors")
    tensors["fc2.bias"][0] += 1e-3
    save_file(tensors, tmp_path / "tampered.safetensors")
    bad = runner.invoke(app, ["verify-model", "--model", str(tmp_path / "tampered.safetensors"), *args])
    assert bad.exit_code == 1 and "does not match" in bad.output
    wrong_task = runner.invoke(app, ["verify-model", "--model", str(out / "model.safetensors"), *args[2:],
                                     "--task", "99"])
    assert wrong_task.exit_code == 1 and "has no model NFT" in wrong_task.output
    mixed = runner.invoke(app, ["verify-model", "--model", str(out / "model.safetensors"),
                                "--manifest", str(out / "manifest.json"), "--task", "1"])
    assert mixed.exit_code == 2 and "drop --task" in mixed.output


def test_a_run_directory_publishes_its_manifest_models_and_tables(node, tmp_path):
    """Every round's model under its hash and every settled table, checkable against the chain."""
    from fedstake.chain.manifest import attach, read_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.protocol.store import ArtifactStore

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["simulate", "-o", str(out), "-q", *sum((["--set", s] for s in SHORT), []),
                                      "--set", "chain.backend=rpc", "--set", f"chain.rpc-url={node.url}"])
    assert result.exit_code == 0, result.output
    data, manifest, store = json.loads((out / "results.json").read_text()), read_manifest(out / "manifest.json"), \
        ArtifactStore(out)
    with RpcBackend.over_http(node.url) as chain:
        market = attach(manifest, chain).market
        for number, row in enumerate(data["rounds"], 1):
            final = market.final_result(manifest.task_id, number)
            assert store.get_model(final.model_hash)  # re-hashed on read
            table = store.get_table(number, root=final.rewards_root)  # settle-every = 1: a table each round
            assert table.total == final.cumulative_total and "0x" + final.rewards_root.hex() == row["rewards_root"]
