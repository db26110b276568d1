"""Messages to nodes and their answers, over a Flower `Grid`.

Flower's `send_and_receive` polls every three seconds and overshoots its
timeout; here every question is pushed at once and the answers are pulled
with our own short polling, each message id only until its answer came (a
pulled answer is gone from the SuperLink: pulling it again is an error).
A node that does not answer in time, or answers with an error, is named in
the `NodeSilent` the caller gets, so a round can go on without it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Mapping

from flwr.app import ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from fedstake.errors import Unreachable

ANSWER = "answer"  # the record a node answers in


class NodeSilent(Unreachable):
    """A node did not answer a message in time, or its answer was an error."""

    def __init__(self, node_id: int, message_type: str, problem: str) -> None:
        super().__init__(f"node {node_id} ({message_type}): {problem}")
        self.node_id, self.message_type, self.problem = node_id, message_type, problem


@dataclass(frozen=True)
class Exchange:
    """One ask: its message type, to how many nodes, how long until the last answer, how many stayed silent."""

    kind: str
    nodes: int
    seconds: float
    silent: int


@dataclass(frozen=True)
class Answer:
    node_id: int
    record: ConfigRecord | None  # None: silent (see `problem`)
    problem: str = ""


class Courier:
    """Asks nodes questions and collects their answers; safe to share between threads."""

    def __init__(self, grid: Grid, *, timeout_s: float, poll_s: float = 0.2) -> None:
        self.grid, self.timeout_s, self.poll_s = grid, timeout_s, poll_s
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []  # every ask, in the order they ended: where a round's time went

    def node_ids(self) -> list[int]:
        with self._lock:
            return sorted(self.grid.get_node_ids())

    def ask_many(self, questions: Mapping[int, tuple[str, Mapping[str, ConfigRecord]]], *,
                 timeout_s: float | None = None) -> dict[int, Answer]:
        """Send each node its (message type, records) at once; every node's answer, or why it has none.
        The records travel by name: `question` and whatever else the message type carries."""
        started = time.monotonic()
        messages = [Message(RecordDict(dict(records)), dst_node_id=node, message_type=kind)
                    for node, (kind, records) in questions.items()]
        with self._lock:
            ids = list(self.grid.push_messages(messages))
        pending = {mid: node for mid, node in zip(ids, questions) if mid}
        answers = {node: Answer(node, None, "the SuperLink refused the message")
                   for mid, node in zip(ids, questions) if not mid}
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while pending and time.monotonic() < deadline:
            with self._lock:
                replies = list(self.grid.pull_messages(list(pending)))
            for reply in replies:
                node = pending.pop(reply.metadata.reply_to_message_id, None)
                if node is not None:
                    answers[node] = _answer(node, reply)
            if pending:
                time.sleep(self.poll_s)
        for node in pending.values():
            answers[node] = Answer(node, None, f"no answer within {self.timeout_s if timeout_s is None else timeout_s:g} s")
        kinds = sorted({kind for kind, _ in questions.values()})
        with self._lock:
            self.exchanges.append(Exchange("+".join(kinds), len(questions), round(time.monotonic() - started, 2),
                                           sum(a.record is None for a in answers.values())))
        return answers

    def take_exchanges(self) -> list[Exchange]:
        """The exchanges since the last call (a round's)."""
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken

    def ask(self, node_id: int, kind: str, question: ConfigRecord, *, timeout_s: float | None = None,
            **more: ConfigRecord) -> ConfigRecord:
        """One node's answer to `question` (and `more` records); `NodeSilent` if it has none."""
        answer = self.ask_many({node_id: (kind, {"question": question, **more})}, timeout_s=timeout_s)[node_id]
        if answer.record is None:
            raise NodeSilent(node_id, kind, answer.problem)
        return answer.record


def _answer(node: int, reply: Message) -> Answer:
    if reply.has_error():
        return Answer(node, None, f"error {reply.error.code}: {reply.error.reason}")
    try:
        return Answer(node, reply.content.config_records[ANSWER])
    except KeyError:
        return Answer(node, None, "an answer without its record")
