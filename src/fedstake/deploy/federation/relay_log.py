"""What the coordinator relayed, kept on disk: each final round's row, and the inputs a
validator who missed the round needs to replay it.

`rounds.jsonl` holds one row per final round (its summary, proposals,
disputes, who was silent, where the time went), appended once the round
is final; `relay/round-<N>.frame` holds the round's task, the sealed
updates and every validator's report, exactly as relayed. The relay
cannot read the sealed updates, and a validator replaying them checks
everything against the chain, so keeping them gives the coordinator no
power. A restarted coordinator reads both back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from flwr.app import ConfigRecord

from fedstake.deploy.federation.agent_link import decode, encode
from fedstake.files import write_atomically

ROUNDS_LOG = "rounds.jsonl"
RELAY = "relay"


class RelayLog:
    """A coordinator's log in `run_dir`."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    @property
    def path(self) -> Path:
        return self.run_dir / ROUNDS_LOG

    def rows(self) -> dict[int, dict[str, Any]]:
        """Every logged round's row by round (a round logged twice: the later row)."""
        if not self.path.exists():
            return {}
        rows = (json.loads(line) for line in self.path.read_text().splitlines() if line.strip())
        return {int(row["round"]): row for row in rows}

    def append(self, row: Mapping[str, Any]) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(row) + "\n")

    def keep_inputs(self, round: int, records: Mapping[str, ConfigRecord]) -> None:
        """The round's relayed inputs (the assess question as `assess`, its `sub.i`, the conclude question as `conclude`)."""
        frame = encode({"round": round}, {name: dict(record) for name, record in records.items()})
        write_atomically(self.run_dir / RELAY / f"round-{round}.frame", frame)

    def inputs(self, round: int) -> dict[str, ConfigRecord] | None:
        path = self.run_dir / RELAY / f"round-{round}.frame"
        if not path.exists():
            return None
        _, records = decode(path.read_bytes()[8:])
        return {name: ConfigRecord(record) for name, record in records.items()}
