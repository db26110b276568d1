"""Screenshots of every dashboard page, for the README: `python docs/dashboard/screenshots.py RUN_DIR [--chain]`.

Serves RUN_DIR (a finished run) with the results source (with --chain: the chain source on
RUN_DIR/manifest.json and the node it names, which must still run) on a free port, opens each page in
Debian's chromium through Playwright (at 1,100 px, and the task page at 375 px too) and writes
docs/dashboard/<page>.png.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from fedstake.chain.anvil import free_port
from fedstake.dashboard.app import create_app
from fedstake.dashboard.results_source import ResultsSource
from fedstake.dashboard.source import DashboardSource

OUT = Path(__file__).parent


def _source(run_dir: Path, chain: bool) -> DashboardSource:
    if not chain:
        return ResultsSource(run_dir)
    from fedstake.chain.manifest import read_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.dashboard.chain_source import ChainSource

    manifest = read_manifest(run_dir / "manifest.json")
    return ChainSource.from_manifest(manifest, RpcBackend.over_http(manifest.rpc_url), manifest_path=run_dir /
                                     "manifest.json")


def main(run_dir: Path, chain: bool) -> None:
    data = json.loads((run_dir / "results.json").read_text())
    task = data["chain"]["task_id"]
    trainer = max((p for p in data["participants"] if p["role"] == "trainer"), key=lambda p: p["rewards_claimed"])
    pages = {"tasks": "/", "task": f"/tasks/{task}", "participants": f"/tasks/{task}/participants",
             "participant": f"/tasks/{task}/participants/{trainer['address']}", "disputes": f"/tasks/{task}/disputes",
             "model": f"/tasks/{task}/model"}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(_source(run_dir, chain)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for width, suffix in ((1100, ""), (375, "-375")):
                page = browser.new_page(viewport={"width": width, "height": 800})
                for name, path in pages.items():
                    if suffix and name != "task":
                        continue
                    page.goto(f"http://127.0.0.1:{port}{path}")
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=OUT / f"{name}{suffix}.png", full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--chain" in sys.argv[2:])
