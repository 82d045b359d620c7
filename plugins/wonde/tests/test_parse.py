from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from connectkit_wonde import parse
from connectkit_wonde.parse import (
    as_int,
    format_updated_after,
    next_page_url,
    parse_date,
    parse_datetime,
    read_date,
    read_datetime,
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


# --- the UTC fast path and the caches agree exactly with the general path ----------------


def _outcome(read: Callable[[object], object], value: object) -> str:
    """What ``read(value)`` gives, as text exact enough to tell any two answers apart."""
    try:
        return repr(read(value))
    except ValueError as exc:
        return f"ValueError: {exc}"


_SHAPES = ("2023-07-24 13:05:36.000000", "2022-01-28 15:45:10", "2024-02-29T23:59:59.999999")
_CHARS = "0123456789 T:-.+Z,zW/\t\u0663\u00e9"


def _utc_strings() -> list[str]:
    """Both Wonde UTC shapes, every one-character change of them, and random two- and
    three-character changes (lengths kept, so each one is a fast-path candidate)."""
    found = set(_SHAPES)
    for shape in _SHAPES:
        for at in range(len(shape)):
            for char in _CHARS:
                found.add(shape[:at] + char + shape[at + 1 :])
    rng = random.Random(20261129)
    for _ in range(6000):
        text = list(rng.choice(_SHAPES))
        for _ in range(rng.choice((2, 3))):
            text[rng.randrange(len(text))] = rng.choice(_CHARS)
        found.add("".join(text))
    found.update(("2023-07-24 13:05:36.1+0100", "2023-07-24 13:05:36.12345Z",
                  "2023-07-24 13:05:36-01:00", "2023-07-24 13:05:+1:00", "20230724T130536.1234567",
                  "2023-07-24 13:05:36.00000 ", " 2023-07-24 13:05:36", "2023-07-24"))  # fmt: skip
    return sorted(found)


def test_utc_fast_path_and_cache_agree_with_the_general_path() -> None:
    strings = _utc_strings()
    assert len(strings) > 5000
    fast = 0
    for text in strings:
        value = {"date": text, "timezone_type": 3, "timezone": "UTC"}
        expected = _outcome(read_datetime, value)
        assert _outcome(parse_datetime, value) == expected, text
        assert _outcome(parse_datetime, dict(value)) == expected, text  # from the cache
        fast += not expected.startswith("ValueError") and len(text) in (19, 26)
    assert fast > 500  # many of them really are readable, fast-path-sized dates


def test_utc_fast_path_keeps_the_utc_singleton_and_honours_offsets() -> None:
    first = parse_datetime({"date": "2023-07-24 13:05:36.000000", "timezone": "UTC"})
    again = parse_datetime({"date": "2023-07-24 13:05:36.000000", "timezone": "UTC"})
    assert first == again == datetime(2023, 7, 24, 13, 5, 36, tzinfo=UTC)
    assert first is not None
    assert first.tzinfo is UTC
    shifted = parse_datetime({"date": "2023-07-24 13:05:36.1+0100", "timezone": "UTC"})
    assert shifted == datetime(2023, 7, 24, 12, 5, 36, 100000, tzinfo=UTC)


def test_parse_date_cache_gives_the_same_dates_and_errors() -> None:
    values: list[object] = ["2012-09-29", "2012-09-29 00:00:00.000000", "2012-02-30",
                            "2012-9-29xx", "29/09/2012", "x" * 12, "2012-09-29T23:59:59+05:00",
                            {"date": "2012-09-29 00:00:00.000000", "timezone": "Europe/London"},
                            {"date": None}, {"date": 20120929}, "", None, 20120929]  # fmt: skip

    for value in values:
        parse._DATES_SEEN.clear()
        expected = _outcome(parse_date, value)
        assert _outcome(parse_date, value) == expected  # from the cache
        if isinstance(value, str) and len(value) >= 10:
            assert expected == _outcome(read_date, value)  # the uncached reading
    assert _outcome(parse_date, "2012-02-30").startswith("ValueError")
