"""The shared HTTP layer every connector uses.

- :func:`make_client`: one httpx client factory (timeouts, user agent, an Authorization
  header built from a :class:`~connectkit.secrets.Secret`, redacting log hooks,
  injectable transport).
- :class:`RetryPolicy` / :func:`send`: bounded retries with exponential backoff and full
  jitter, honouring ``Retry-After``; idempotent methods only.
- :func:`raise_for_status` / :func:`decode_json`: HTTP failures mapped into
  :mod:`connectkit.errors`.
- :mod:`connectkit.http.paginate`: next-URL, page-number and cursor paginators that
  yield one page at a time and detect loops.
"""

from __future__ import annotations

from connectkit.http.client import make_client, safe_url
from connectkit.http.errors import decode_json, raise_for_status
from connectkit.http.paginate import (
    Page,
    paginate_cursor,
    paginate_next_url,
    paginate_page_number,
)
from connectkit.http.retry import RetryPolicy, parse_retry_after, send

__all__ = [
    "Page",
    "RetryPolicy",
    "decode_json",
    "make_client",
    "paginate_cursor",
    "paginate_next_url",
    "paginate_page_number",
    "parse_retry_after",
    "raise_for_status",
    "safe_url",
    "send",
]
