"""A task's history from the chain's event logs, read incrementally.

The chain is the shared state: everything the dashboard shows about a
task that it cannot ask a view for comes from the contracts' events
(TaskCreated, RoundProposed, QuorumReached, RoundFinalized, Dispute*,
Staked, Slashed, Claimed, ModelMinted, ...). `EventLog.refresh` asks
the node only for blocks it has not read yet, so polling every second
costs one `eth_getLogs` over the new blocks.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address

from fedstake.chain.backend import LogEntry, Receipt
from fedstake.chain.contract import ContractHandle


@dataclass(frozen=True)
class Event:
    name: str
    contract: str
    args: dict[str, Any]
    block: int
    tx_hash: str


class EventLog:
    """Every event of `handles`' contracts from `from_block` on, decoded by their ABIs."""

    def __init__(self, web3, handles: list[ContractHandle], *, from_block: int) -> None:
        self._web3 = web3
        self._next_block = from_block
        self._decoders: dict[tuple[str, bytes], tuple[ContractHandle, str]] = {}
        for handle in handles:
            for entry in handle.artifact.abi:
                if entry["type"] == "event":
                    self._decoders[(handle.address, event_abi_to_log_topic(entry))] = (handle, entry["name"])
        self._events: dict[str, list[Event]] = defaultdict(list)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the blocks mined since the last refresh."""
        with self._lock:
            latest = self._web3.eth.block_number
            if latest < self._next_block:
                return
            raw = self._web3.eth.get_logs({"address": [a for a, _ in self._decoders], "fromBlock": self._next_block,
                                           "toBlock": latest})
            for log in raw:
                self._add(log)
            self._next_block = latest + 1

    def _add(self, log: Any) -> None:
        entry = LogEntry(to_checksum_address(log["address"]), tuple(bytes(t) for t in log["topics"]), bytes(log["data"]))
        if not entry.topics or (entry.address, entry.topics[0]) not in self._decoders:
            return
        handle, name = self._decoders[(entry.address, entry.topics[0])]
        tx_hash = log["transactionHash"].to_0x_hex()
        [args] = handle.events(Receipt(tx_hash, 0, log["blockNumber"], (entry,)), name)
        self._events[name].append(Event(name, entry.address, args, log["blockNumber"], tx_hash))

    def of(self, name: str, **match: Any) -> list[Event]:
        """The events called `name` whose arguments equal `match`, oldest first."""
        return [e for e in self._events.get(name, ()) if all(e.args.get(k) == v for k, v in match.items())]
