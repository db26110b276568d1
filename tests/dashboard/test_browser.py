"""The dashboard in Debian's chromium (Playwright) against tasks on anvil: what the pages show
equals what the chain says (read through the chain clients), no page logs a console error,
and a round turning final shows without a reload."""

import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from deployers import WINDOW, Rewards, actors, deploy, propose_and_attest, staked_task
from fedstake.chain.anvil import free_port, start_anvil
from fedstake.chain.manifest import attach, build_manifest, read_manifest
from fedstake.chain.market import DisputeStatus
from fedstake.chain.rpc import RpcBackend
from fedstake.dashboard.app import create_app
from fedstake.dashboard.chain_source import ChainSource
from dashboard_kit import simulate

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.anvil, pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                                 "/usr/bin/chromium (`make test` installs it: apt-get install chromium)")]


@contextmanager
def serving(source: ChainSource):
    """The dashboard under uvicorn on a free loopback port, in a thread, stopped on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(source), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def node():
    with start_anvil() as anvil:
        yield anvil


@pytest.fixture(scope="module")
def run(node, tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("dashboard") / "run", "chain.backend=rpc", f"chain.rpc-url={node.url}")


@pytest.fixture(scope="module")
def chain(node, run):
    """The chain clients the assertions read through (not the dashboard's own code)."""
    manifest = read_manifest(run / "manifest.json")
    with RpcBackend.over_http(node.url) as backend:
        yield manifest, attach(manifest, backend)


@pytest.fixture(scope="module")
def dashboard(node, run):
    source = ChainSource.from_manifest(read_manifest(run / "manifest.json"), RpcBackend.over_http(node.url),
                                       manifest_path=run / "manifest.json")
    with serving(source) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A 375 px wide page that records every console error and uncaught exception."""
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    assert page.errors == [], url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{url} is {width} px wide at a 375 px viewport"


def test_every_page_loads_without_console_errors_at_375_px(page, dashboard, chain):
    manifest, _ = chain
    task = manifest.task_id
    for path in ("/", f"/tasks/{task}", f"/tasks/{task}/participants", f"/tasks/{task}/disputes",
                 f"/tasks/{task}/model"):
        visit(page, dashboard + path)
    assert page.locator("canvas").count() == 0  # the model page has no chart; the task page's were drawn:
    visit(page, f"{dashboard}/tasks/{task}")
    assert page.locator(".chart canvas").count() >= 4


def test_rounds_final_equal_the_chain(page, dashboard, chain):
    manifest, contracts = chain
    visit(page, f"{dashboard}/tasks/{manifest.task_id}")
    assert int(page.locator("#rounds-final").inner_text()) == contracts.market.rounds_done(manifest.task_id)


def test_each_participant_s_claimed_amount_equals_the_chain(page, dashboard, chain):
    manifest, contracts = chain
    visit(page, f"{dashboard}/tasks/{manifest.task_id}/participants?size=100")
    rows = page.locator("#participants tbody tr")
    shown = {rows.nth(i).get_attribute("data-address"): int(rows.nth(i).get_attribute("data-claimed"))
             for i in range(rows.count())}
    assert len(shown) > 20 and any(shown.values())
    for address, claimed in shown.items():
        assert claimed == contracts.market.claimed(manifest.task_id, address), address


def test_the_dispute_outcomes_equal_the_chain(page, dashboard, chain):
    manifest, contracts = chain
    visit(page, f"{dashboard}/tasks/{manifest.task_id}/disputes")
    rows = page.locator("#disputes tbody tr")
    assert rows.count() >= 2
    names = {DisputeStatus.OPEN: "open", DisputeStatus.UPHELD: "upheld", DisputeStatus.DISMISSED: "dismissed"}
    for i in range(rows.count()):
        dispute = contracts.market.dispute(int(rows.nth(i).get_attribute("data-dispute")))
        assert rows.nth(i).get_attribute("data-outcome") == names[dispute.status]
        assert names[dispute.status] in rows.nth(i).inner_text()


def test_a_claim_proof_is_checked_in_the_browser_against_the_chain_s_root(page, dashboard, chain):
    manifest, contracts = chain
    visit(page, f"{dashboard}/tasks/{manifest.task_id}/participants?sort=earned&order=desc")
    page.locator("#participants tbody tr a").first.click()
    page.wait_for_load_state("networkidle")
    check = page.locator("#proof-check")
    assert check.get_attribute("data-valid") == "true", check.inner_text()
    assert check.get_attribute("data-root") == "0x" + contracts.market.rewards_root(manifest.task_id).hex()
    assert page.errors == []


def test_the_model_form_hashes_a_file_in_the_browser_and_compares_it_with_the_chain(page, dashboard, chain, run,
                                                                                     tmp_path):
    manifest, contracts = chain
    visit(page, f"{dashboard}/tasks/{manifest.task_id}/model")
    page.set_input_files("#model-file", str(run / "model.safetensors"))
    verdict = page.locator("#model-verdict")
    verdict.wait_for(state="attached")
    page.wait_for_function("document.getElementById('model-verdict').hasAttribute('data-match')")
    assert verdict.get_attribute("data-match") == "true"
    assert contracts.models.record(manifest.task_id).model_hash.hex() in verdict.inner_text()
    tampered = tmp_path / "tampered.safetensors"
    tampered.write_bytes((run / "model.safetensors").read_bytes() + b" ")
    page.set_input_files("#model-file", str(tampered))
    page.wait_for_function("document.getElementById('model-verdict').getAttribute('data-match') === 'false'")
    assert page.errors == []


def test_a_round_turning_final_shows_without_a_reload(page, node):
    """A task of its own on the same node: the page is open while its round 1 is proposed,
    reaches quorum, and is finalised; the rounds fragment shows each step."""
    with RpcBackend.over_http(node.url) as backend:
        crew = actors(seed=14)
        system = deploy(backend, crew)
        task_id = staked_task(system, crew, rounds=2)
        manifest = build_manifest(system, task_id=task_id, deployment_block=0)
        source = ChainSource.from_manifest(manifest, RpcBackend.over_http(node.url))
        with serving(source) as url:
            visit(page, f"{url}/tasks/{task_id}")
            row = page.locator('#rounds-table tr[data-round="1"]')
            assert row.get_attribute("data-status") == "pending"
            page.evaluate("window.__same_document = true")
            result = Rewards({crew.trainer.address: (10**18, 1)}).result()
            propose_and_attest(system, crew, task_id, 1, result)
            page.wait_for_selector('#rounds-table tr[data-round="1"][data-status="quorum"]', timeout=10_000)
            backend.advance_time(WINDOW)
            system.market.finalize_round(task_id, 1, sender=crew.outsider)
            page.wait_for_selector('#rounds-table tr[data-round="1"][data-status="final"]', timeout=10_000)
            assert page.locator("#rounds-final").inner_text() == "1" == str(system.market.rounds_done(task_id))
            assert page.evaluate("window.__same_document") is True  # no reload happened
            assert page.errors == []


def test_the_static_report_opens_from_disk_with_its_curves_and_no_console_error(page, run):
    response = page.goto((run / "report.html").as_uri())
    assert response is None or response.ok
    page.wait_for_load_state("load")
    assert page.locator(".chart canvas").count() >= 4
    assert page.errors == []
    page.set_input_files("#model-file", str(run / "model.safetensors"))  # the file check works from disk too
    page.wait_for_function("document.getElementById('model-verdict').getAttribute('data-match') === 'true'")
