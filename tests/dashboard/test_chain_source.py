"""The chain source on a node of its own: found from the market's address alone, a task id that
does not exist is a 404 page, and a node that went away is a 503 page, never a traceback."""

import pytest
from fastapi.testclient import TestClient

from deployers import actors, deploy, staked_task
from fedstake.chain.anvil import start_anvil
from fedstake.chain.rpc import RpcBackend
from fedstake.dashboard.app import create_app
from fedstake.dashboard.chain_source import ChainSource

pytestmark = pytest.mark.anvil


def test_a_market_address_is_enough_and_a_node_gone_is_a_503_page():
    with start_anvil() as node:
        with RpcBackend.over_http(node.url) as backend:
            crew = actors(seed=3)
            system = deploy(backend, crew)
            task_id = staked_task(system, crew, rounds=2)
        source = ChainSource.from_market(RpcBackend.over_http(node.url), system.market.address)
        assert source.contracts.models.address == system.models.address  # the contract that logged MarketBound
        client = TestClient(create_app(source), raise_server_exceptions=False)
        page = client.get(f"/tasks/{task_id}")
        assert page.status_code == 200 and page.text.count('data-status="pending"') == 2
        missing = client.get("/tasks/99")
        assert missing.status_code == 404 and "task 99 does not exist on chain 31337" in missing.text
        assert client.get(f"/tasks/{task_id}/model").status_code == 200  # no final round: says there is no model yet
        node.stop()
        gone = client.get(f"/tasks/{task_id}")
        assert gone.status_code == 503
        assert "the chain node does not answer" in gone.text and "Traceback" not in gone.text


@pytest.fixture(scope="module")
def claimed_run(tmp_path_factory):
    """The dishonest-validator run on anvil, trainers claiming after every round (so reputations move
    between draws), and the dashboard's chain source found from the market address alone, read 7 blocks
    a request."""
    import json

    from dashboard_kit import simulate

    with start_anvil() as node:
        run = simulate(tmp_path_factory.mktemp("claimed") / "run", "chain.backend=rpc", f"chain.rpc-url={node.url}",
                       "rewards.claim-every=1")
        data = json.loads((run / "results.json").read_text())
        source = ChainSource.from_market(RpcBackend.over_http(node.url), data["chain"]["contracts"]["TaskMarket"],
                                         span=7)
        yield data, source
        source.close()


def test_the_replayed_draw_selects_whom_each_round_selected(claimed_run):
    data, source = claimed_run
    task_id = data["chain"]["task_id"]
    source.log.refresh()
    replayed = source.cohorts.cohorts(task_id, source.market.task(task_id), source.market.rounds_done(task_id))
    assert replayed == {r["round"]: sorted(r["selected"]) for r in data["rounds"]}
    rows = {p.address: p for p in source.participants(task_id)}
    for p in data["participants"]:
        if p["role"] == "trainer":
            assert rows[p["address"]].selected == sum(p["address"] in r["selected"] for r in data["rounds"])


def test_earned_accepted_and_claimed_come_from_the_claims_the_chain_logged(claimed_run):
    """No published table here (a market address only): every trainer claimed at the end, so the leaf of its
    latest claim is its whole record: the amounts and accepted rounds results.json has."""
    data, source = claimed_run
    task_id = data["chain"]["task_id"]
    rows = {p.address: p for p in source.participants(task_id)}
    forfeited = {d["accused"] for r in data["rounds"] for d in r["disputes"] if d["upheld"] and d["kind"] == "update"}
    for p in data["participants"]:
        if p["role"] != "trainer" or p["address"] in forfeited:
            continue
        row = rows[p["address"]]
        accepted = sum(p["address"] in r["accepted"] for r in data["rounds"])
        earned = sum(r["rewards"].get(p["address"], 0) for r in data["rounds"])
        assert (row.accepted, row.earned, row.claimed) == (accepted, earned, p["rewards_claimed"]), p["address"]
        assert row.claimed == source.market.claimed(task_id, p["address"])
        assert row.reputation == source.market.reputation(p["address"])
    paid = [r.paid for r in source.rounds(task_id)]
    cumulative = [r["cumulative_rewards"] for r in data["rounds"]]
    assert paid == [b - a for a, b in zip([0] + cumulative, cumulative)]
    assert sum(paid) == source.market.view("committed", task_id)
    task = source.task(task_id)
    assert task.committed == cumulative[-1] and task.claimed == sum(p["rewards_claimed"] for p in data["participants"])
    page = TestClient(create_app(source)).get(f"/tasks/{task_id}")
    assert f'data-committed="{task.committed}" data-claimed="{task.claimed}"' in page.text


def test_validators_agreement_and_dispute_bonds_are_the_chain_s(claimed_run):
    data, source = claimed_run
    task_id, market = data["chain"]["task_id"], source.market
    final = range(1, market.rounds_done(task_id) + 1)
    for row in source.participants(task_id):
        if row.role == "validator":
            agreed = sum(market.view("attested", task_id, n, row.address) == market.view("final_result", task_id, n)
                         for n in final)
            assert row.agreement == agreed / len(final)
    assert [p.agreement for p in source.participants(task_id) if p.role == "validator"].count(1.0) == 3
    slashed = {p.address: p.slashed for p in source.participants(task_id)}
    assert any(slashed.values())  # the self-paying validator's
    # one task on this market: its slashes are all the registry's
    assert all(amount == source.contracts.registry.slashed_of(a) for a, amount in slashed.items())
    cheat = next(p.address for p in source.participants(task_id) if p.role == "validator" and p.slashed)
    assert any(h.note.startswith("dropped from the task's quorum") for h in source.participant(task_id, cheat).history)
    disputes = source.disputes(task_id)
    assert disputes and all(d.bond == market.view("params")[0] for d in disputes)


def test_a_trainer_s_history_has_its_rounds_claims_and_reputation_moves(claimed_run):
    data, source = claimed_run
    task_id = data["chain"]["task_id"]
    trainer = next(p["address"] for p in data["participants"] if p["role"] == "trainer" and p["rewards_claimed"])
    history = source.participant(task_id, trainer).history
    rounds = [h for h in history if h.round]
    assert [(h.round, h.selected) for h in rounds] == [(r["round"], trainer in r["selected"]) for r in data["rounds"]]
    assert any(h.note.startswith("claimed in block") for h in history)
    assert any(h.note.startswith("reputation ") for h in history)


def test_a_round_whose_quorum_result_was_voided_is_no_longer_at_quorum():
    """An upheld result dispute rejects the quorum result (ResultRejected): the round goes back to pending."""
    from deployers import BOND, Rewards, fund, propose_and_attest

    with start_anvil() as node, RpcBackend.over_http(node.url) as backend:
        crew = actors(seed=4)
        system = deploy(backend, crew)
        task_id = staked_task(system, crew, rounds=2)
        result_hash = propose_and_attest(system, crew, task_id, 1, Rewards({crew.trainer.address: (5, 1)}).result())
        source = ChainSource.from_market(RpcBackend.over_http(node.url), system.market.address, span=4)
        assert source.rounds(task_id)[0].status == "quorum"
        fund(system, crew.challenger, BOND)
        system.token.approve(system.market.address, BOND, sender=crew.challenger)
        dispute = system.market.challenge_result(task_id, 1, result_hash, sender=crew.challenger)
        assert source.rounds(task_id)[0].status == "challenged"
        for validator in crew.validators:
            system.market.vote(dispute, True, sender=validator)
        system.market.resolve(dispute, sender=crew.outsider)
        assert source.rounds(task_id)[0].status == "pending"
        source.close()
