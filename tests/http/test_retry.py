from __future__ import annotations

import email.utils
from collections.abc import Callable

import httpx
import pytest

from connectkit.errors import InvalidCredentialsError, RateLimitedError, UpstreamUnavailableError
from connectkit.http import RetryPolicy, make_client, send


class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, **kwargs: float) -> RetryPolicy:
        return RetryPolicy(
            sleep=self.sleep,
            clock=lambda: self.now,
            wall_clock=lambda: 1_700_000_000.0 + self.now,
            rng=lambda: 0.5,
            **kwargs,  # type: ignore[arg-type]
        )


def _scripted(statuses: list[int | Exception], headers: dict[str, str] | None = None):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = statuses[min(len(calls) - 1, len(statuses) - 1)]
        if isinstance(item, Exception):
            raise item
        return httpx.Response(
            item, json={"n": len(calls)}, headers=headers if item != 200 else None
        )

    return handler, calls


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return make_client("https://mis.test/", auth=None, transport=httpx.MockTransport(handler))


def test_429_honours_retry_after_seconds() -> None:
    handler, _calls = _scripted([429, 429, 200], {"Retry-After": "3"})
    clock = FakeTime()
    response = send(_client(handler), "GET", "x", policy=clock.policy())
    assert response.json() == {"n": 3}
    assert clock.sleeps == [3.0, 3.0]


def test_503_honours_retry_after_http_date() -> None:
    when = email.utils.formatdate(1_700_000_000.0 + 10, usegmt=True)
    handler, _calls = _scripted([503, 200], {"Retry-After": when})
    clock = FakeTime()
    send(_client(handler), "GET", "x", policy=clock.policy())
    assert clock.sleeps == [pytest.approx(10.0)]


def test_5xx_backs_off_exponentially_with_full_jitter() -> None:
    handler, calls = _scripted([500, 502, 504, 200])
    clock = FakeTime()
    send(_client(handler), "GET", "x", policy=clock.policy(base_delay=1.0))
    # rng=0.5 picks the middle of [0, 1], [0, 2], [0, 4]
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert len(calls) == 4


def test_jitter_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, rng=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_attempts_are_bounded() -> None:
    handler, calls = _scripted([503])
    clock = FakeTime()
    with pytest.raises(UpstreamUnavailableError, match="gave up after 4 attempt"):
        send(_client(handler), "GET", "x", policy=clock.policy(max_attempts=4))
    assert len(calls) == 4
    assert len(clock.sleeps) == 3


def test_total_time_is_bounded_and_rate_limit_keeps_retry_after() -> None:
    handler, calls = _scripted([429], {"Retry-After": "50"})
    clock = FakeTime()
    with pytest.raises(RateLimitedError) as info:
        send(_client(handler), "GET", "x", policy=clock.policy(max_total=120.0, max_attempts=10))
    assert clock.sleeps == [50.0, 50.0]
    assert info.value.retry_after == 50.0
    assert len(calls) == 3


def test_timeouts_are_retried() -> None:
    handler, calls = _scripted([httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), 200])
    clock = FakeTime()
    assert send(_client(handler), "GET", "x", policy=clock.policy()).status_code == 200
    assert len(calls) == 3


def test_post_is_never_retried_blindly() -> None:
    handler, calls = _scripted([503, 200])
    with pytest.raises(UpstreamUnavailableError):
        send(_client(handler), "POST", "x", json={"a": 1}, policy=FakeTime().policy())
    assert len(calls) == 1


def test_post_timeout_is_not_retried() -> None:
    handler, calls = _scripted([httpx.ReadTimeout("slow"), 200])
    with pytest.raises(UpstreamUnavailableError, match="timed out"):
        send(_client(handler), "POST", "x", json={}, policy=FakeTime().policy())
    assert len(calls) == 1


def test_post_marked_idempotent_is_retried() -> None:
    handler, calls = _scripted([503, 200])
    send(_client(handler), "POST", "x", json={}, idempotent=True, policy=FakeTime().policy())
    assert len(calls) == 2


def test_permanent_errors_are_not_retried() -> None:
    handler, calls = _scripted([401, 200])
    with pytest.raises(InvalidCredentialsError):
        send(_client(handler), "GET", "x", policy=FakeTime().policy())
    assert len(calls) == 1
