"""Time to load the dashboard's participants page and one participant page of a run.

`python benchmarks/bench_dashboard.py RUN_DIR [REPEATS] [--chain]`: serves RUN_DIR with the results
source (with --chain: the chain source on RUN_DIR/manifest.json and the node it names) under uvicorn on a free port and loads each page in Debian's chromium (Playwright) REPEATS times,
from navigation to the load event; prints the median and the worst, and last one JSON object.
"""

from __future__ import annotations

import json
import statistics
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


def _source(run_dir: Path, chain: bool) -> DashboardSource:
    if not chain:
        return ResultsSource(run_dir)
    from fedstake.chain.manifest import read_manifest
    from fedstake.chain.rpc import RpcBackend
    from fedstake.dashboard.chain_source import ChainSource

    manifest = read_manifest(run_dir / "manifest.json")
    return ChainSource.from_manifest(manifest, RpcBackend.over_http(manifest.rpc_url),
                                     manifest_path=run_dir / "manifest.json")


def main(run_dir: Path, repeats: int, chain: bool) -> None:
    started = time.perf_counter()
    source = _source(run_dir, chain)
    task = source.tasks()[0].task_id
    load_s = time.perf_counter() - started
    rows = source.participants(task)
    trainer = max((p for p in rows if p.role == "trainer"), key=lambda p: p.earned or 0)
    middle = min(10, -(-len(rows) // 50))
    pages = {"participants (50 a page, by earned)": f"/tasks/{task}/participants",
             f"participants (50 a page, by address, page {middle})": f"/tasks/{task}/participants?sort=address&order=asc&page={middle}",
             "participants (250 a page, last page)": f"/tasks/{task}/participants?size=250&page={-(-len(rows) // 250)}",
             "participant": f"/tasks/{task}/participants/{trainer.address}"}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(source), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    report = {"source": "chain" if chain else "results", "participants": len(rows), "source_load_s": round(load_s, 3)}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            for name, path in pages.items():
                times = []
                for _ in range(repeats):
                    begin = time.perf_counter()
                    response = page.goto(f"http://127.0.0.1:{port}{path}", wait_until="load")
                    assert response.status == 200, (path, response.status)
                    times.append(time.perf_counter() - begin)
                median, worst = statistics.median(times), max(times)
                print(f"{name}: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms over {repeats}")
                report[name] = {"median_ms": round(median * 1000), "worst_ms": round(worst * 1000)}
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    print(json.dumps(report))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--chain"]
    main(Path(args[0]), int(args[1]) if len(args) > 1 else 10, "--chain" in sys.argv[1:])
