"""A run's published artifacts on disk: global models by hash, settled rewards tables by round.

The chain holds hashes and roots; these files hold what they commit to,
so any party can take a round's model or rewards table and check it
against the chain. The layout and the checks belong to the protocol, not
to a transport: the simulator writes a run directory, a deployed
validator serves the same directory over HTTP (`deploy/publish.py`), and
a reader applies the same checks wherever the bytes came from. Hence
this module lives with the roles, below every transport:

    manifest.json                      the contracts (chain/manifest.py)
    models/0x<keccak256>.safetensors   a model's canonical bytes (proof/codec.py), named by their hash
    tables/round-<N>.json              the table settled in round N, a StandardMerkleTree dump
    scores/round-<N>.json              a deployed validator's own score vector for round N, as it
                                       reported it to the others (the consensus is computed from these)
    asks/round-<N>.json                the signed asks that bid in round N of a reverse-auction task
                                       (their leaves are in that round's scores root)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Sequence

from eth_utils import keccak

from fedstake.chain.manifest import MANIFEST
from fedstake.chain.rewards_dump import dumps_rewards, load_rewards
from fedstake.errors import ArtifactError, FetchError
from fedstake.files import json_object, write_atomically
from fedstake.protocol.asks import Ask, SignedAsk
from fedstake.protocol.desk import Report
from fedstake.protocol.ledger import PublishedTable

MODELS = "models"
TABLES = "tables"
SCORES = "scores"
ASKS = "asks"
ASK_FIELDS = tuple(f.name for f in fields(Ask))
_PUBLISHED = re.compile(rf"{re.escape(MANIFEST)}|{MODELS}/0x[0-9a-f]{{64}}\.safetensors|"
                        rf"({TABLES}|{SCORES}|{ASKS})/round-[1-9][0-9]*\.json")


def model_name(model_hash: bytes) -> str:
    """Where the model hashing to `model_hash` is published, relative to the run directory."""
    if len(model_hash) != 32:
        raise ValueError("a model hash is 32 bytes")
    return f"{MODELS}/0x{model_hash.hex()}.safetensors"


def table_name(round: int) -> str:
    """Where the rewards table settled in `round` is published, relative to the run directory."""
    if round < 1:
        raise ValueError("rounds are numbered from 1")
    return f"{TABLES}/round-{round}.json"


def scores_name(round: int) -> str:
    """Where a validator publishes the scores it reported in `round`."""
    return f"{SCORES}/{table_name(round).split('/', 1)[1]}"


def asks_name(round: int) -> str:
    """Where the asks that bid in `round` are published."""
    return f"{ASKS}/{table_name(round).split('/', 1)[1]}"


def is_published_name(name: str) -> bool:
    """True for the names above: the only files a run directory publishes (keys stay private)."""
    return _PUBLISHED.fullmatch(name) is not None


def checked_model(payload: bytes, model_hash: bytes, *, source: str) -> bytes:
    """`payload`, once its keccak256 is `model_hash` (the hash the chain records)."""
    actual = keccak(payload)
    if actual != model_hash:
        raise ArtifactError(source, f"the bytes hash to 0x{actual.hex()}, not to the model hash 0x{model_hash.hex()}")
    return payload


def parse_table(text: str | bytes, *, source: str, root: bytes | None = None) -> PublishedTable:
    """A published table, every leaf and node recomputed; with `root` (the chain's
    rewards root, say), also checked to be the table that root commits to."""
    entries, tree = load_rewards(text, source=source)
    if root is not None and tree.root != root:
        raise ArtifactError(source, f"its root 0x{tree.root.hex()} is not the expected root 0x{root.hex()}")
    return PublishedTable(entries, tree)


def parse_asks(text: str | bytes, *, source: str) -> list[SignedAsk]:
    """A published asks file; a malformed entry is an ArtifactError naming it."""
    entries = json_object(text, source=source).get("asks")
    if not isinstance(entries, list):
        raise ArtifactError(f"{source}: asks", "not a list")
    asks = []
    for i, entry in enumerate(entries):
        try:
            values = {k: entry[k] if k == "trainer" else int(entry[k]) for k in ASK_FIELDS}
            asks.append(SignedAsk(Ask(**values), bytes.fromhex(entry["signature"].removeprefix("0x"))))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactError(f"{source}: asks[{i}]", f"not a signed ask ({exc!r})") from None
    return asks


class ArtifactStore:
    """The artifacts under one run directory; reads re-check what they return."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def put_model(self, payload: bytes) -> bytes:
        """Store a model's canonical bytes; returns their keccak256, the name they are stored under."""
        model_hash = keccak(payload)
        write_atomically(self.root / model_name(model_hash), payload)
        return model_hash

    def get_model(self, model_hash: bytes) -> bytes:
        path = self.root / model_name(model_hash)
        return checked_model(self._read(path), model_hash, source=str(path))

    def put_table(self, round: int, table: PublishedTable) -> Path:
        """Publish the table settled in `round` (it must hold at least one entry)."""
        return write_atomically(self.root / table_name(round), dumps_rewards(table.entries))

    def put_scores(self, round: int, report: Report) -> Path:
        """Publish the score vector a validator reported in `round` (and the sample counts the
        commitments signed), so anyone can recompute the round's consensus from the vectors."""
        doc = {"round": round, "validator": report.validator, "scores": report.scores, "samples": report.samples,
               "held": report.held}
        return write_atomically(self.root / scores_name(round), json.dumps(doc, indent=2, sort_keys=True) + "\n")

    def get_scores(self, round: int) -> dict:
        path = self.root / scores_name(round)
        return json_object(self._read(path), source=str(path))

    def put_asks(self, round: int, asks: Sequence[SignedAsk]) -> Path:
        """Publish the signed asks that bid in `round`: with the chain, what anyone needs to re-run its auction."""
        doc = {"round": round, "asks": [{**{k: str(v) if isinstance(v, int) else v for k, v in vars(a.ask).items()},
                                         "signature": "0x" + a.signature.hex()} for a in asks]}
        return write_atomically(self.root / asks_name(round), json.dumps(doc, indent=2) + "\n")

    def get_asks(self, round: int) -> list[SignedAsk]:
        """The signed asks published for `round`, as they were signed (the signatures are checked by
        whoever re-runs the auction: `protocol.asks.valid_asks`)."""
        path = self.root / asks_name(round)
        return parse_asks(self._read(path), source=str(path))

    def get_table(self, round: int, *, root: bytes | None = None) -> PublishedTable:
        path = self.root / table_name(round)
        return parse_table(self._read(path), source=str(path), root=root)

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FetchError(f"{path}: not in the store") from None
