"""The event log in block ranges against anvil: any span reads what one request over the whole
chain reads, a node that caps eth_getLogs gets halved ranges until it answers, and a refresh asks
only for the blocks mined since the last one."""

import pytest
from deployers import MIN_STAKE, actors, deploy, join, staked_task
from web3.exceptions import Web3RPCError

from fedstake.chain.anvil import start_anvil
from fedstake.chain.rpc import RpcBackend
from fedstake.dashboard.logs import EventLog, RangeReader
from fedstake.errors import ChainError

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def chain():
    """A deployed system with a task three trainers joined: ~40 blocks of events (anvil mines one per tx)."""
    with start_anvil() as node, RpcBackend.over_http(node.url) as backend:
        crew = actors(seed=5)
        system = deploy(backend, crew)
        task_id = staked_task(system, crew, rounds=2)
        join(system, crew.trainer, task_id, MIN_STAKE)
        yield backend, system, crew, task_id


def handles(system):
    return [system.token.handle, system.registry.handle, system.models.handle, system.market.handle]


def everything(log: EventLog, system) -> list:
    names = {entry["name"] for h in handles(system) for entry in h.artifact.abi if entry["type"] == "event"}
    return sorted((e.block, e.index, e.name, tuple(sorted(e.args.items()))) for name in names for e in log.of(name))


class CappedNode:
    """A public node's eth_getLogs cap (wider than `cap` blocks is refused, as Alchemy refuses 2,000), in front
    of anvil; every other call goes through."""

    def __init__(self, web3, cap: int, message: str = "query exceeds max block range") -> None:
        self.eth, self._web3, self.cap, self.message = self, web3, cap, message

    def __getattr__(self, name):
        return getattr(self._web3.eth, name)

    def get_logs(self, query):
        if query["toBlock"] - query["fromBlock"] + 1 > self.cap:
            raise Web3RPCError(f"{{'code': -32602, 'message': '{self.message} {self.cap}'}}")
        return self._web3.eth.get_logs(query)


def test_a_tiny_span_reads_exactly_what_one_big_read_does(chain):
    backend, system, _, _ = chain
    whole = EventLog(backend.web3, handles(system), from_block=0, span=10**9)
    whole.refresh()
    tiny = EventLog(backend.web3, handles(system), from_block=0, span=3)
    tiny.refresh()
    assert everything(tiny, system) == everything(whole, system) and len(everything(whole, system)) > 20
    assert tiny.reader.requests == -(-(backend.web3.eth.block_number + 1) // 3) and whole.reader.requests == 1
    assert [e.args["task_id"] for e in tiny.of("TaskCreated")] == [1]


@pytest.mark.parametrize("message", ["query exceeds max block range", "query returned more than 10000 results",
                                     "Log response size exceeded"])
def test_a_range_the_node_refuses_is_halved_until_it_answers(chain, message):
    backend, system, _, _ = chain
    whole = EventLog(backend.web3, handles(system), from_block=0)
    whole.refresh()
    capped = EventLog(CappedNode(backend.web3, 5, message), handles(system), from_block=0, span=64)
    capped.refresh()
    assert everything(capped, system) == everything(whole, system)
    assert 5 // 2 < capped.reader.span <= 5  # halved until the node answered, no further, and kept


def test_a_node_that_refuses_even_one_block_is_a_chain_error_and_other_errors_pass_through(chain):
    backend, _, _, _ = chain
    with pytest.raises(ChainError, match="refuses eth_getLogs even for block 0 alone"):
        list(RangeReader(CappedNode(backend.web3, 0), span=8).logs({}, 0, 3))
    with pytest.raises(Web3RPCError, match="invalid params"):
        list(RangeReader(CappedNode(backend.web3, 0, "invalid params"), span=8).logs({}, 0, 3))
    with pytest.raises(ValueError, match="span: 0 blocks"):
        RangeReader(backend.web3, span=0)


def test_a_refresh_reads_only_the_blocks_mined_since(chain):
    backend, system, crew, task_id = chain
    log = EventLog(backend.web3, handles(system), from_block=0, span=10)
    log.refresh()
    before, requests = len(log.of("TaskJoined")), log.reader.requests
    log.refresh()
    assert log.reader.requests == requests  # nothing new: no request at all
    join(system, crew.second_trainer, task_id, MIN_STAKE)  # a few blocks: mint, approve, stake, trust, join
    log.refresh()
    assert len(log.of("TaskJoined")) == before + 1
    assert log.reader.requests == requests + 1 and log.read_to == backend.web3.eth.block_number
