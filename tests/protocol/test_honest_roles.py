"""protocol/ holds the honest roles only: the code a participant runs carries no
simulated-misbehaviour switch; attacks and dishonest roles wrap it in fedstake.sim."""

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import fedstake.protocol
from fedstake.protocol.trainer import Trainer
from fedstake.protocol.validator import Validator

MODULES = sorted(m.name for m in pkgutil.walk_packages(fedstake.protocol.__path__, "fedstake.protocol."))
MISBEHAVIOUR = ("fedstake.learn.attacks", "fedstake.learn.cheats", "fedstake.sim")
SWITCHES = ("behaviour", "colluder", "attack", "cheat", "malform", "craft")


def test_importing_every_protocol_module_loads_no_attack_cheat_or_simulator_module():
    probe = ("import importlib, sys\n"
             "for name in sys.argv[2:]: importlib.import_module(name)\n"
             "print(sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[1].split(',')))))")
    loaded = subprocess.run([sys.executable, "-c", probe, ",".join(MISBEHAVIOUR), *MODULES],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert len(MODULES) > 10 and loaded == "[]"


@pytest.mark.parametrize("module", MODULES)
def test_no_protocol_module_names_a_misbehaviour(module):
    """Neither an import of the attacks or cheats nor an identifier (field, variable, argument,
    attribute) that would switch a role into misbehaving."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith(MISBEHAVIOUR)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    assert not {n for n in names if any(s in n.lower() for s in SWITCHES)}


@pytest.mark.parametrize("role", [Trainer, Validator])
def test_the_roles_have_no_behaviour_field(role):
    fields = {f.name for f in dataclasses.fields(role)}
    assert not {f for f in fields if any(s in f for s in SWITCHES)}
    assert not hasattr(role, "behaviour") and not hasattr(role, "colluders")
