"""A run directory's published artifacts over HTTP: a read-only server and a checking client.

Each validator serves its run directory (`protocol/store.py` describes
it) so that any party can fetch the manifest, a round's rewards table or
a model and check it against the chain; whoever relays or serves the
bytes need not be trusted, because `fetch_table` recomputes the table's
root and `fetch_model` the model's keccak256. Only the published names
are served: a key file left in the directory stays private, and no path
climbs out of it. The server is the standard library's, in a thread.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fedstake.chain.manifest import MANIFEST, Manifest, parse_manifest
from fedstake.errors import FetchError
from fedstake.protocol.ledger import PublishedTable
from fedstake.protocol.store import checked_model, is_published_name, model_name, parse_table, table_name

_TYPES = {".json": "application/json", ".safetensors": "application/octet-stream"}


class _Handler(BaseHTTPRequestHandler):
    root: Path  # set by ArtifactServer on a subclass per server

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        name = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        try:
            payload = (self.root / name).read_bytes() if is_published_name(name) else None
        except OSError:
            payload = None
        if payload is None:
            self.send_error(404, "not published here")
            return
        self.send_response(200)
        self.send_header("Content-Type", _TYPES[Path(name).suffix])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if with_body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a line on stderr per request would drown a role's own output."""


class ArtifactServer:
    """Serves `root`'s published artifacts at `url` until `close()` (or the end of a `with` block).

    `port=0` lets the OS pick a free port, so starting never races another process for one.
    """

    def __init__(self, root: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"root": Path(root)})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"artifacts:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        """Stop answering, free the port and wait for the serving thread; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> ArtifactServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_manifest(base_url: str, *, timeout: float = 10.0) -> Manifest:
    url = _join(base_url, MANIFEST)
    return parse_manifest(_get(url, timeout), source=url)


def fetch_model(base_url: str, model_hash: bytes, *, timeout: float = 60.0) -> bytes:
    """The model hashing to `model_hash` (read it from the chain), once its bytes are checked."""
    url = _join(base_url, model_name(model_hash))
    return checked_model(_get(url, timeout), model_hash, source=url)


def fetch_table(base_url: str, round: int, *, root: bytes | None = None, timeout: float = 10.0) -> PublishedTable:
    """The rewards table settled in `round`, every node recomputed; with `root` (the chain's
    rewards root), also checked to be the table the chain committed to."""
    url = _join(base_url, table_name(round))
    return parse_table(_get(url, timeout), source=url, root=root)


def _join(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/{name}"


def _get(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from None
