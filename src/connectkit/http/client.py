"""One httpx client factory for every connector.

The client carries a timeout, the ``connectkit/<version>`` user agent, the Authorization
header built from a :class:`~connectkit.secrets.Secret` (marked sensitive so httpx never
shows it) and event hooks that log each request and response with a redacted URL. The
header value is never logged; URLs pass through :func:`connectkit.secrets.redact`.
"""

from __future__ import annotations

import base64
import logging
import ssl
from functools import lru_cache
from importlib import metadata

import httpx

from connectkit.secrets import Secret, redact

log = logging.getLogger("connectkit.http")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def _version() -> str:
    try:
        return metadata.version("connectkit")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


USER_AGENT = f"connectkit/{_version()}"


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process (loading the CA bundle is slow; the
    context is thread-safe and shared by every client)."""
    return httpx.create_ssl_context()


def safe_url(url: httpx.URL | str) -> str:
    """The URL as text with user info dropped and any secret-looking part masked."""
    parsed = httpx.URL(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return redact(str(parsed))


def _log_request(request: httpx.Request) -> None:
    log.debug("HTTP %s %s", request.method, safe_url(request.url))


def _log_response(response: httpx.Response) -> None:
    request = response.request
    log.debug("HTTP %s %s -> %s", request.method, safe_url(request.url), response.status_code)


def auth_header(auth: Secret, scheme: str = "Bearer") -> str:
    """The Authorization value for ``auth``: ``Bearer <token>`` or ``Basic`` token-as-user."""
    if scheme.lower() == "basic":
        raw = base64.b64encode(f"{auth.reveal()}:".encode()).decode("ascii")
        return f"Basic {raw}"
    return f"{scheme} {auth.reveal()}"


def make_client(
    base_url: str,
    *,
    auth: Secret | None,
    transport: httpx.BaseTransport | None = None,
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    user_agent: str = USER_AGENT,
    auth_scheme: str = "Bearer",
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """Build the httpx client a connector uses for one integration.

    ``auth`` becomes the Authorization header (``auth_scheme`` ``Bearer`` or ``Basic``);
    ``transport`` replaces the network (tests, emulator); ``timeout`` is in seconds or an
    :class:`httpx.Timeout`. Redirects are not followed (a redirect would carry the token
    elsewhere). The caller closes the client.
    """
    all_headers = {"User-Agent": user_agent, "Accept": "application/json"}
    all_headers.update(headers or {})
    client = httpx.Client(
        base_url=base_url,
        headers=all_headers,
        transport=transport,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        follow_redirects=False,
        verify=default_ssl_context(),
        event_hooks={"request": [_log_request], "response": [_log_response]},
    )
    if auth is not None:
        value = auth_header(auth, auth_scheme)
        client.headers["Authorization"] = value
    return client
