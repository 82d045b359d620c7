"""A Wonde-compatible ASGI app, built from ``reference/wonde-api.md``.

It serves the v1.0 envelope (``data`` + ``meta.pagination.next``), includes, the
``updated_after`` filter, deletions, attendance codes, photos, session/lesson write-back
with ``/writebacks/{id}``, request-access and the access lists, for any number of
synthetic schools (:mod:`.data`). Faults come on demand (:class:`.state.Faults`): 429
every Nth request with ``Retry-After``, 5xx bursts, slow answers, truncated pages, a
wrong regional domain, scopes that null fields, write-backs that fail after recording.

Admin endpoints under ``/_emulator`` (no auth) let a test or a person drive it:
``GET state``, ``POST faults`` (JSON), ``POST reset``, ``POST schools`` (JSON School
fields), ``POST schools/{id}/access`` (``{"state": ...}``), ``POST schools/{id}/advance``
(``{"changes": n}``), ``GET ledger``.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import asdict
from datetime import UTC

from connectkit_wonde.emulator import routes
from connectkit_wonde.emulator.data import School
from connectkit_wonde.emulator.http import (
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error,
    json_response,
    read_request,
    write_response,
)
from connectkit_wonde.emulator.state import EmulatorState

API_PREFIX = "/v1.0"
ADMIN_PREFIX = "/_emulator"


class WondeEmulator:
    """The ASGI application; ``state`` is shared with whoever drives the emulator."""

    def __init__(self, state: EmulatorState | None = None) -> None:
        self.state = state or EmulatorState()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        response = await self._respond(request)
        if response.delay:
            await asyncio.sleep(response.delay)
        await write_response(send, response)

    async def _respond(self, request: Request) -> Response:
        if request.path.startswith(ADMIN_PREFIX):
            return self._admin(request)
        if not request.path.startswith(API_PREFIX):
            return error(404, "not found")
        faults = self.state.faults
        number = self.state.next_request()
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if faults.rate_limit_every and number % faults.rate_limit_every == 0:
            return error(429, "Too Many Requests", {"retry-after": faults.retry_after})
        failure = self.state.take_failure()
        if failure is not None:
            return error(failure, "Service Unavailable", {"retry-after": faults.retry_after})
        if not self._authorised(request):
            return error(401, "Unauthenticated.")
        try:
            return routes.route(self.state, request, request.path[len(API_PREFIX) :])
        except routes.Invalid as exc:
            return error(422, str(exc))

    def _authorised(self, request: Request) -> bool:
        value = request.headers.get("authorization", "")
        scheme, _, credential = value.partition(" ")
        if scheme.lower() == "bearer":
            return credential in self.state.tokens
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                return False
            return user in self.state.tokens
        return False

    # --- admin -------------------------------------------------------------------------

    def _admin(self, request: Request) -> Response:
        parts = request.path[len(ADMIN_PREFIX) :].strip("/").split("/")
        body = request.json() if request.method == "POST" else None
        state = self.state
        if parts == ["state"]:
            return json_response(
                {
                    "requests": state.requests,
                    "faults": asdict(state.faults),
                    "schools": {
                        k: asdict(v) | {"changes": len(v.changes)} for k, v in state.schools.items()
                    },
                }
            )
        if parts == ["ledger"]:
            ledger = state.ledger
            return json_response(
                {
                    "marks": len(ledger.marks),
                    "posts": ledger.posts,
                    "duplicates": ledger.duplicates,
                    "writebacks": len(ledger.writebacks),
                }
            )
        if parts == ["faults"] and request.method == "POST":
            try:
                return json_response(asdict(state.set_faults(dict(body or {}))))
            except KeyError as exc:
                return error(422, f"unknown fault {exc}")
        if parts == ["reset"] and request.method == "POST":
            state.reset()
            return json_response({"ok": True})
        if parts == ["schools"] and request.method == "POST":
            school = state.add_school(School(**dict(body or {})))
            return json_response(asdict(school) | {"changes": 0})
        if len(parts) == 3 and parts[0] == "schools" and parts[1] in state.schools:
            school = state.schools[parts[1]]
            if parts[2] == "access" and request.method == "POST":
                school.access = str((body or {}).get("state", "approved"))
                return json_response({"id": school.id, "access": school.access})
            if parts[2] == "advance" and request.method == "POST":
                changed = school.advance(int((body or {}).get("changes", 1)))
                return json_response(
                    {"now": school.now.astimezone(UTC).isoformat(), "changed": changed}
                )
        return error(404, "unknown admin endpoint")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
