"""Every page and error path of the dashboard over a finished run's results directory."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from fedstake.dashboard.app import create_app
from fedstake.dashboard.format import tokens
from fedstake.dashboard.results_source import ResultsSource
from fedstake.errors import ArtifactError


@pytest.fixture(scope="module")
def data(embedded_run):
    return json.loads((embedded_run / "results.json").read_text())


@pytest.fixture(scope="module")
def client(embedded_run):
    return TestClient(create_app(ResultsSource(embedded_run)), raise_server_exceptions=False)


def test_the_tasks_page_lists_the_run_s_task_with_its_state(client, data):
    page = client.get("/")
    assert page.status_code == 200
    assert f'href="/tasks/{data["chain"]["task_id"]}"' in page.text and "closed" in page.text


def test_the_task_page_shows_every_round_final_and_the_curves_data(client, data):
    page = client.get("/tasks/1")
    assert page.status_code == 200
    assert re.search(r'id="rounds-final" data-rounds-final="(\d+)"', page.text).group(1) == str(len(data["rounds"]))
    series = json.loads(re.search(r'<script type="application/json" id="series">(.*?)</script>', page.text).group(1))
    assert series["accuracy"] == [r["accuracy"] for r in data["rounds"]]
    fragment = client.get("/tasks/1/rounds")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.count('data-status="final"') == len(data["rounds"])


def test_rounds_json_carries_amounts_as_decimal_strings(client, data):
    rows = client.get("/tasks/1/rounds.json").json()
    assert int(rows[0]["paid"]) == data["rounds"][0]["cumulative_rewards"]


def test_participants_are_sorted_and_paged_on_the_server(client, data):
    page = client.get("/tasks/1/participants", params={"sort": "claimed", "order": "desc", "size": 25})
    assert page.status_code == 200
    claimed = [int(c) for c in re.findall(r'data-claimed="(\d+)"', page.text)]
    assert claimed == sorted((p["rewards_claimed"] for p in data["participants"]), reverse=True)[:25]
    assert f'title="{claimed[0]} base units">{tokens(claimed[0])}<' in page.text  # tokens shown, base units on hover
    by_address = client.get("/tasks/1/participants", params={"sort": "address", "order": "asc", "size": 25})
    shown = re.findall(r'data-address="(0x[0-9a-fA-F]{40})"', by_address.text)
    assert shown == sorted(p["address"] for p in data["participants"])[:25]


def test_a_participant_page_has_its_history_and_a_claim_with_its_proof(client, data):
    trainer = next(p for p in data["participants"] if p["role"] == "trainer" and p["rewards_claimed"])
    page = client.get(f"/tasks/1/participants/{trainer['address']}")
    assert page.status_code == 200
    assert f'data-claimed="{trainer["rewards_claimed"]}"' in page.text
    assert re.search(r'data-root="(0x[0-9a-f]{64})"', page.text).group(1) == data["rounds"][-1]["rewards_root"]
    assert f"claim(1, {trainer['rewards_claimed']}, " in page.text  # the copyable call, claimed in full at the end


def test_the_disputes_page_shows_each_outcome(client, data):
    page = client.get("/tasks/1/disputes")
    outcomes = re.findall(r'data-dispute="(\d+)" data-outcome="(\w+)"', page.text)
    expected = [(str(d["id"]), "upheld" if d["upheld"] else "dismissed") for r in data["rounds"] for d in r["disputes"]]
    assert outcomes == expected and expected


def test_the_model_page_shows_the_final_hash_and_every_round_of_provenance(client, data):
    page = client.get("/tasks/1/model")
    assert f'data-hash="{data["final"]["model_hash"]}"' in page.text
    assert page.text.count("<tr><td>") == len(data["rounds"])
    assert 'id="model-file"' in page.text and '<label for="model-file">' in page.text


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/tasks/2", 404, "task 2 is not in"),
    ("/tasks/two", 404, "task_id"),
    ("/tasks/1/participants/0x0000000000000000000000000000000000000001", 404, "is not a participant"),
    ("/tasks/1/edge", 404, "without a simulated edge"),
    ("/tasks/1/participants?sort=wealth", 400, "sort: &#39;wealth&#39; is not one of"),
    ("/tasks/1/participants?size=7", 400, "size: 7"),
    ("/tasks/1/participants?page=99", 400, "page: 99 is out of range"),
    ("/no/such/page", 404, "no such page"),
])
def test_errors_are_a_page_with_a_sentence_and_never_a_traceback(client, path, status, words):
    page = client.get(path)
    assert page.status_code == status
    assert words in page.text and "Traceback" not in page.text and 'role="alert"' in page.text


def test_a_directory_without_results_is_refused_naming_the_file(tmp_path):
    with pytest.raises(ArtifactError, match="results.json: cannot read"):
        ResultsSource(tmp_path)


def test_a_run_with_an_edge_has_an_edge_view(embedded_run, tmp_path):
    """results.json's edge rows (the schema's fields) become the edge page, linked from the task."""
    data = json.loads((embedded_run / "results.json").read_text())
    for number, row in enumerate(data["rounds"], 1):
        row["edge"] = {"time_s": 684.0 * number, "round_s": 684.0, "collect_s": 78.7, "devices": 10, "took_part": 9,
                       "on_time": 8, "dropped": 1, "stragglers": ["0x01", "0x02"][:number], "offline": 0,
                       "declined": 1, "energy_j": 1006.5, "bytes": 280_000_000, "payout_latency_s": 646.1}
    (tmp_path / "results.json").write_text(json.dumps(data))
    client = TestClient(create_app(ResultsSource(tmp_path)), raise_server_exceptions=False)
    assert 'href="/tasks/1/edge"' in client.get("/tasks/1").text
    page = client.get("/tasks/1/edge")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>(\d+)</td><td>([\d.]+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page.text)
    assert rows == [(str(n), "684.00", "10", "8", str(min(n, 2))) for n in range(1, len(data["rounds"]) + 1)]
