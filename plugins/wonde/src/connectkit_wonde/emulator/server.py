"""Serve an ASGI app with uvicorn on a loopback port, in a thread or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _server(app: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False)
    return uvicorn.Server(config)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket with Nagle off (accepted connections inherit TCP_NODELAY, so a
    response's header and body writes are not held back by delayed ACKs)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def serve_forever(app: Any, host: str, port: int) -> None:
    """Serve ``app`` in the foreground until interrupted."""
    sock = listening_socket(host, port)
    try:
        _server(app).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` on ``host:port`` (0: a free port) in a daemon thread; yields the base
    URL (``http://127.0.0.1:PORT``) once it accepts connections, stops it on exit."""
    sock = listening_socket(host, port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
