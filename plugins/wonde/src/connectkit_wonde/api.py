"""A thin Wonde API client over the shared HTTP layer.

One :class:`WondeAPI` serves one connector operation for one school. It reads the school
once (``GET /schools/{id}``) to learn its regional domain and sends every school call
there (reference §1); it follows ``meta.pagination.next`` as given, only to the school's
own host (a ``next`` pointing elsewhere would carry the token away).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx
import msgspec

from connectkit.errors import BadResponseError, NotFoundError
from connectkit.http import (
    Page,
    RetryPolicy,
    decode_json,
    make_client,
    paginate_next_url,
    safe_url,
    send,
)
from connectkit_wonde import records
from connectkit_wonde.config import WondeConfig
from connectkit_wonde.parse import next_page_url

MAX_PAGES = 100_000


class WondeAPI:
    """Wonde REST calls for ``cfg.school_id``; use as a context manager."""

    def __init__(
        self,
        cfg: WondeConfig,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.cfg = cfg
        self.policy = policy or RetryPolicy(
            max_attempts=cfg.max_attempts,
            max_total=cfg.max_retry_seconds,
            base_delay=cfg.retry_base_delay,
        )
        self.client = make_client(
            cfg.base_url + "/",
            auth=cfg.token,
            transport=transport,
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            auth_scheme="Basic" if cfg.auth_scheme == "basic" else "Bearer",
        )
        self._school: dict[str, Any] | None = None

    def __enter__(self) -> WondeAPI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    # --- raw calls -------------------------------------------------------------------

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        decode: Callable[[httpx.Response], Any] = decode_json,
    ) -> Any:
        """GET ``url`` (absolute, or relative to ``base_url``) with retries; the body
        decoded by ``decode`` (JSON, by default)."""
        extra: dict[str, Any] = {"params": dict(params)} if params else {}
        response = send(self.client, "GET", url, policy=self.policy, **extra)
        return decode(response)

    def post(self, url: str, body: Any) -> httpx.Response:
        """POST once, never retried; the caller maps errors (write-back is not idempotent)."""
        request = self.client.build_request("POST", url, json=body)
        return self.client.send(request)

    # --- school and regional domain --------------------------------------------------

    def school(self) -> dict[str, Any]:
        """The school object (``data`` of ``GET /schools/{id}``), read once."""
        if self._school is None:
            try:
                payload = self.get(f"schools/{self.cfg.school_id}")
            except NotFoundError as exc:
                raise NotFoundError(
                    f"Wonde school {self.cfg.school_id} is unknown to this token "
                    f"or lives on another regional domain ({exc})"
                ) from None
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, dict) or not data.get("id"):
                raise BadResponseError(
                    "school response has no data object",
                    url=self._abs(f"schools/{self.cfg.school_id}"),
                )
            self._school = data
        return self._school

    def school_base(self) -> str:
        """``https://{region.domain}/v1.0/schools/{id}`` (or the configured base)."""
        base = httpx.URL(self.cfg.base_url + "/")
        domain = None
        if self.cfg.follow_region:
            region = self.school().get("region")
            domain = region.get("domain") if isinstance(region, dict) else None
        if isinstance(domain, str) and domain:
            host = httpx.URL(f"{base.scheme}://{domain}")
            base = base.copy_with(host=host.host, port=host.port)
        return str(base.join(f"schools/{self.cfg.school_id}")).rstrip("/")

    def _abs(self, path: str) -> str:
        return safe_url(self.client.base_url.join(path))

    # --- paging ----------------------------------------------------------------------

    def first_url(self, resource: str, params: Mapping[str, str | int]) -> str:
        """Absolute URL of page 1 of a school resource."""
        url = httpx.URL(f"{self.school_base()}/{resource}").copy_merge_params(dict(params))
        return str(url)

    def pages(self, url: str, prefetch: bool = False, lazy: bool = False) -> Iterator[Page]:
        """Pages of a list from ``url`` (page 1, or a stored next-URL to resume at);
        ``prefetch`` reads the next page while the caller maps the current one; ``lazy``
        leaves each record undecoded (:mod:`connectkit_wonde.records`)."""
        self.check_same_host(url)
        fetch = self._fetch_lazy_page if lazy else self._fetch_page
        return paginate_next_url(fetch, url, self._next, max_pages=MAX_PAGES, prefetch=prefetch)

    def global_pages(self, url: str) -> Iterator[Page]:
        """Pages of a global (not school-scoped) list on the configured base host."""
        return paginate_next_url(self._fetch_page, url, next_page_url, max_pages=MAX_PAGES)

    def _fetch_lazy_page(self, url: str) -> Any:
        return self._fetch_page(url, decode=_lazy_page)

    def _fetch_page(self, url: str, decode: Callable[[httpx.Response], Any] = decode_json) -> Any:
        try:
            payload = self.get(url, decode=decode)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{exc}; the school may live on another regional domain (follow_region)"
            ) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise BadResponseError("page has no data list", url=safe_url(url))
        return payload

    def _next(self, payload: Any) -> str | None:
        nxt = next_page_url(payload)
        if nxt is not None:
            self.check_same_host(nxt)
        return nxt

    def check_same_host(self, url: str) -> None:
        """Refuse a URL off the school's host: the token must not travel elsewhere."""
        target = httpx.URL(url)
        home = httpx.URL(self.school_base())
        if (target.scheme, target.host, target.port) != (home.scheme, home.host, home.port):
            raise BadResponseError("refusing a page URL on another host", url=safe_url(url))


def _lazy_page(response: httpx.Response) -> Any:
    """A people page with its records left as bytes (:func:`records.read_page`); None
    (no data list) for an empty body or one without a ``data`` list; BadResponseError
    naming the token-free URL when the body is not JSON (e.g. a truncated page)."""
    body = response.content
    if not body.strip():
        return None
    try:
        return records.read_page(body)
    except records.NotAPage:
        return None
    except msgspec.DecodeError as exc:
        raise BadResponseError(
            f"response is not valid JSON ({exc})", url=safe_url(response.request.url)
        ) from None
