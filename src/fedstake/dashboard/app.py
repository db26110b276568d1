"""The dashboard's web app: server-rendered pages over one `DashboardSource`.

Pages are whole HTML from Jinja2 templates; the only JavaScript is the
vendored uPlot (curves), js-sha3 (a claim's Merkle proof and a model
file's hash, checked in the browser) and `dashboard.js`, which polls the
rounds fragment so a round turning final shows without a reload. A
missing task or participant answers 404, an unreachable node 503, a bad
query 400: each a page with one sentence, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from fedstake.dashboard.export import series
from fedstake.dashboard.format import FILTERS
from fedstake.dashboard.paging import PAGE_SIZES, SORT_KEYS, page_of
from fedstake.dashboard.source import DashboardSource
from fedstake.errors import ChainError, ConfigError, NotFound, Unreachable

HERE = Path(__file__).parent
POLL_MS = 1500


def templates() -> Jinja2Templates:
    """The page templates with fedstake's filters (shared with the static export)."""
    jinja = Jinja2Templates(directory=HERE / "templates")
    jinja.env.filters.update(FILTERS)
    return jinja


def _error(jinja: Jinja2Templates, request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return jinja.TemplateResponse(request, "error.html", {"title": title, "message": message}, status_code=status)


def create_app(source: DashboardSource) -> FastAPI:
    app = FastAPI(title="fedstake dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    jinja = templates()
    jinja.env.globals.update(source_label=source.label, poll_ms=POLL_MS)

    def page(request: Request, name: str, **context) -> HTMLResponse:
        return jinja.TemplateResponse(request, name, context)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return _error(jinja, request, 404, "Not found", str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_path(request: Request, exc: RequestValidationError):
        where = ".".join(str(p) for p in exc.errors()[0]["loc"][1:])
        return _error(jinja, request, 404, "Not found", f"{where}: {exc.errors()[0]['msg'].lower()}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(jinja, request, exc.status_code, "Not found" if exc.status_code == 404 else "Error",
                      f"{request.url.path}: no such page" if exc.status_code == 404 else str(exc.detail))

    @app.exception_handler(ConfigError)
    async def bad_query(request: Request, exc: ConfigError):
        return _error(jinja, request, 400, "Bad request", str(exc))

    @app.exception_handler(Exception)
    async def unavailable(request: Request, exc: Exception):
        """A node that went away (web3 raises OSError kinds) or any other failure: a sentence, no traceback."""
        if isinstance(exc, (OSError, Unreachable, ChainError)):
            return _error(jinja, request, 503, "Chain unavailable",
                          f"the chain node does not answer ({source.label}): {exc.__class__.__name__}. "
                          "Check that it runs, then reload.")
        return _error(jinja, request, 500, "Error", f"the dashboard failed: {exc.__class__.__name__}: {exc}")

    @app.get("/", response_class=HTMLResponse)
    def tasks(request: Request):
        return page(request, "tasks.html", tasks=source.tasks())

    @app.get("/tasks/{task_id}", response_class=HTMLResponse)
    def task(request: Request, task_id: int):
        rounds = source.rounds(task_id)
        return page(request, "task.html", task=source.task(task_id), rounds=rounds, series=series(rounds),
                    has_edge=source.edge(task_id) is not None)

    @app.get("/tasks/{task_id}/rounds", response_class=HTMLResponse)
    def rounds_fragment(request: Request, task_id: int):
        return page(request, "rounds.html", task=source.task(task_id), rounds=source.rounds(task_id))

    @app.get("/tasks/{task_id}/rounds.json")
    def rounds_json(task_id: int):
        """Amounts as decimal strings: JSON numbers lose precision above 2**53 in JavaScript."""
        return JSONResponse([{**r.__dict__, "paid": None if r.paid is None else str(r.paid)}
                             for r in source.rounds(task_id)])

    @app.get("/tasks/{task_id}/participants", response_class=HTMLResponse)
    def participants(request: Request, task_id: int, sort: str = "earned", order: str = "desc", page_: int = Query(1, alias="page"),
                     size: int = 50):
        chosen = page_of(source.participants(task_id), sort=sort, order=order, page=page_, size=size)
        return page(request, "participants.html", task=source.task(task_id), view=chosen, sort_keys=SORT_KEYS,
                    page_sizes=PAGE_SIZES, participants_note=source.participants_note)

    @app.get("/tasks/{task_id}/participants/{address}", response_class=HTMLResponse)
    def participant(request: Request, task_id: int, address: str):
        detail = source.participant(task_id, address)
        return page(request, "participant.html", task=source.task(task_id), detail=detail)

    @app.get("/tasks/{task_id}/disputes", response_class=HTMLResponse)
    def disputes(request: Request, task_id: int):
        return page(request, "disputes.html", task=source.task(task_id), disputes=source.disputes(task_id))

    @app.get("/tasks/{task_id}/model", response_class=HTMLResponse)
    def model(request: Request, task_id: int):
        return page(request, "model.html", task=source.task(task_id), model=source.model(task_id))

    @app.get("/tasks/{task_id}/edge", response_class=HTMLResponse)
    def edge(request: Request, task_id: int):
        rows = source.edge(task_id)
        if rows is None:
            raise NotFound(f"task {task_id} ran without a simulated edge: there is no edge view")
        return page(request, "edge.html", task=source.task(task_id), rows=rows)

    return app

