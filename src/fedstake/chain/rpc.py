"""The JSON-RPC backend: web3.py to anvil, any EVM node, or eth-tester in process.

Transactions are signed here with the participant's key and sent raw, so
the node needs no unlocked accounts. Nonces are counted locally and the
gas price is read once, so a transaction costs one or two round trips:
on anvil one, `eth_sendRawTransactionSync` (EIP-7966) answering with the
receipt; elsewhere a send, then the receipt polled every 2 ms (anvil
mines asynchronously and web3's default 0.1 s poll cut throughput
fivefold).

Gas limit: on a test node every transaction is sent with a fixed limit
(30M capped at the block's limit, as the embedded backend sends), so a
reverting transaction is mined and charged like on the embedded backend;
its reason comes from replaying it with eth_call in the block that mined
it (same block environment, state differs only in the sender's nonce and
balance). On any other node each transaction is estimated first, and one
that would revert is not sent: ContractRevert with gas_used 0.

Gas money: the embedded backend tops senders up; here `ensure_gas`
does, once per sender on its first transaction. On anvil it sets the
balance (anvil_setBalance), on eth-tester it transfers from a prefunded
dev account; on any other node the account must already hold ETH and
`ensure_gas` only checks, failing with a message that says so.
"""

from __future__ import annotations

import ast
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Literal

from eth_account import Account as EthAccount
import requests
from eth_utils import keccak, to_checksum_address
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.exceptions import ContractLogicError, Web3Exception
from web3._utils.method_formatters import receipt_formatter  # web3 8.0 has no public one, nor the sync send
from web3.providers import BaseProvider

from fedstake.chain.accounts import Account
from fedstake.chain.anvil import launch_anvil
from fedstake.chain.backend import ChainBackend, LogEntry, Receipt, decode_revert
from fedstake.errors import ChainError, ContractRevert

try:  # eth-tester comes with web3[tester]; without it only its error type is missing
    from eth_tester.exceptions import TransactionFailed
except ImportError:  # pragma: no cover
    TransactionFailed = ContractLogicError

_TX_GAS = 30_000_000  # what the embedded backend gives every transaction
_LOW_BALANCE = 10**18  # below 1 ETH a sender gets topped up
_TOP_UP = 10**24
_TESTER_TOP_UP = 100 * 10**18  # eth-tester's dev accounts hold 10**24 each
_REVERTED = "execution reverted"


def revert_reason(error: BaseException) -> str | None:
    """The contract's reason in a web3 revert error, decoded as the embedded backend decodes it.

    anvil's ContractLogicError carries the raw revert data; eth-tester's
    TransactionFailed only a message, whose tail is the decoded Error(string)
    or the repr of the raw bytes. None if `error` is not a revert.
    """
    if isinstance(error, ContractLogicError):
        if isinstance(error.data, str) and error.data.startswith("0x"):
            return decode_revert(bytes.fromhex(error.data[2:]))
        message = error.message or _REVERTED
    elif isinstance(error, TransactionFailed):
        message = str(error.args[0]) if error.args else _REVERTED
    else:
        return None
    tail = message.removeprefix(_REVERTED).removeprefix(":").strip()
    if tail[:2] in ("b'", 'b"'):
        return decode_revert(ast.literal_eval(tail))
    return tail or decode_revert(b"")


@contextmanager
def _reverts_as_contract_revert(function: str = "") -> Iterator[None]:
    """Turn a node's revert error into ContractRevert, any other node error into ChainError."""
    try:
        yield
    except (Web3Exception, TransactionFailed, OSError) as error:
        reason = revert_reason(error)
        if reason is None:
            raise ChainError(f"the node refused: {error}") from error
        raise ContractRevert(reason, function=function) from None


class PatientHTTPProvider(HTTPProvider):
    """HTTP to a node that may be restarting: a request the node cannot take (connection
    refused or dropped) is sent again every `interval_s` for up to `patience_s`. Sending a
    signed transaction again is safe: the same bytes are the same transaction."""

    def __init__(self, url: str, *, patience_s: float, interval_s: float = 0.5, **options: Any) -> None:
        super().__init__(url, exception_retry_configuration=None, **options)
        self.patience_s, self.interval_s = patience_s, interval_s

    def make_request(self, method: Any, params: Any) -> Any:
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                return super().make_request(method, params)
            except requests.exceptions.ConnectionError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(self.interval_s)


class _TestNode:
    """What a test node lets us do that a public chain does not: mint ETH, move time."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def fund(self, address: str) -> None:
        raise NotImplementedError

    def advance_time(self, seconds: int) -> None:
        raise NotImplementedError


class _Anvil(_TestNode):
    def _rpc(self, method: str, params: list[Any]) -> Any:
        return self.w3.manager.request_blocking(method, params)

    def fund(self, address: str) -> None:
        self._rpc("anvil_setBalance", [address, hex(_TOP_UP)])

    def advance_time(self, seconds: int) -> None:
        self._rpc("evm_increaseTime", [seconds])
        self._rpc("evm_mine", [])


class _EthTester(_TestNode):
    def fund(self, address: str) -> None:
        self.w3.eth.send_transaction({"from": self.w3.eth.accounts[0], "to": address, "value": _TESTER_TOP_UP})

    def advance_time(self, seconds: int) -> None:
        latest = self.w3.eth.get_block("latest")["timestamp"]
        # eth-tester mines the travelled-to block one second short of the target
        self.w3.provider.ethereum_tester.time_travel(latest + seconds + 1)


def _test_node(w3: Web3) -> _TestNode | None:
    """The node's test controls, recognised by provider type or client version; None on other nodes."""
    if isinstance(w3.provider, EthereumTesterProvider):
        return _EthTester(w3)
    return _Anvil(w3) if w3.client_version.lower().startswith("anvil/") else None


def _receipt(raw: Any) -> Receipt:
    logs = tuple(
        LogEntry(to_checksum_address(log["address"]), tuple(bytes(t) for t in log["topics"]), bytes(log["data"]))
        for log in raw["logs"]
    )
    return Receipt(raw["transactionHash"].to_0x_hex(), raw["gasUsed"], raw["blockNumber"], logs, raw["contractAddress"])


class RpcBackend(ChainBackend):
    """A chain behind a web3 provider: anvil or any node over HTTP, or eth-tester in process.

    `gas`: a fixed gas limit for every transaction, "estimate" to estimate
    each one (a transaction that would revert is then never sent), or
    "auto": fixed on test nodes, estimated elsewhere. `sync_send`: send
    with eth_sendRawTransactionSync instead of send-then-poll (default: on anvil).
    """

    name = "rpc"

    def __init__(
        self,
        provider: BaseProvider,
        *,
        gas: int | Literal["auto", "estimate"] = "auto",
        sync_send: bool | None = None,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.002,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._w3 = Web3(provider)
        with _reverts_as_contract_revert():
            self._chain_id = self._w3.eth.chain_id
            self._node = _test_node(self._w3)
            self._sends_sync = isinstance(self._node, _Anvil) if sync_send is None else sync_send
            self._gas_price = 2 * self._w3.eth.gas_price  # headroom while the base fee moves
            block_limit = self._w3.eth.get_block("latest")["gasLimit"]
        if gas == "auto":
            gas = min(_TX_GAS, block_limit) if self._node else "estimate"
        self._gas_limit = None if gas == "estimate" else gas
        self._receipt_timeout = receipt_timeout
        self._poll_interval = poll_interval
        self._on_close = on_close
        self._nonces: dict[str, int] = {}

    @classmethod
    def over_http(cls, url: str, *, patience_s: float = 0.0, **options: Any) -> RpcBackend:
        """A node at `url`; caching lets web3 ask eth_chainId once rather than twice per read.
        `patience_s` > 0: a node that goes away (restarted from its saved state, say) is waited
        for that long before a request fails."""
        if patience_s > 0:
            return cls(PatientHTTPProvider(url, patience_s=patience_s, cache_allowed_requests=True), **options)
        return cls(HTTPProvider(url, cache_allowed_requests=True), **options)

    @classmethod
    def over_eth_tester(cls, **options: Any) -> RpcBackend:
        """py-evm behind web3's in-process eth-tester provider: the RPC path without a process."""
        return cls(EthereumTesterProvider(), **options)

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def web3(self) -> Web3:
        return self._w3

    def ensure_gas(self, address: str) -> None:
        """Make sure `address` can pay for gas: top it up on a test node, else check it holds ETH."""
        with _reverts_as_contract_revert():
            balance = self._w3.eth.get_balance(address)
            if balance >= _LOW_BALANCE:
                return
            if self._node is not None:
                self._node.fund(address)
                return
        if balance == 0:
            raise ChainError(f"{address} holds no ETH to pay gas on chain {self._chain_id}; fund it first")

    def _next_nonce(self, sender: Account) -> int:
        if sender.address not in self._nonces:
            self.ensure_gas(sender.address)
            with _reverts_as_contract_revert():
                self._nonces[sender.address] = self._w3.eth.get_transaction_count(sender.address, "pending")
        return self._nonces[sender.address]

    def _request(self, to: str | None, data: bytes, sender: Account) -> dict[str, Any]:
        request: dict[str, Any] = {"from": sender.address, "data": data, "value": 0}
        return request | ({"to": to} if to else {})

    def _gas_for(self, request: dict[str, Any], function: str) -> int:
        if self._gas_limit:
            return self._gas_limit
        with _reverts_as_contract_revert(function):
            estimate = self._w3.eth.estimate_gas(request)
        return estimate + estimate // 5  # state may move between estimate and inclusion

    def _signed(self, request: dict[str, Any], sender: Account, gas: int) -> bytes:
        fields = {k: v for k, v in request.items() if k != "from"}
        tx = fields | {"nonce": self._next_nonce(sender), "gas": gas, "gasPrice": self._gas_price,
                       "chainId": self._chain_id}
        return EthAccount.sign_transaction(tx, sender.private_key).raw_transaction

    def _mine(self, signed: bytes) -> Any:
        """Send a signed transaction; its receipt once mined. A node that answers "nonce too low"
        or "already known" to a transaction sent again (after a lost connection) mined it the
        first time: its receipt is fetched by hash."""
        try:
            if self._sends_sync:
                raw = self._w3.manager.request_blocking("eth_sendRawTransactionSync", ["0x" + signed.hex()])
                return receipt_formatter(raw)
            tx_hash = self._w3.eth.send_raw_transaction(signed)
        except Web3Exception as error:
            if not any(text in str(error).lower() for text in ("nonce too low", "already known")):
                raise
            tx_hash = keccak(signed)
            try:
                self._w3.eth.get_transaction(tx_hash)
            except Web3Exception:
                raise error from None  # not ours: the local nonce was wrong
        return self._w3.eth.wait_for_transaction_receipt(tx_hash, self._receipt_timeout, self._poll_interval)

    def _send(self, request: dict[str, Any], sender: Account, function: str) -> Receipt:
        gas = self._gas_for(request, function)
        try:
            with _reverts_as_contract_revert(function):
                raw = self._mine(self._signed(request, sender, gas))
        except ChainError:
            self._nonces.pop(sender.address, None)  # re-read the node's count next time
            raise
        self._nonces[sender.address] += 1
        if raw["status"] == 0:
            reason = self._replay(request | {"gas": gas}, raw["blockNumber"])
            raise ContractRevert(reason, function=function, gas_used=raw["gasUsed"])
        return _receipt(raw)

    def _replay(self, request: dict[str, Any], block_number: int) -> str:
        """Why a mined transaction reverted: run it again as a call in its own block."""
        try:
            self._w3.eth.call(request, block_number)
        except (Web3Exception, TransactionFailed) as error:
            return revert_reason(error) or str(error)
        return "reverted on chain but not when replayed"

    def deploy(self, initcode: bytes, sender: Account) -> Receipt:
        return self._send(self._request(None, initcode, sender), sender, "constructor")

    def transact(self, to: str, data: bytes, sender: Account) -> Receipt:
        return self._send(self._request(to, data, sender), sender, "")

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        request = {"to": to, "data": data} | ({"from": sender} if sender else {})
        with _reverts_as_contract_revert():
            return bytes(self._w3.eth.call(request, "latest"))

    def code_at(self, address: str) -> bytes:
        return bytes(self._w3.eth.get_code(to_checksum_address(address)))

    def timestamp(self) -> int:
        with _reverts_as_contract_revert():
            return self._w3.eth.get_block("latest")["timestamp"]

    def block_number(self) -> int:
        with _reverts_as_contract_revert():
            return self._w3.eth.block_number

    def advance_time(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        if self._node is None:
            raise ChainError(f"chain {self._chain_id} is not a test node: its clock cannot be moved")
        with _reverts_as_contract_revert():
            self._node.advance_time(seconds)

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


def open_rpc_backend(url: str | None = None, *, chain_id: int = 31337) -> RpcBackend:
    """The node at `url`, or, without one, a fresh anvil that `close()` stops."""
    if url:
        return RpcBackend.over_http(url)
    node = launch_anvil(chain_id=chain_id)
    try:
        return RpcBackend.over_http(node.url, on_close=node.stop)
    except BaseException:
        node.stop()
        raise
