import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedstake.chain import compiler
from fedstake.chain.compiler import CONTRACT_NAMES, load_artifact
from fedstake.errors import CompileError


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_contract_compiles_with_abi_and_bytecode(name):
    artifact = load_artifact(name)
    assert artifact.bytecode and artifact.runtime_bytecode
    assert any(entry["type"] == "function" for entry in artifact.abi)


def test_every_deployed_contract_fits_eip_170(system):
    """EIP-170 caps deployed code (runtime plus the immutables appended to it) at 24,576 bytes;
    TaskMarket is 694 bytes under it (README, Threat model), so a feature that grows it shows here."""
    for name, address in system.addresses().items():
        assert len(system.backend.code_at(address)) <= 24_576, name


def test_artifacts_are_cached_by_source_digest(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDSTAKE_CACHE", str(tmp_path))
    load_artifact.cache_clear()
    try:
        first = load_artifact("FedToken")
        cached = list((tmp_path / "artifacts").glob("FedToken-*.json"))
        assert len(cached) == 1
        assert json.loads(cached[0].read_text())["bytecode"] == first.bytecode.hex()
        load_artifact.cache_clear()
        assert load_artifact("FedToken") == first
    finally:
        load_artifact.cache_clear()


@pytest.mark.parametrize("env, expected", [
    ({"FEDSTAKE_CACHE": "/x/mine", "XDG_CACHE_HOME": "/x/xdg"}, "/x/mine/artifacts"),
    ({"XDG_CACHE_HOME": "/x/xdg"}, "/x/xdg/fedstake/artifacts"),
    ({"XDG_CACHE_HOME": ""}, "~/.cache/fedstake/artifacts"),
])
def test_the_cache_is_a_users_directory(monkeypatch, env, expected):
    for name in ("FEDSTAKE_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert compiler.cache_dir() == Path(expected).expanduser()


def test_a_fresh_process_loads_every_contract_from_the_cache_without_vyper(tmp_path):
    """The cache pays off across runs: a second process neither compiles nor imports vyper."""
    probe = ("import sys, time\nfrom fedstake.chain.compiler import CONTRACT_NAMES, load_artifact\n"
             "t = time.perf_counter()\nfor name in CONTRACT_NAMES: load_artifact(name)\n"
             "print(time.perf_counter() - t, 'vyper' in sys.modules)")
    env = {**os.environ, "FEDSTAKE_CACHE": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(compiler.__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
            .stdout.split() for _ in range(2)]
    assert runs[0][1] == "True" and runs[1][1] == "False"  # the first compiled, the second only read
    assert len(list((tmp_path / "artifacts").glob("*.json"))) == len(CONTRACT_NAMES)
    assert float(runs[1][0]) < float(runs[0][0]) / 10


def test_a_changed_source_gets_a_new_digest(tmp_path):
    (tmp_path / "A.vy").write_text("# pragma version ~=0.4.3\n")
    before = compiler._sources_digest(tmp_path, "gas")
    (tmp_path / "A.vy").write_text("# pragma version ~=0.4.3\n# changed\n")
    assert compiler._sources_digest(tmp_path, "gas") != before


def test_a_broken_source_raises_compile_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDSTAKE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "Broken.vy").write_text("# pragma version ~=0.4.3\n@external\ndef f(:\n")
    with pytest.raises(CompileError, match="Broken.vy"):
        load_artifact("Broken", source_dir=tmp_path)


def test_a_missing_contract_raises_compile_error(tmp_path):
    with pytest.raises(CompileError, match="no contract source"):
        load_artifact("Nope", source_dir=tmp_path)
