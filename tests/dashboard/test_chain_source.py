"""The chain source on a node of its own: found from the market's address alone, a task id that
does not exist is a 404 page, and a node that went away is a 503 page, never a traceback."""

import pytest
from fastapi.testclient import TestClient

from deployers import actors, deploy, staked_task
from fedstake.chain.anvil import start_anvil
from fedstake.chain.rpc import RpcBackend
from fedstake.dashboard.app import create_app
from fedstake.dashboard.chain_source import ChainSource

pytestmark = pytest.mark.anvil


def test_a_market_address_is_enough_and_a_node_gone_is_a_503_page():
    with start_anvil() as node:
        with RpcBackend.over_http(node.url) as backend:
            crew = actors(seed=3)
            system = deploy(backend, crew)
            task_id = staked_task(system, crew, rounds=2)
        source = ChainSource.from_market(RpcBackend.over_http(node.url), system.market.address)
        assert source.contracts.models.address == system.models.address  # the contract that logged MarketBound
        client = TestClient(create_app(source), raise_server_exceptions=False)
        page = client.get(f"/tasks/{task_id}")
        assert page.status_code == 200 and page.text.count('data-status="pending"') == 2
        missing = client.get("/tasks/99")
        assert missing.status_code == 404 and "task 99 does not exist on chain 31337" in missing.text
        assert client.get(f"/tasks/{task_id}/model").status_code == 200  # no final round: says there is no model yet
        node.stop()
        gone = client.get(f"/tasks/{task_id}")
        assert gone.status_code == 503
        assert "the chain node does not answer" in gone.text and "Traceback" not in gone.text
