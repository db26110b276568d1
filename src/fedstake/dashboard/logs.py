"""A task's history from the chain's event logs, read incrementally and in block ranges.

The chain is the shared state: everything the dashboard shows about a
task that it cannot ask a view for comes from the contracts' events
(TaskCreated, RoundProposed, QuorumReached, RoundFinalized, Dispute*,
Staked, Slashed, Claimed, ReputationChanged, ModelMinted, ...).

Public nodes cap `eth_getLogs` (Infura and geth at 10,000 results,
Alchemy at 2,000 blocks, others at a range or a response size), so the
log is read `span` blocks at a time (2,000 by default); a range the
node refuses as too wide or too full is halved and read again, and the
halved span is kept, since a node's cap does not change. What was read
is kept: `EventLog.refresh` asks only for blocks mined since, so a live
page polling every second costs one `eth_getLogs` over the new blocks.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3.exceptions import Web3RPCError

from fedstake.chain.backend import LogEntry, Receipt
from fedstake.chain.contract import ContractHandle
from fedstake.errors import ChainError

DEFAULT_SPAN = 2_000
# what nodes answer when an eth_getLogs range is too wide or returns too much
_TOO_MUCH = re.compile(r"too many|more than|range|limit|exceed|too large|response size", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    name: str
    contract: str
    args: dict[str, Any]
    block: int
    tx_hash: str
    index: int = 0  # the log's index in its block: with `block`, its place in the chain's order


def too_much(error: Exception) -> bool:
    """True when a node refused an eth_getLogs request for its size, not for anything else."""
    return isinstance(error, Web3RPCError) and bool(_TOO_MUCH.search(str(error)))


class RangeReader:
    """`eth_getLogs` over any block range, `span` blocks a request, halving a range the node refuses."""

    def __init__(self, web3, *, span: int = DEFAULT_SPAN) -> None:
        if span < 1:
            raise ValueError(f"span: {span} blocks; a log read needs at least one block a request")
        self._web3 = web3
        self.span = span
        self.requests = 0

    def logs(self, query: dict[str, Any], first: int, last: int) -> Iterator[Any]:
        """Every log matching `query` (address, topics) from block `first` to `last` inclusive, oldest first."""
        start = first
        while start <= last:
            end = min(start + self.span - 1, last)
            try:
                self.requests += 1
                found = self._web3.eth.get_logs({**query, "fromBlock": start, "toBlock": end})
            except Web3RPCError as exc:
                if not too_much(exc):
                    raise
                if self.span == 1:
                    raise ChainError(f"the node refuses eth_getLogs even for block {start} alone: {exc}") from None
                self.span = max(1, (end - start + 1) // 2)
                continue
            yield from found
            start = end + 1


class EventLog:
    """Every event of `handles`' contracts from `from_block` on, decoded by their ABIs."""

    def __init__(self, web3, handles: list[ContractHandle], *, from_block: int, span: int = DEFAULT_SPAN) -> None:
        self._web3 = web3
        self.reader = RangeReader(web3, span=span)
        self._next_block = from_block
        self._decoders: dict[tuple[str, bytes], tuple[ContractHandle, str]] = {}
        for handle in handles:
            for entry in handle.artifact.abi:
                if entry["type"] == "event":
                    self._decoders[(handle.address, event_abi_to_log_topic(entry))] = (handle, entry["name"])
        self._events: dict[str, list[Event]] = defaultdict(list)
        self._lock = threading.Lock()

    @property
    def read_to(self) -> int:
        """The last block read (from_block - 1 before the first refresh)."""
        return self._next_block - 1

    def refresh(self) -> None:
        """Read the blocks mined since the last refresh; a range read completes before it counts as read."""
        with self._lock:
            latest = self._web3.eth.block_number
            if latest < self._next_block:
                return
            addresses = sorted({a for a, _ in self._decoders})
            decoded = [self._decode(log) for log in self.reader.logs({"address": addresses}, self._next_block, latest)]
            for event in decoded:
                if event is not None:
                    self._events[event.name].append(event)
            self._next_block = latest + 1

    def _decode(self, log: Any) -> Event | None:
        entry = LogEntry(to_checksum_address(log["address"]), tuple(bytes(t) for t in log["topics"]), bytes(log["data"]))
        if not entry.topics or (entry.address, entry.topics[0]) not in self._decoders:
            return None
        handle, name = self._decoders[(entry.address, entry.topics[0])]
        tx_hash = log["transactionHash"].to_0x_hex()
        [args] = handle.events(Receipt(tx_hash, 0, log["blockNumber"], (entry,)), name)
        return Event(name, entry.address, args, log["blockNumber"], tx_hash, log["logIndex"])

    def of(self, name: str, **match: Any) -> list[Event]:
        """The events called `name` whose arguments equal `match`, oldest first."""
        return [e for e in self._events.get(name, ()) if all(e.args.get(k) == v for k, v in match.items())]
