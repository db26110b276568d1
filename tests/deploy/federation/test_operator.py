"""A deployment assembled by hand, as the README's across-machines setup does it: the operator
deploys and mints with its own key, validators stake with keys of their own (not derived from
the scenario's seed), and the requester lists those validators by address."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedstake.chain.anvil import start_anvil
from fedstake.chain.keystore import create_keystore
from fedstake.chain.manifest import attach, read_manifest
from fedstake.chain.rpc import RpcBackend
from fedstake.cli import app

pytestmark = pytest.mark.anvil
EXAMPLE = Path(__file__).parents[3] / "examples" / "deploy-local.toml"
runner = CliRunner()


def _ok(*args: str):
    done = runner.invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def test_an_operator_deploys_and_mints_and_a_requester_lists_validators_with_their_own_keys(tmp_path):
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse\n")
    keys = {name: tmp_path / f"{name}.json" for name in ("operator", "requester", *(f"v{i}" for i in range(4)))}
    accounts = {name: create_keystore(path, "correct horse", work_factor=2**4) for name, path in keys.items()}
    unlock = ("--passphrase-file", str(secret))
    contracts = tmp_path / "contracts.json"
    with start_anvil() as node:
        printed = _ok("deploy", "--config", str(EXAMPLE), "--rpc-url", node.url, "--key", str(keys["operator"]),
                      "--out", str(contracts), *unlock)
        manifest = json.loads(contracts.read_text())
        assert set(manifest["contracts"]) == {"FedToken", "StakeRegistry", "ModelRegistry", "TaskMarket",
                                              "ModelGovernance", "Delegation", "ScoreBoard"}
        assert manifest["task_id"] == 0 and manifest["contracts"]["TaskMarket"]["address"] in printed
        again = runner.invoke(app, ["deploy", "--config", str(EXAMPLE), "--rpc-url", node.url, "--key",
                                    str(keys["operator"]), "--out", str(contracts), *unlock])
        assert again.exit_code == 2 and "exists" in again.output and json.loads(contracts.read_text()) == manifest

        grants = [f"{accounts['requester'].address}=10000", *(f"{accounts[f'v{i}'].address}=1100" for i in range(4))]
        refused = runner.invoke(app, ["mint", "--contracts", str(contracts), "--key", str(keys["requester"]),
                                      *(x for g in grants for x in ("--to", g)), *unlock])
        assert refused.exit_code == 2 and "is not a minter" in refused.output
        bad = runner.invoke(app, ["mint", "--contracts", str(contracts), "--key", str(keys["operator"]),
                                  "--to", "0x12=5", *unlock])
        assert bad.exit_code == 2 and "--to" in bad.output
        with RpcBackend.over_http(node.url) as chain:
            token = attach(read_manifest(contracts), chain).token
            assert token.total_supply() == 0  # neither refusal minted anything
        _ok("mint", "--contracts", str(contracts), "--key", str(keys["operator"]),
            *(x for g in grants for x in ("--to", g)), *unlock)

        for i in range(4):
            _ok("stake", "--manifest", str(contracts), "--key", str(keys[f"v{i}"]), "--role", "validator",
                "--amount", "1000", *unlock)
        listed = [accounts[f"v{i}"].address for i in range(4)]
        task = tmp_path / "manifest.json"
        short = runner.invoke(app, ["task", "create", "--config", str(EXAMPLE), "--contracts", str(contracts), "--key",
                                    str(keys["requester"]), "--out", str(task), "--validator", listed[0], *unlock])
        assert short.exit_code == 2 and "the scenario casts 4 validators" in short.output and not task.exists()
        created = _ok("task", "create", "--config", str(EXAMPLE), "--contracts", str(contracts), "--key",
                      str(keys["requester"]), "--out", str(task), *(x for a in listed for x in ("--validator", a)),
                      *unlock)
        opened = read_manifest(task)
        assert created.strip() == str(opened.task_id) and opened.task_id >= 1
        with RpcBackend.over_http(node.url) as chain:
            bound = attach(opened, chain)
            assert list(bound.market.validators(opened.task_id)) == listed
            assert bound.token.balance_of(accounts["requester"].address) == 0  # the whole budget is in escrow
