"""The stopwatch behind `chain_s`: nested blocks count once, under the outermost label."""

import time

import pytest

from fedstake.chain.stopwatch import Stopwatch


def test_nested_blocks_count_once_under_the_outer_label():
    watch = Stopwatch()
    with watch.measure("claim"):
        with watch.measure("read"):
            time.sleep(0.01)
    assert set(watch.by_label) == {"claim"}
    assert watch.seconds == watch.by_label["claim"] >= 0.01


def test_the_labels_add_up_to_the_total():
    watch = Stopwatch()
    for label in ("sign", "verify", "sign"):
        with watch.measure(label):
            pass
    assert set(watch.by_label) == {"sign", "verify"}
    assert sum(watch.by_label.values()) == pytest.approx(watch.seconds, rel=1e-12)


def test_a_block_that_raises_is_still_counted():
    watch = Stopwatch()
    try:
        with watch.measure("transfer"):
            raise ValueError
    except ValueError:
        pass
    assert watch.by_label["transfer"] > 0
