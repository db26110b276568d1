"""Who is in the federation now, found by key: a restarted node comes back under a new node id.

Each node answers `hello` with its role, its index, its address and its
public key (which must be its address's). The coordinator greets every
expected node before the first round, then, before each round, greets
whatever nodes joined since: a trainer or validator restarted with the
same key takes its old place under its new node id.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fedstake.deploy.federation.courier import Courier
from fedstake.deploy.federation.wire import json_record, read_json
from fedstake.errors import ProtocolError
from fedstake.proof.sealing import address_of


@dataclass(frozen=True)
class Hello:
    node_id: int
    role: str
    index: int
    address: str
    public_key: bytes


class Directory:
    """Every participant's latest hello, by address; safe to share between threads."""

    def __init__(self, courier: Courier) -> None:
        self.courier = courier
        self._by_address: dict[str, Hello] = {}
        self._greeted: set[int] = set()
        self._lock = threading.Lock()

    def hellos(self, role: str) -> list[Hello]:
        with self._lock:
            return sorted((h for h in self._by_address.values() if h.role == role), key=lambda h: h.index)

    def node_of(self, address: str) -> int:
        with self._lock:
            return self._by_address[address].node_id

    def __contains__(self, address: str) -> bool:
        with self._lock:
            return address in self._by_address

    def refresh(self, *, within_s: float = 60.0) -> list[Hello]:
        """Greet the nodes not greeted yet; returns the hellos of those that answered."""
        nodes = [n for n in self.courier.node_ids() if n not in self._greeted]
        if not nodes:
            return []
        answers = self.courier.ask_many({n: ("query.hello", {"question": json_record()}) for n in nodes},
                                        timeout_s=within_s)
        new = []
        for node, answer in answers.items():
            if answer.record is None:
                continue  # a node still starting, or a dead one not yet dropped: greeted again next time
            doc = read_json(answer.record)
            key = bytes.fromhex(doc["public_key"][2:])
            if address_of(key) != doc["address"]:
                raise ProtocolError(f"node {node} says it is {doc['address']} with another account's key")
            hello = Hello(node, doc["role"], int(doc["index"]), doc["address"], key)
            with self._lock:
                self._by_address[hello.address] = hello
                self._greeted.add(node)
            new.append(hello)
        return new

    def greet(self, expected: int, *, within_s: float) -> None:
        """Wait until `expected` participants said hello (each stakes and joins first if it has not)."""
        deadline = time.monotonic() + within_s
        while True:
            self.refresh(within_s=max(1.0, deadline - time.monotonic()))
            with self._lock:
                known = len(self._by_address)
            if known >= expected:
                return
            if time.monotonic() >= deadline:
                raise ProtocolError(f"{known} of the {expected} nodes said hello within {within_s:g} s")
            time.sleep(1.0)
