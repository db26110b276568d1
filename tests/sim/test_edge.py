"""The going rate devices read from a final root."""

from fedstake.sim.edge import TOKEN, public_rate


def test_public_rate_counts_only_the_devices_that_took_part_and_were_paid():
    received = {"a": 2 * TOKEN, "b": 4 * TOKEN, "c": 0, "validator": 90 * TOKEN}
    assert public_rate(received, ["a", "b", "c", "absent"]) == 3.0


def test_public_rate_is_unknown_when_no_device_was_paid():
    assert public_rate({"validator": TOKEN}, ["a"]) is None
    assert public_rate({}, []) is None
