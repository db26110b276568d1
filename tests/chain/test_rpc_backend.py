"""The JSON-RPC backend behaves, and charges gas, exactly as the embedded one.

One anvil serves the module; each test works in an evm_snapshot that is
reverted afterwards, so tests see a fresh chain without a fresh process.
"""

import pytest
from eth_utils import to_checksum_address

from deployers import deploy, fund, rpc_backend_in_snapshot
from fedstake.chain.accounts import derive_account
from fedstake.chain.anvil import start_anvil
from fedstake.chain.contract import ContractHandle
from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.gas_profile import _Script
from fedstake.chain.rpc import RpcBackend, open_rpc_backend
from fedstake.chain.token import FedToken
from fedstake.errors import ChainError, ContractRevert

pytestmark = pytest.mark.anvil

H = lambda n: bytes([n]) * 32  # noqa: E731
FAR_DEADLINE = 4_000_000_000  # fixed so create_task's calldata is byte-identical on every backend


@pytest.fixture(scope="module")
def anvil():
    with start_anvil() as node:
        yield node


@pytest.fixture
def rpc(anvil):
    """A backend on the module's anvil, on a chain reset to the module's start afterwards."""
    backend, undo = rpc_backend_in_snapshot(anvil.url)
    yield backend
    undo()


def lifecycle(backend) -> dict[str, list[int]]:
    """Every kind of transaction the protocol sends (the gas profile's script:
    staking, rounds with a quorum, claims, both kinds of dispute, votes,
    the task's end, unbonding), plus a reverted claim; gas per operation."""
    script = _Script(backend, cohort=16, seed=0)
    script.run()
    market = script.system.market
    market.claim(script.task_id, *script.claimer_ticket(3), sender=script.claimer, operation="claim_last")
    with pytest.raises(ContractRevert, match="claims: nothing to claim") as reverted:
        market.claim(script.task_id, *script.claimer_ticket(3), sender=script.claimer)
    return dict(backend.gas.samples) | {"reverted_claim": [reverted.value.gas_used]}


def test_every_operation_costs_the_same_gas_on_anvil_and_embedded(rpc, actors):
    on_anvil, embedded = lifecycle(rpc), lifecycle(EmbeddedBackend())
    assert list(on_anvil) == list(embedded)
    for operation, truth in on_anvil.items():
        for node_gas, our_gas in zip(truth, embedded[operation], strict=True):
            assert abs(our_gas - node_gas) <= node_gas // 100, f"{operation}: embedded {our_gas}, anvil {node_gas}"
    assert on_anvil == embedded  # exact today; the 1% bound above is the contract


def test_eth_tester_charges_what_anvil_charges(rpc, actors):
    with RpcBackend.over_eth_tester() as tester:
        assert lifecycle(tester) == lifecycle(rpc)


@pytest.fixture(params=["embedded", "anvil", "eth-tester"])
def any_backend(request, anvil):
    if request.param == "anvil":
        return request.getfixturevalue("rpc")
    return EmbeddedBackend() if request.param == "embedded" else RpcBackend.over_eth_tester()


def test_a_revert_carries_the_same_reason_and_gas_on_every_backend(any_backend, actors):
    system = deploy(any_backend, actors)
    with pytest.raises(ContractRevert) as sent:
        system.token.transfer(actors.trainer.address, 1, sender=actors.outsider)
    with pytest.raises(ContractRevert) as read:
        system.market.round_seed(7, 1)
    with pytest.raises(ContractRevert) as unknown:
        any_backend.call(system.token.address, bytes.fromhex("deadbeef"))
    assert (sent.value.reason, sent.value.function) == ("erc20: transfer amount exceeds balance", "FedToken.transfer")
    assert sent.value.gas_used == 24_295
    assert (read.value.reason, read.value.function) == ("tasks: unknown task", "TaskMarket.round_seed")
    assert read.value.gas_used == 0
    assert unknown.value.reason == "no reason"  # an unknown selector reverts with empty data


def test_a_reverting_constructor_raises_with_its_gas_on_every_backend(any_backend, actors):
    reverting_initcode = bytes.fromhex("60006000fd")  # PUSH1 0 PUSH1 0 REVERT
    with pytest.raises(ContractRevert) as caught:
        any_backend.deploy(reverting_initcode, actors.owner)
    assert (caught.value.reason, caught.value.function) == ("no reason", "constructor")
    # base + creation, 3 nonzero and 2 zero calldata bytes, 1 initcode word (EIP-3860), 2 PUSH1s
    assert caught.value.gas_used == 21_000 + 32_000 + 3 * 16 + 2 * 4 + 2 + 2 * 3


def test_polling_for_receipts_gives_what_the_sync_send_gives(anvil, rpc, actors):
    polling = RpcBackend.over_http(anvil.url, sync_send=False)
    snapshot = rpc.web3.manager.request_blocking("evm_snapshot", [])
    by_polling = lifecycle(polling)  # then rewind, so both runs deploy at the same addresses
    rpc.web3.manager.request_blocking("evm_revert", [snapshot])
    assert by_polling == lifecycle(rpc)


def test_a_reverted_transaction_still_uses_up_its_nonce(rpc, actors):
    system = deploy(rpc, actors)
    with pytest.raises(ContractRevert):
        system.token.transfer(actors.trainer.address, 1, sender=actors.outsider)
    fund(system, actors.outsider, 5)
    system.token.transfer(actors.trainer.address, 5, sender=actors.outsider)
    assert system.token.balance_of(actors.trainer.address) == 5


def test_estimated_gas_refuses_to_send_a_reverting_transaction(anvil, rpc, actors):
    system = deploy(rpc, actors)
    estimating = RpcBackend.over_http(anvil.url, gas="estimate")
    outsider_nonce = rpc.web3.eth.get_transaction_count(actors.outsider.address)
    token = FedToken(ContractHandle(estimating, system.token.address, system.token.handle.artifact))
    with pytest.raises(ContractRevert, match="erc20: transfer amount exceeds balance") as caught:
        token.transfer(actors.trainer.address, 1, sender=actors.outsider)
    assert caught.value.gas_used == 0
    assert rpc.web3.eth.get_transaction_count(actors.outsider.address) == outsider_nonce
    token.mint(actors.trainer.address, 1, sender=actors.owner)  # the estimated limit is enough
    assert estimating.gas.samples["mint"] == [rpc.web3.eth.get_block("latest")["gasUsed"]]


def test_a_nonce_spent_elsewhere_fails_once_then_recovers(anvil, rpc, actors):
    system = deploy(rpc, actors)
    other = RpcBackend.over_http(anvil.url)
    other.transact(system.token.address, system.token.handle.calldata("mint", actors.owner.address, 1), actors.owner)
    with pytest.raises(ChainError, match="nonce"):
        system.token.mint(actors.trainer.address, 1, sender=actors.owner)
    system.token.mint(actors.trainer.address, 1, sender=actors.owner)
    assert system.token.balance_of(actors.trainer.address) == 1


def test_receipts_carry_block_logs_and_contract_address(rpc, actors):
    system = deploy(rpc, actors)
    receipt = system.token.mint(actors.trainer.address, 7, sender=actors.owner)
    (log,) = receipt.logs
    assert log.address == system.token.address and len(log.topics) == 3
    assert to_checksum_address(log.topics[2][-20:]) == actors.trainer.address
    assert int.from_bytes(log.data, "big") == 7
    assert receipt.block_number == rpc.web3.eth.block_number
    assert receipt.tx_hash.startswith("0x") and len(receipt.tx_hash) == 66


def test_a_new_sender_gets_gas_money_on_a_test_node(rpc):
    newcomer = derive_account(99, "newcomer").address
    assert rpc.web3.eth.get_balance(newcomer) == 0
    rpc.ensure_gas(newcomer)
    assert rpc.web3.eth.get_balance(newcomer) >= 10**18


def test_time_moves_forward_only(any_backend):
    backend = any_backend
    start = backend.timestamp()
    backend.advance_time(3600)
    assert backend.timestamp() >= start + 3600
    with pytest.raises(ValueError):
        backend.advance_time(-1)


def test_an_unreachable_node_is_a_chain_error():
    with pytest.raises(ChainError, match="the node refused"):
        RpcBackend.over_http("http://127.0.0.1:9")


def test_open_rpc_backend_starts_its_own_anvil_and_stops_it_on_close(actors):
    with open_rpc_backend(chain_id=777) as backend:
        assert backend.chain_id == 777
        deploy(backend, actors)
        url = backend.web3.provider.endpoint_uri
    with pytest.raises(ChainError):
        RpcBackend.over_http(url)


def test_open_rpc_backend_at_a_url_leaves_the_node_running(anvil):
    with open_rpc_backend(anvil.url) as backend:
        block = backend.web3.eth.block_number
    assert RpcBackend.over_http(anvil.url).web3.eth.block_number == block
