"""What a scenario needs from the machine, checked before the first round.

The scenario file itself is validated when it is read (`config`); this
checks the world outside it: an rpc chain's node answers, or, without a
URL, the anvil binary fedstake would start is installed. A failure is a
`ConfigError` naming the key, with what to do about it.
"""

from __future__ import annotations

from urllib.parse import urlparse

from fedstake.chain.anvil import find_anvil
from fedstake.chain.probe import rpc_problem
from fedstake.errors import ChainError, ConfigError
from fedstake.sim.config import Scenario


def node_hint(url: str) -> str:
    """How to start a node at `url` (a loopback URL), or to check the node (any other)."""
    parsed = urlparse(url)
    if parsed.hostname in ("127.0.0.1", "localhost") and parsed.port:
        return f"start one with `fedstake node --port {parsed.port}` (it stays in the foreground), then run again"
    return "check the URL and that the node is up"


def check_node(url: str, key: str) -> None:
    """A ConfigError naming `key` unless a JSON-RPC node answers at `url`."""
    problem = rpc_problem(url)
    if problem is not None:
        raise ConfigError(key, f"{problem}; {node_hint(url)}")


def preflight(scenario: Scenario) -> None:
    """Everything about the machine the scenario's run depends on, checked in about a second."""
    chain = scenario.chain
    if chain.backend != "rpc":
        return
    if chain.rpc_url:
        check_node(chain.rpc_url, "chain.rpc-url")
        return
    try:
        find_anvil()
    except ChainError as exc:
        raise ConfigError("chain.backend", f"\"rpc\" without chain.rpc-url starts anvil, but {exc}") from None
