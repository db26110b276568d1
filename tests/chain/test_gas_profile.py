"""Gas per operation against the cohort size: only what carries a Merkle proof may grow."""

import pytest

from fedstake.chain.embedded import EmbeddedBackend
from fedstake.chain.gas_profile import measure_gas

# A proof of membership in a tree of n leaves has log2(n) siblings: the claims (rewards tree) and
# the update dispute (updates tree, the commitment proved by a Merkle proof as the design requires).
# The splitter's claims prove a leaf of the task's last rewards tree, the same tree.
CARRY_A_PROOF = {"claim_first", "claim_again", "challenge_update", "split_claim_first", "split_claim_again",
                 "split_reclaim_forfeited", "gov_vote"}


@pytest.fixture(scope="module")
def by_cohort():
    tables = {}
    for cohort in (10, 1000):
        with EmbeddedBackend() as chain:
            tables[cohort] = measure_gas(chain, cohort=cohort)
    return tables


def test_every_operation_without_a_proof_costs_the_same_for_10_and_1000_trainers(by_cohort):
    small, large = by_cohort[10], by_cohort[1000]
    assert list(small) == list(large)
    for operation in set(small) - CARRY_A_PROOF:
        assert abs(large[operation] - small[operation]) <= small[operation] // 100, operation


def test_a_proof_costs_under_a_thousand_gas_per_doubling_of_the_cohort(by_cohort):
    doublings = 6.64  # log2(1000 / 10)
    for operation in CARRY_A_PROOF:
        growth = by_cohort[1000][operation] - by_cohort[10][operation]
        assert 0 < growth <= 1000 * doublings, (operation, growth)


def test_one_claim_for_any_number_of_rounds_stays_within_its_budget_at_1000_trainers(by_cohort):
    assert by_cohort[1000]["claim_first"] <= 110_000
    assert by_cohort[1000]["claim_again"] <= 70_000


def test_a_revenue_claim_costs_about_what_a_merkle_claim_costs_elsewhere(by_cohort):
    """0xSplits' Merkle claim is ~51k; ours adds the market's forfeiture and dispute checks."""
    for cohort in (10, 1000):
        assert by_cohort[cohort]["split_claim_again"] <= 70_000
        assert by_cohort[cohort]["split_claim_first"] <= 110_000


def test_a_scores_commit_and_its_reveal_cost_one_word_each_whatever_the_cohort(by_cohort):
    """The score vector stays off chain behind its hash: commit-reveal gas does not grow with the cohort."""
    for operation in ("board_commit", "board_reveal"):
        assert by_cohort[10][operation] == by_cohort[1000][operation], operation
        assert by_cohort[1000][operation] <= 60_000, operation
