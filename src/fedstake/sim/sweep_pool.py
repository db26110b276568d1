"""A sweep's cells in a local pool of spawned worker processes.

Workers ignore Ctrl-C and unwind on SIGTERM (`signals.as_worker`): an interrupted sweep
terminates them, and each stops its own children (e.g. an anvil) first.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, Iterator

from fedstake.signals import as_worker
from fedstake.sim.sweep import run_cell


@contextmanager
def pool_results(cells: list[tuple], *, jobs: int, address: None = None) -> Iterator[Iterator[tuple[int, dict[str, Any]]]]:
    """(cell index, row) as runs finish, `jobs` at a time; every worker is gone on the way out."""
    pool = get_context("spawn").Pool(min(jobs, len(cells)), initializer=as_worker)
    held = [pool.imap_unordered(run_cell, cells)]  # let go of below, so the pool can be collected
    try:
        yield _drain(held)
        pool.close()  # done: idle workers exit on their own, quietly
    except BaseException:
        pool.terminate()  # an interrupt or a failure: SIGTERM unwinds the running ones
        raise
    finally:
        pool.join()
        held.clear()
        del pool  # its queues' semaphores are unregistered as it goes, while the tracker still runs:
        gc.collect()  # stopped first, the tracker would warn of "leaked" ones and fail to unlink them
        _stop_resource_tracker()


def _drain(held: list[Iterator[tuple[int, dict[str, Any]]]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The pool's results, through a list the pool's owner empties: the caller's loop variable
    must not keep the pool's iterator (and so the pool) alive past its clean-up."""
    while held:
        try:
            yield next(held[0])
        except StopIteration:
            return


def _stop_resource_tracker() -> None:
    """Reap the helper process that spawned workers leave behind: otherwise it ends only after
    fedstake exits (when its pipe closes), so for a moment a child outlives its parent."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # private, present in 3.8-3.13
    if stop is not None:
        stop()
