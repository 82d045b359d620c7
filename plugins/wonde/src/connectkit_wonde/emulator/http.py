"""Minimal ASGI request/response plumbing for the emulator (no framework needed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    scheme: str
    body: bytes = b""

    @property
    def host(self) -> str:
        return self.headers.get("host", "127.0.0.1")

    def url_with(self, **changes: str) -> str:
        """This request's absolute URL with some query parameters replaced."""
        query = {**self.query, **changes}
        return f"{self.scheme}://{self.host}{self.path}?{urlencode(query)}"

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body.strip() else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait *after* the request took effect, before answering."""


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status, orjson.dumps(payload), {"content-type": "application/json", **(headers or {})}
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": {"code": status, "message": message}}, status, headers)


async def read_request(scope: Scope, receive: Receive) -> Request:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    query = dict(
        parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    )
    return Request(
        method=scope["method"],
        path=scope["path"].rstrip("/") or "/",
        query=query,
        headers=headers,
        scheme=scope.get("scheme", "http"),
        body=b"".join(chunks),
    )


async def write_response(send: Send, response: Response) -> None:
    headers = [(b"content-length", str(len(response.body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
