from __future__ import annotations

import pytest

from connectkit.errors import PaginationLoopError
from connectkit.http import paginate_cursor, paginate_next_url, paginate_page_number


def test_next_url_follows_until_none_and_is_lazy() -> None:
    pages = {"a": ("b", [1]), "b": ("c", [2]), "c": (None, [3])}
    fetched: list[str] = []

    def fetch(url: str) -> tuple[str | None, list[int]]:
        fetched.append(url)
        return pages[url]

    walk = paginate_next_url(fetch, "a", lambda p: p[0])
    first = next(walk)
    assert first.ref == "a"
    assert first.next == "b"
    assert fetched == ["a"]
    assert [page.payload[1] for page in walk] == [[2], [3]]
    assert fetched == ["a", "b", "c"]


def test_next_url_loop_is_detected() -> None:
    pages = {"a": "b", "b": "a"}
    with pytest.raises(PaginationLoopError, match="already read"):
        list(paginate_next_url(lambda u: u, "a", lambda p: pages[p]))


def test_max_pages_bounds_the_walk() -> None:
    with pytest.raises(PaginationLoopError, match="within 5 pages"):
        list(paginate_next_url(lambda u: u, "0", lambda p: str(int(p) + 1), max_pages=5))


def test_cursor_paginator_resumes_and_detects_loops() -> None:
    chain = {None: "c1", "c1": "c2", "c2": None}
    refs = [page.ref for page in paginate_cursor(lambda c: c, lambda p: chain[p])]
    assert refs == ["", "c1", "c2"]
    assert [p.ref for p in paginate_cursor(lambda c: c, lambda p: chain[p], start="c1")] == [
        "c1",
        "c2",
    ]
    looping = {None: "c1", "c1": "c1"}
    with pytest.raises(PaginationLoopError):
        list(paginate_cursor(lambda c: c, lambda p: looping[p]))


def test_page_number_stops_on_has_more_false() -> None:
    pages = [page.payload for page in paginate_page_number(lambda n: [n], lambda p, n: n < 4)]
    assert pages == [[1], [2], [3], [4]]


def test_page_number_detects_server_ignoring_page() -> None:
    with pytest.raises(PaginationLoopError, match="repeats"):
        list(paginate_page_number(lambda n: [1, 2], lambda p, n: True, fingerprint=tuple))


def test_prefetch_reads_one_page_ahead_and_keeps_order() -> None:
    import threading

    pages = {"a": "b", "b": "c", "c": None}
    fetched: list[str] = []
    threads: set[str] = set()

    def fetch(url: str) -> str:
        fetched.append(url)
        threads.add(threading.current_thread().name)
        return url

    walk = paginate_next_url(fetch, "a", lambda p: pages[p], prefetch=True)
    first = next(walk)
    assert first.ref == "a"
    assert len(fetched) <= 2  # never more than one page ahead
    assert [page.ref for page in walk] == ["b", "c"]
    assert fetched == ["a", "b", "c"]
    assert all(name.startswith("connectkit-prefetch") for name in threads)


def test_prefetch_raises_errors_where_the_page_would_be() -> None:
    def fetch(url: str) -> str:
        if url == "b":
            raise PaginationLoopError("boom")
        return url

    walk = paginate_next_url(fetch, "a", lambda p: "b", prefetch=True)
    assert next(walk).ref == "a"
    with pytest.raises(PaginationLoopError, match="boom"):
        next(walk)


def test_prefetch_detects_loops_and_can_be_abandoned() -> None:
    with pytest.raises(PaginationLoopError, match="already read"):
        list(paginate_next_url(lambda u: u, "a", lambda p: "a", prefetch=True))
    walk = paginate_next_url(lambda u: u, "0", lambda p: str(int(p) + 1), prefetch=True)
    assert next(walk).ref == "0"
    walk.close()
