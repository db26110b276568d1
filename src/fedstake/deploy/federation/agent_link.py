"""The line between a node's Flower ClientApp and its long-lived agent: one Unix socket, one
question and one answer per connection.

Flower starts a fresh `flwr-clientapp` process for every message. Loading
torch, the scenario's data and the key (scrypt) in each of them cost
5-10 s of CPU per message; a round is six exchanges. So the participant
runs one long-lived agent (`fedstake trainer`, `fedstake validator`) that
unlocks its key once and keeps its data and state in memory, and the
ClientApp only carries each message's records to it and the answer back.
The socket is created mode 0600 in the agent's own folder: only its user
can ask it anything.

A frame is an 8-byte big-endian length, a JSON header, then the raw bytes
its fields point into. This module imports neither torch nor the rest of
fedstake's stack, so the ClientApp stays light.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Mapping, Union

from fedstake.errors import FedstakeError

Field = Union[str, bytes]
Records = Mapping[str, Mapping[str, Field]]
_LENGTH = struct.Struct(">Q")
TIMEOUT_S = 900.0  # a validator's assess can train references and score; never wait for ever


class AgentError(FedstakeError):
    """The agent could not be reached, or it answered with an error."""


def encode(header: Mapping, records: Records) -> bytes:
    """`header` (JSON fields) and `records` (name -> field -> text or bytes) as one frame."""
    blobs: list[bytes] = []
    offset = 0
    fields: dict[str, dict[str, list]] = {}
    for name, record in records.items():
        fields[name] = {}
        for key, value in record.items():
            if isinstance(value, bytes):
                fields[name][key] = ["b", offset, len(value)]
                blobs.append(value)
                offset += len(value)
            else:
                fields[name][key] = ["s", str(value)]
    head = json.dumps({**header, "records": fields}).encode()
    body = _LENGTH.pack(len(head)) + head + b"".join(blobs)
    return _LENGTH.pack(len(body)) + body


def decode(body: bytes) -> tuple[dict, dict[str, dict[str, Field]]]:
    """A frame's body (after its length) back into its header and records."""
    try:
        (size,) = _LENGTH.unpack_from(body)
        header = json.loads(body[_LENGTH.size:_LENGTH.size + size])
        blobs = memoryview(body)[_LENGTH.size + size:]
        records = {name: {key: (value[1] if value[0] == "s" else bytes(blobs[value[1]:value[1] + value[2]]))
                          for key, value in record.items()}
                   for name, record in header.pop("records").items()}
    except (struct.error, ValueError, KeyError, IndexError, TypeError) as exc:
        raise AgentError(f"a malformed frame: {exc}") from None
    return header, records


def read_frame(conn: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))
    return _read_exactly(conn, length)


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = conn.recv(min(n - got, 1 << 20))
        if not chunk:
            raise AgentError("the connection closed mid-frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def ask_agent(path: str, kind: str, records: Records, *, timeout_s: float = TIMEOUT_S) -> dict[str, Field]:
    """The agent's answer record to a message of type `kind` carrying `records`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout_s)
            conn.connect(path)
            conn.sendall(encode({"kind": kind}, records))
            header, answer = decode(read_frame(conn))
    except OSError as exc:
        raise AgentError(f"no agent answers at {path}: {exc}") from None
    if "error" in header:
        raise AgentError(str(header["error"]))
    return answer["answer"]
