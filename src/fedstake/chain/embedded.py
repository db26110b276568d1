"""The embedded backend: titanoboa's py-evm in process.

Transactions go through py-evm's own transaction executor (unsigned,
with the sender spoofed) rather than titanoboa's message-level calls, so
intrinsic gas, refunds, warm/cold access and the calldata floor are
charged as a real node charges them; state is committed between
transactions so storage writes are priced from their pre-transaction
values. The result matches anvil's receipts.
"""

from __future__ import annotations

from eth_utils import keccak, to_canonical_address, to_checksum_address

from fedstake.chain.accounts import Account
from fedstake.chain.backend import ChainBackend, LogEntry, Receipt, decode_revert
from fedstake.errors import ContractRevert

_TX_GAS = 30_000_000
_RICH = 10**30


class EmbeddedBackend(ChainBackend):
    """An in-process chain that mines one block per transaction."""

    name = "embedded"

    def __init__(self, *, chain_id: int = 31337, block_time: int = 1, start_time: int = 1_700_000_000) -> None:
        super().__init__()
        import boa  # deferred: importing boa costs about a second

        self._env = boa.Env()
        self._patch = self._env.evm.patch
        self._patch.chain_id = chain_id
        self._patch.timestamp = start_time
        self._block_time = block_time
        self._vm = self._env.evm.vm
        self._chain_id = chain_id
        self._what_if: list = []  # open snapshots: changes stay revertible (not locked) meanwhile

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def _execute(self, to: bytes, data: bytes, sender: Account):
        from eth.vm.spoof import SpoofTransaction

        state = self._vm.state
        origin = to_canonical_address(sender.address)
        if state.get_balance(origin) < _RICH // 2:
            state.set_balance(origin, _RICH)
        base_fee = self._vm.get_header().base_fee_per_gas
        unsigned = self._vm.create_unsigned_transaction(
            nonce=state.get_nonce(origin), gas_price=base_fee, gas=_TX_GAS, to=to, value=0, data=data
        )
        tx_hash = "0x" + keccak(origin + unsigned.nonce.to_bytes(32, "big")).hex()
        self._patch.block_number += 1
        self._patch.timestamp += self._block_time
        if not self._what_if:
            state.lock_changes()  # storage is priced from its value before this transaction
        computation = state.apply_transaction(SpoofTransaction(unsigned, from_=origin))
        spent = _TX_GAS - computation.get_gas_remaining()
        refund = min(computation.get_gas_refund(), spent // 5)  # EIP-3529 cap
        gas_used = spent - refund + getattr(computation, "data_floor_gas", 0)  # EIP-7623 top-up
        return computation, gas_used, tx_hash

    def _receipt(self, computation, gas_used: int, tx_hash: str, contract: str | None = None) -> Receipt:
        logs = tuple(
            LogEntry(to_checksum_address(address), tuple(t.to_bytes(32, "big") for t in topics), data)
            for address, topics, data in computation.get_log_entries()
        )
        return Receipt(tx_hash, gas_used, self._patch.block_number, logs, contract)

    def deploy(self, initcode: bytes, sender: Account) -> Receipt:
        computation, gas_used, tx_hash = self._execute(b"", initcode, sender)
        if computation.is_error:
            raise ContractRevert(decode_revert(computation.output), function="constructor", gas_used=gas_used)
        address = to_checksum_address(computation.msg.storage_address)
        return self._receipt(computation, gas_used, tx_hash, address)

    def transact(self, to: str, data: bytes, sender: Account) -> Receipt:
        computation, gas_used, tx_hash = self._execute(to_canonical_address(to), data, sender)
        if computation.is_error:
            raise ContractRevert(decode_revert(computation.output), gas_used=gas_used)
        return self._receipt(computation, gas_used, tx_hash)

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        computation = self._env.execute_code(
            to_address=to, sender=sender or "0x" + "00" * 20, data=data, is_modifying=False
        )
        if computation.is_error:
            raise ContractRevert(decode_revert(computation.output))
        return computation.output

    def code_at(self, address: str) -> bytes:
        return self._vm.state.get_code(to_canonical_address(address))

    def timestamp(self) -> int:
        return self._patch.timestamp

    def block_number(self) -> int:
        return self._patch.block_number

    def advance_time(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._patch.timestamp += seconds

    def snapshot(self) -> tuple:
        """A point to `revert` to: state, clock and block number (anvil's evm_snapshot). Until
        it is reverted, storage gas is priced as within one transaction, as titanoboa does."""
        self._vm.state.lock_changes()
        point = (self._vm.state.snapshot(), self._patch.timestamp, self._patch.block_number)
        self._what_if.append(point)
        return point

    def revert(self, snapshot: tuple) -> None:
        """Undo everything since `snapshot` (what-if checks: "could this still be done?")."""
        while self._what_if and self._what_if[-1] is not snapshot:
            self._what_if.pop()
        if not self._what_if:
            raise ValueError("not a snapshot of this backend, or already reverted")
        self._what_if.pop()
        state, self._patch.timestamp, self._patch.block_number = snapshot
        self._vm.state.revert(state)
