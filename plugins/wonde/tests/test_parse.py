from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectkit_wonde.parse import (
    as_int,
    format_updated_after,
    next_page_url,
    parse_date,
    parse_datetime,
    relation,
    relation_id,
    relation_list,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"date": "2023-07-24 13:05:36.000000", "timezone_type": 3, "timezone": "UTC"},
            datetime(2023, 7, 24, 13, 5, 36, tzinfo=UTC),
        ),
        (
            {"date": "2022-01-28 15:45:10", "timezone_type": 3, "timezone": "UTC"},
            datetime(2022, 1, 28, 15, 45, 10, tzinfo=UTC),
        ),
        (
            {"date": "2024-07-01 09:00:00.000000", "timezone": "Europe/London"},
            datetime(2024, 7, 1, 8, 0, tzinfo=UTC),
        ),
        ("2024-02-22 10:00:00", datetime(2024, 2, 22, 10, 0, tzinfo=UTC)),
        ("2024-02-22", datetime(2024, 2, 22, tzinfo=UTC)),
        (None, None),
        ({"date": None}, None),
    ],
)
def test_datetimes_are_read_leniently(value: object, expected: datetime | None) -> None:
    assert parse_datetime(value) == expected


def test_unreadable_datetime_raises() -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_datetime({"date": "yesterday"})


def test_date_of_birth_keeps_calendar_date_without_zone_shift() -> None:
    assert parse_date({"date": "2012-09-29 00:00:00.000000", "timezone": "Europe/London"}) == date(
        2012, 9, 29
    )
    assert parse_date("2012-09-29") == date(2012, 9, 29)
    assert parse_date(None) is None
    with pytest.raises(ValueError, match="not a date"):
        parse_date("29/09")


def test_relations_in_every_shape() -> None:
    assert relation({"data": {"id": "A1"}}) == {"id": "A1"}
    assert relation({"data": None}) is None
    assert relation("A1378534773") == "A1378534773"
    assert relation_id("A1378534773") == "A1378534773"
    assert relation_id({"data": {"id": "A9"}}) == "A9"
    assert relation_id(None) is None
    assert relation_list({"data": [1, 2]}) == [1, 2]
    assert relation_list({"data": None}) == []
    assert relation_list(None) == []


def test_per_page_string_or_int() -> None:
    assert as_int("200") == 200
    assert as_int(50) == 50
    assert as_int("lots", 7) == 7
    assert as_int(True, 1) == 1


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"data": [], "meta": {"pagination": {"next": "https://x/2", "more": True}}},
            "https://x/2",
        ),
        ({"data": [], "meta": {"pagination": {"next": "https://x/2", "more": False}}}, None),
        ({"data": [], "meta": {"pagination": {"next": None, "more": True}}}, None),
        ({"data": [], "meta": {"includes": []}}, None),
        ({"data": []}, None),
        (None, None),
    ],
)
def test_next_page_rules(payload: object, expected: str | None) -> None:
    assert next_page_url(payload) == expected


def test_updated_after_format_is_utc() -> None:
    from datetime import timedelta, timezone

    moment = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_updated_after(moment) == "2024-06-01 11:00:00"
