"""The run report as one self-contained HTML file: the dashboard's templates, rendered once.

`simulate`'s report.html is this export: the same rounds, curves, participants, disputes
and model sections as the live pages, with the CSS and the vendored JavaScript inlined,
so it opens from disk with no server and fetches nothing. Jinja2 alone (no FastAPI):
writing a report must not pay for importing a web framework.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from fedstake.dashboard.format import FILTERS
from fedstake.dashboard.results_source import ResultsSource
from fedstake.dashboard.views import RoundView

HERE = Path(__file__).parent
CSS = ("dashboard.css", "uPlot.min.css")
JS = ("uPlot.iife.min.js", "sha3.min.js", "dashboard.js")


def series(rounds: list[RoundView]) -> str:
    """The curves' data as JSON for a page: rounds, accuracy, loss, tokens paid, gas (null where unknown)."""
    return json.dumps({"round": [r.round for r in rounds], "accuracy": [r.accuracy for r in rounds],
                       "loss": [r.loss for r in rounds],
                       "paid": [None if r.paid is None else r.paid / 10**18 for r in rounds],
                       "gas": [r.gas for r in rounds]})


def _inlined(names: tuple[str, ...]) -> str:
    # a vendored file holding "</script" would end the inline element early: escape it
    return "\n".join((HERE / "static" / n).read_text().replace("</script", "<\\/script") for n in names)


def render_report(run_dir: str | Path) -> str:
    """report.html for the run in `run_dir` (its results.json), self-contained."""
    source = ResultsSource(run_dir)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(FILTERS)
    task_id = source.task_id
    rounds = source.rounds(task_id)
    return env.get_template("report.html").render(
        inline={"css": _inlined(CSS), "js": _inlined(JS)}, source_label=f"fedstake {source.data['fedstake_version']}",
        task=source.task(task_id), rounds=rounds, series=series(rounds), rows=source.participants(task_id),
        disputes=source.disputes(task_id), model=source.model(task_id), final=source.data["final"],
        gas=source.data["chain"]["gas"])


def write_report_html(run_dir: str | Path) -> Path:
    path = Path(run_dir) / "report.html"
    path.write_text(render_report(run_dir))
    return path
