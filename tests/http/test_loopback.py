"""The HTTP layer against a real server on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest

from connectkit.errors import BadResponseError, NotFoundError, UpstreamUnavailableError
from connectkit.http import RetryPolicy, decode_json, make_client, paginate_next_url, send
from connectkit.secrets import Secret

TOKEN = "0123456789abcdef0123456789abcdef01234567"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def test_real_paging_with_retry_and_auth(loopback, caplog: pytest.LogCaptureFixture) -> None:
    base, state = loopback
    with make_client(base, auth=Secret(TOKEN)) as client, caplog.at_level(logging.DEBUG):

        def fetch(url: str) -> dict:
            return decode_json(send(client, "GET", url, policy=FAST))

        data = [
            item
            for page in paginate_next_url(fetch, f"{base}/items", lambda p: p["next"])
            for item in page.payload["data"]
        ]
        assert data == [10, 11, 12, 20, 21, 22, 30, 31, 32]
        assert send(client, "GET", "/flaky", policy=FAST).json()["attempts"] == 3
    assert state.headers[-1]["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text
    assert "/items?page=2" in caplog.text


def test_real_timeout_maps_to_upstream_unavailable(loopback) -> None:
    base, _ = loopback
    with (
        make_client(base, auth=None, timeout=0.1) as client,
        pytest.raises(UpstreamUnavailableError, match="timed out"),
    ):
        send(client, "GET", "/slow", policy=RetryPolicy(max_attempts=2, base_delay=0.01))


def test_real_truncated_body_and_404(loopback) -> None:
    base, _ = loopback
    with make_client(base, auth=None) as client:
        with pytest.raises(BadResponseError, match="/broken"):
            decode_json(send(client, "GET", "/broken", policy=FAST))
        with pytest.raises(NotFoundError):
            send(client, "GET", "/missing", policy=FAST)


def test_real_post_is_sent_once(loopback) -> None:
    base, state = loopback
    with make_client(base, auth=None) as client, pytest.raises(UpstreamUnavailableError):
        send(client, "POST", "/write", json={"a": 1}, policy=FAST)
    assert state.hits["/write"] == 1
