"""Where the dashboard's numbers come from: one interface, two sources.

`ChainSource` reads a chain's event logs and view calls, so it shows a
task this process never ran; `ResultsSource` reads a finished run's
directory (results.json and its published tables). Every method raises
`NotFound` for a task or participant that does not exist, and a chain
source `Unreachable` when its node does not answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from fedstake.dashboard.views import (
    DisputeView,
    EdgeRound,
    ModelView,
    ParticipantDetail,
    ParticipantView,
    RoundView,
    TaskView,
)


class DashboardSource(ABC):
    """Read-only views of tasks; `label` says what the pages are reading (a URL, a directory),
    `participants_note` where the participants' columns come from and which it cannot know."""

    label: str
    participants_note: str = ""

    @abstractmethod
    def tasks(self) -> list[TaskView]: ...

    @abstractmethod
    def task(self, task_id: int) -> TaskView: ...

    @abstractmethod
    def rounds(self, task_id: int) -> list[RoundView]:
        """Every round of the task, 1..rounds, each with its status now."""

    @abstractmethod
    def participants(self, task_id: int) -> list[ParticipantView]: ...

    @abstractmethod
    def participant(self, task_id: int, address: str) -> ParticipantDetail: ...

    @abstractmethod
    def disputes(self, task_id: int) -> list[DisputeView]: ...

    @abstractmethod
    def model(self, task_id: int) -> ModelView | None:
        """The task's model NFT and its provenance, or None before any round is final."""

    def edge(self, task_id: int) -> list[EdgeRound] | None:
        """Round times, stragglers, energy, payout latency: only a simulated edge has them."""
        return None

    def close(self) -> None:
        """Release connections."""
