"""SIGINT and SIGTERM end a fedstake process the same way: by unwinding it.

Python's default SIGTERM handler ends the process on the spot, with no
`finally` and no atexit, so a child process (anvil, a sweep worker, a
Flower process) outlives its parent, orphaned and holding its port; a
`timeout`, a CI cancel or a plain `kill` sends exactly that signal. Here
both signals raise `Interrupted` in the main thread: every `with` and
`finally` that stops a child runs, and the command exits 128 + the signal
number (130 for SIGINT, 143 for SIGTERM). A worker process that its parent
stops on such a signal leaves Ctrl-C to the parent and unwinds on SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator

from fedstake.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    for s in SIGNALS:  # once is enough: a second signal must not cut the clean-up short
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted`; the previous handlers come
    back afterwards. Outside the main thread, where Python delivers no signals, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _interrupt) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _exit(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)  # quiet in a multiprocessing worker, unlike KeyboardInterrupt


def as_worker() -> None:
    """For a process a parent starts and stops: Ctrl-C reaches the whole process group, but
    stopping is the parent's call, so SIGINT is ignored; SIGTERM unwinds (its `finally`
    blocks stop its own children) and exits 143."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
