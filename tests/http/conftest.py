"""A real HTTP server on 127.0.0.1 for the HTTP-layer tests (no mocks of the socket).

httpcore is imported here, at collection, so that it is in sys.modules before any pytester
run: pytester restores its sys.modules snapshot afterwards, and an httpcore first imported
inside such a run would be imported again later with new exception classes, which httpx's
cached exception map would then fail to translate (a raw httpcore.ReadTimeout).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpcore  # noqa: F401 - see the module docstring
import pytest


class _State:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def hit(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, format: str, *args: object) -> None:  # silence stderr
        return

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        count = self.state.hit(url.path)
        self.state.headers.append(dict(self.headers.items()))
        if url.path == "/items":
            page = int(query.get("page", ["1"])[0])
            nxt = f"http://{self.headers['Host']}/items?page={page + 1}" if page < 3 else None
            self._json(200, {"data": [page * 10 + i for i in range(3)], "next": nxt})
        elif url.path == "/flaky":
            if count < 3:
                self._json(503, {"error": "busy"}, {"Retry-After": "0"})
            else:
                self._json(200, {"ok": True, "attempts": count})
        elif url.path == "/slow":
            time.sleep(0.5)
            self._json(200, {"ok": True})
        elif url.path == "/broken":
            raw = b'{"data": [1, 2'
            self.send_response(200)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        else:
            self._json(404, {"error": "nope"})

    def do_POST(self) -> None:
        self.state.hit(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self._json(503, {"error": "busy"})


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[str, _State]]:
    """(base URL, request state) of a threaded HTTP server on a free loopback port."""
    state = _State()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
