"""Faults on demand: the connector copes, or fails cleanly naming the page (no token)."""

from __future__ import annotations

import pytest

from connectkit.errors import (
    BadResponseError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from connectkit.models import Role
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import DEFAULT_TOKEN

WONDE = WondeConnector()


def _ids(ctx, role=Role.STUDENT):
    return [
        p.mis_id
        for page in WONDE.connectkit_fetch_people(ctx=ctx, role=role, since=None, cursor=None)
        for p in page.people
    ]


def test_rate_limit_every_third_request_is_absorbed(make_ctx, emulator) -> None:
    baseline = _ids(make_ctx())
    emulator.set_faults({"rate_limit_every": 3, "retry_after": "0"})
    assert _ids(make_ctx()) == baseline
    assert emulator.requests > 8


def test_5xx_burst_is_retried(make_ctx, emulator) -> None:
    baseline = _ids(make_ctx())
    emulator.set_faults({"fail_next": 2, "fail_status": 502, "retry_after": "0"})
    assert _ids(make_ctx()) == baseline


def test_persistent_5xx_fails_with_page_url_and_no_token(make_ctx, emulator) -> None:
    emulator.set_faults({"fail_next": 100, "fail_status": 503, "retry_after": "0"})
    with pytest.raises(UpstreamUnavailableError) as info:
        _ids(make_ctx(max_attempts=3))
    assert "/v1.0/schools/A1930499544" in str(info.value)
    assert DEFAULT_TOKEN not in str(info.value)


def test_retry_after_beyond_budget_surfaces_rate_limited(make_ctx, emulator) -> None:
    emulator.set_faults({"rate_limit_every": 1, "retry_after": "600"})
    with pytest.raises(RateLimitedError) as info:
        WONDE.connectkit_check_credentials(ctx=make_ctx())
    assert info.value.retry_after == 600


def test_truncated_page_fails_naming_the_page_then_resumes(make_ctx, emulator) -> None:
    ctx = make_ctx(per_page=25)
    pages = []
    emulator.set_faults({"truncate_every": 3})
    walk = WONDE.connectkit_fetch_people(ctx=ctx, role=Role.STUDENT, since=None, cursor=None)
    with pytest.raises(BadResponseError) as info:
        pages.extend(walk)
    assert "students" in (info.value.url or "")
    assert "page=" in (info.value.url or "")
    emulator.set_faults({"truncate_every": 0})
    rest = list(
        WONDE.connectkit_fetch_people(
            ctx=ctx, role=Role.STUDENT, since=None, cursor=pages[-1].cursor
        )
    )
    ids = [p.mis_id for page in [*pages, *rest] for p in page.people]
    assert ids == _ids(make_ctx(per_page=25))


def test_slow_responses_time_out_cleanly(make_ctx, emulator) -> None:
    emulator.set_faults({"delay_ms": 400})
    with pytest.raises(UpstreamUnavailableError, match="timed out"):
        WONDE.connectkit_check_credentials(ctx=make_ctx(timeout=0.1, max_attempts=2))


def test_regional_domain_is_followed(make_ctx, emulator) -> None:
    emulator.set_faults({"wrong_region": True})
    assert len(_ids(make_ctx())) == 117
    with pytest.raises(NotFoundError, match="regional domain"):
        _ids(make_ctx(follow_region=False))
