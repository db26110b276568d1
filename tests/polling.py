"""Waiting in tests for something that happens in another process."""

import time
from typing import Callable


def wait_for(condition: Callable[[], object], timeout: float, what: str):
    """`condition()`'s first truthy value within `timeout` seconds, else an AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
