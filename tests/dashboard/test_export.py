"""simulate's report.html: the dashboard's sections, self-contained, with the numbers of results.json."""

import json
import re

from fedstake.dashboard.format import tokens


def test_the_report_shows_the_numbers_of_results_json(embedded_run):
    data = json.loads((embedded_run / "results.json").read_text())
    page = (embedded_run / "report.html").read_text()
    final = data["final"]
    assert f'id="final-accuracy">{final["accuracy"]:.4f}<' in page
    for key in ("budget", "paid", "refunded"):
        assert f'id="{key}" data-base-units="{final[key]}"><span class="amount" title="{final[key]} base units">' \
               f'{tokens(final[key])}</span>' in page
    assert page.count('data-status="final"') == len(data["rounds"])
    series = json.loads(re.search(r'<script type="application/json" id="series">(.*?)</script>', page).group(1))
    assert series["accuracy"] == [r["accuracy"] for r in data["rounds"]]
    assert series["loss"] == [r["loss"] for r in data["rounds"]]
    claimed = {a: int(c) for a, c in re.findall(r'data-address="(0x[0-9a-fA-F]{40})" data-claimed="(\d+)"', page)}
    assert claimed == {p["address"]: p["rewards_claimed"] for p in data["participants"]}
    outcomes = re.findall(r'data-dispute="(\d+)" data-outcome="(\w+)"', page)
    assert outcomes == [(str(d["id"]), "upheld" if d["upheld"] else "dismissed")
                        for r in data["rounds"] for d in r["disputes"]]
    assert f'data-hash="{final["model_hash"]}"' in page
    for operation, gas in data["chain"]["gas"].items():
        assert f"<tr><td>{operation}</td><td>{gas:,}</td></tr>" in page


def test_the_report_is_self_contained(embedded_run):
    page = (embedded_run / "report.html").read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(?!data:)', page)  # nothing fetched, from disk or net
    assert "uPlot" in page and "keccak256" in page and 'data-poll="' not in page
