"""Delegation gas: a delegator's claim costs the same for 10, 100 and 1,000 delegators."""

from fedstake.chain.delegation_gas import measure_delegation_gas
from fedstake.chain.embedded import EmbeddedBackend


def test_a_claim_costs_the_same_gas_for_10_100_and_1000_delegators():
    with EmbeddedBackend() as chain:
        gas = measure_delegation_gas(chain)
    claims = [gas[f"claim_delegation_{n}"] for n in (10, 100, 1_000)]
    assert max(claims) - min(claims) <= min(claims) // 100, claims
    assert max(claims) <= 80_000
    assert {"open", "set_take_cut", "set_take_raise", "delegate", "share_rewards", "request_undelegate",
            "withdraw_delegation"} <= set(gas)
