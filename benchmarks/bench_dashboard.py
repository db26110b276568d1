"""Time to load the dashboard's participants page and one participant page of a run.

`python benchmarks/bench_dashboard.py RUN_DIR [REPEATS]`: serves RUN_DIR with the results source
under uvicorn on a free port and loads each page in Debian's chromium (Playwright) REPEATS times,
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


def main(run_dir: Path, repeats: int) -> None:
    started = time.perf_counter()
    source = ResultsSource(run_dir)
    load_s = time.perf_counter() - started
    task = source.task_id
    rows = source.participants(task)
    trainer = max((p for p in rows if p.role == "trainer"), key=lambda p: p.earned or 0)
    pages = {"participants (50 a page, by earned)": f"/tasks/{task}/participants",
             "participants (50 a page, by address, page 10)": f"/tasks/{task}/participants?sort=address&order=asc&page=10",
             "participants (250 a page, last page)": f"/tasks/{task}/participants?size=250&page={-(-len(rows) // 250)}",
             "participant": f"/tasks/{task}/participants/{trainer.address}"}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(source), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    report = {"participants": len(rows), "results_load_s": round(load_s, 3)}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            for name, path in pages.items():
                times = []
                for _ in range(repeats):
                    begin = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}{path}", wait_until="load")
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
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10)
