from __future__ import annotations

import email.utils

import httpx
import pytest

from connectkit.errors import (
    AccessNotGrantedError,
    BadResponseError,
    InvalidCredentialsError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from connectkit.http import decode_json, parse_retry_after, raise_for_status
from connectkit.secrets import Secret


def _response(
    status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "https://mis.test/v1.0/schools/A1/students?token=tok-abcdef123")
    return httpx.Response(status, content=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, InvalidCredentialsError),
        (403, AccessNotGrantedError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, UpstreamUnavailableError),
        (502, UpstreamUnavailableError),
        (503, UpstreamUnavailableError),
        (418, BadResponseError),
    ],
)
def test_status_maps_to_error_tree(status: int, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        raise_for_status(_response(status))
    assert "tok-abcdef123" not in str(info.value)
    assert "mis.test/v1.0/schools/A1/students" in str(info.value)


def test_success_passes_through() -> None:
    response = _response(200)
    assert raise_for_status(response) is response


def test_429_keeps_retry_after_seconds() -> None:
    with pytest.raises(RateLimitedError) as info:
        raise_for_status(_response(429, headers={"Retry-After": "7"}))
    assert info.value.retry_after == 7.0


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    value = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(value, now=now) == pytest.approx(42.0)
    assert parse_retry_after(email.utils.formatdate(now - 5, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("soon", None), ("-3", 0.0)]
)
def test_retry_after_unreadable_or_negative(value: str | None, expected: float | None) -> None:
    # unreadable: None (the caller uses its own backoff); negative: retry at once
    assert parse_retry_after(value) == expected


def test_bad_json_names_token_free_url() -> None:
    Secret("tok-abcdef123")
    with pytest.raises(BadResponseError) as info:
        decode_json(_response(200, b'{"data": [1, 2'))
    assert info.value.url is not None
    assert "tok-abcdef123" not in info.value.url
    assert "tok-abcdef123" not in str(info.value)
    assert "schools/A1/students" in info.value.url


def test_empty_body_is_none_and_json_decodes() -> None:
    assert decode_json(_response(200, b"  ")) is None
    assert decode_json(_response(200, b'{"a": [1]}')) == {"a": [1]}
