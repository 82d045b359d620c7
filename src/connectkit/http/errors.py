"""HTTP failures mapped into :mod:`connectkit.errors`, with token-free URLs.

=========================  ==============================================
HTTP                       raised
=========================  ==============================================
401                        InvalidCredentialsError
403                        AccessNotGrantedError
404, 410                   NotFoundError
429                        RateLimitedError (``retry_after`` from header)
5xx, timeouts, no connect  UpstreamUnavailableError
other 4xx                  BadResponseError
undecodable JSON           BadResponseError (``url`` set)
=========================  ==============================================
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from connectkit.errors import (
    AccessNotGrantedError,
    BadResponseError,
    ConnectorError,
    InvalidCredentialsError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from connectkit.http.client import safe_url


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date).

    ``now`` is the current UNIX time (injectable for tests). Returns None when the value
    is missing or unreadable; never a negative number.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_for_status(response: httpx.Response, now: float | None = None) -> ConnectorError | None:
    """The connectkit error a response stands for, or None for a success (2xx/3xx)."""
    status = response.status_code
    if status < 400:
        return None
    where = f"{response.request.method} {safe_url(response.request.url)}"
    if status == 401:
        return InvalidCredentialsError(f"the MIS refused the credentials (HTTP 401) for {where}")
    if status == 403:
        return AccessNotGrantedError(f"access not granted or scope missing (HTTP 403) for {where}")
    if status in (404, 410):
        return NotFoundError(f"not found (HTTP {status}) at {where}")
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"), now)
        return RateLimitedError(f"rate limited (HTTP 429) at {where}", retry_after=wait)
    if status >= 500:
        return UpstreamUnavailableError(f"MIS unavailable (HTTP {status}) at {where}")
    return BadResponseError(f"unexpected HTTP {status}", url=safe_url(response.request.url))


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Return ``response`` if it succeeded, else raise its mapped connectkit error."""
    error = error_for_status(response)
    if error is not None:
        raise error
    return response


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> UpstreamUnavailableError:
    """A timeout or connection failure as an UpstreamUnavailableError (URL redacted)."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return UpstreamUnavailableError(
        f"{request.method} {safe_url(request.url)} {kind} ({type(exc).__name__})"
    )


def decode_json(response: httpx.Response) -> Any:
    """Decode the body as JSON with orjson; an empty body is None.

    Raises BadResponseError naming the token-free URL when the body is not JSON
    (e.g. a truncated page).
    """
    body = response.content
    if not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadResponseError(
            f"response is not valid JSON ({exc.msg} at byte {exc.pos})",
            url=safe_url(response.request.url),
        ) from None
