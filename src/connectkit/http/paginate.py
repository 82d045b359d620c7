"""Generic paginators: next-URL, page-number and cursor, one page at a time.

Each paginator takes a ``fetch`` callable that returns one decoded page, and a small
function that reads where the next page is. Pages are yielded as soon as they arrive, so
memory holds one page whatever the size of the source. A paginator that is sent back to
a page it already read raises :class:`~connectkit.errors.PaginationLoopError` (a broken
server would otherwise loop for ever), and ``max_pages`` bounds the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectkit.errors import PaginationLoopError
from connectkit.secrets import redact


@dataclass(frozen=True)
class Page:
    """One decoded page: where it came from (``ref``: URL, page number or cursor),
    its payload, and where the next one is (None: this was the last page)."""

    ref: str
    payload: Any
    next: str | None


def _seen_guard(max_pages: int | None) -> Callable[[str], None]:
    seen: set[str] = set()

    def check(ref: str) -> None:
        if ref in seen:
            raise PaginationLoopError(f"pagination loop: page {redact(ref)} was already read")
        if max_pages is not None and len(seen) >= max_pages:
            raise PaginationLoopError(f"pagination did not end within {max_pages} pages")
        seen.add(ref)

    return check


def paginate_next_url(
    fetch: Callable[[str], Any],
    first_url: str,
    next_url: Callable[[Any], str | None],
    *,
    max_pages: int | None = None,
    prefetch: bool = False,
) -> Iterator[Page]:
    """Follow ``next_url(payload)`` from ``first_url`` until it returns None.

    With ``prefetch`` the next page is fetched in a helper thread while the caller works
    on the current one (at most one page ahead, so memory stays at two pages). Errors are
    raised where the page would have been yielded, exactly as without prefetch; ``fetch``
    must then be safe to call from another thread (an httpx client is).
    """
    check = _seen_guard(max_pages)
    if prefetch:
        yield from _prefetching(fetch, first_url, next_url, check)
        return
    url: str | None = first_url
    while url is not None:
        check(url)
        payload = fetch(url)
        following = next_url(payload)
        yield Page(ref=url, payload=payload, next=following)
        url = following


def _prefetching(
    fetch: Callable[[str], Any],
    first_url: str,
    next_url: Callable[[Any], str | None],
    check: Callable[[str], None],
) -> Iterator[Page]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connectkit-prefetch")
    url = first_url
    check(url)
    pending: Future[Any] = pool.submit(fetch, url)
    try:
        while True:
            payload = pending.result()
            following = next_url(payload)
            if following is not None:
                check(following)
                pending = pool.submit(fetch, following)
            yield Page(ref=url, payload=payload, next=following)
            if following is None:
                return
            url = following
    finally:
        # An abandoned walk does not wait for a page nobody will read.
        pool.shutdown(wait=False, cancel_futures=True)


def paginate_cursor(
    fetch: Callable[[str | None], Any],
    next_cursor: Callable[[Any], str | None],
    *,
    start: str | None = None,
    max_pages: int | None = None,
) -> Iterator[Page]:
    """Call ``fetch(cursor)`` from ``start`` (None: the beginning) while
    ``next_cursor(payload)`` gives a new cursor."""
    check = _seen_guard(max_pages)
    cursor = start
    while True:
        check("" if cursor is None else cursor)
        payload = fetch(cursor)
        following = next_cursor(payload)
        yield Page(ref="" if cursor is None else cursor, payload=payload, next=following)
        if following is None:
            return
        cursor = following


def paginate_page_number(
    fetch: Callable[[int], Any],
    has_more: Callable[[Any, int], bool],
    *,
    start: int = 1,
    fingerprint: Callable[[Any], Hashable] | None = None,
    max_pages: int | None = None,
) -> Iterator[Page]:
    """Call ``fetch(n)`` for n = start, start+1, … while ``has_more(payload, n)``.

    ``fingerprint(payload)`` (e.g. the ids on the page) detects a server that ignores
    the page number and keeps returning the same page: two equal fingerprints in a row
    raise PaginationLoopError.
    """
    check = _seen_guard(max_pages)
    number = start
    previous: Hashable | None = None
    while True:
        check(str(number))
        payload = fetch(number)
        if fingerprint is not None:
            current = fingerprint(payload)
            if previous is not None and current == previous:
                raise PaginationLoopError(f"page {number} repeats page {number - 1}")
            previous = current
        more = has_more(payload, number)
        yield Page(ref=str(number), payload=payload, next=str(number + 1) if more else None)
        if not more:
            return
        number += 1
