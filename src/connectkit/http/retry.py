"""Bounded retries with exponential backoff and full jitter, for idempotent requests.

:func:`send` retries a request that failed transiently (429, 5xx, timeouts, connection
failures) while the method is idempotent. A ``Retry-After`` header (seconds or an HTTP
date) is honoured: the wait is never shorter than it asks. Attempts and total time are
both bounded; when either runs out the mapped :class:`~connectkit.errors.RetryLaterError`
is raised. A POST is never retried unless the caller says it is idempotent. Sleep, clock
and randomness are injectable so tests run instantly and deterministically.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectkit.errors import ConnectorError, RateLimitedError, RetryLaterError
from connectkit.http.client import safe_url
from connectkit.http.errors import error_for_status, parse_retry_after, transport_error

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after", "send"]

log = logging.getLogger("connectkit.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``max_attempts`` in all (1 = no retry), each wait drawn uniformly
    from ``[0, min(max_delay, base_delay * 2**(n-1))]`` (full jitter) but never below a
    ``Retry-After``; the sum of waits never exceeds ``max_total``."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_total: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    wall_clock: Callable[[], float] = field(default=time.time, compare=False)
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        """The jittered wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return self.rng() * ceiling

    def wait_for(self, attempt: int, retry_after: float | None) -> float:
        """The wait before the next attempt, honouring a server-given ``retry_after``."""
        jitter = self.backoff(attempt)
        return jitter if retry_after is None else max(retry_after, jitter)


NO_RETRY = RetryPolicy(max_attempts=1)


def _attempt(
    client: httpx.Client, request: httpx.Request, policy: RetryPolicy
) -> tuple[httpx.Response | None, ConnectorError | None, float | None]:
    try:
        response = client.send(request)
    except httpx.TransportError as exc:
        return None, transport_error(exc, request), None
    error = error_for_status(response, now=policy.wall_clock())
    if error is None:
        return response, None, None
    response.close()
    retry_after = parse_retry_after(response.headers.get("Retry-After"), policy.wall_clock())
    return response, error, retry_after


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    idempotent: bool | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request through ``client``, retrying transient failures per ``policy``.

    ``kwargs`` go to :meth:`httpx.Client.build_request` (``params``, ``json`` …).
    ``idempotent`` defaults to whether ``method`` is; a non-idempotent request gets one
    attempt. Returns a successful response; raises the mapped connectkit error otherwise
    (a :class:`RateLimitedError` keeps the server's ``retry_after``).
    """
    policy = policy or RetryPolicy()
    retryable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
    request = client.build_request(method, url, **kwargs)
    started = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        response, error, retry_after = _attempt(client, request, policy)
        if error is None and response is not None:
            return response
        assert error is not None
        if not retryable or not isinstance(error, RetryLaterError):
            raise error
        if attempt >= policy.max_attempts:
            raise _exhausted(error, request, attempt)
        wait = policy.wait_for(attempt, retry_after)
        if policy.clock() - started + wait > policy.max_total:
            raise _exhausted(error, request, attempt, retry_after)
        log.info(
            "retrying %s %s in %.2fs (attempt %d failed: %s)",
            method,
            safe_url(request.url),
            wait,
            attempt,
            error,
        )
        policy.sleep(wait)


def _exhausted(
    error: ConnectorError, request: httpx.Request, attempts: int, retry_after: float | None = None
) -> ConnectorError:
    message = f"{error} (gave up after {attempts} attempt(s))"
    if isinstance(error, RateLimitedError):
        return RateLimitedError(message, retry_after=retry_after or error.retry_after)
    new = type(error)(message)
    new.__cause__ = error
    return new
