"""Lazily read people pages: every record kept as the bytes Wonde sent, its id read
without decoding the rest, the whole decoded only when asked."""

from __future__ import annotations

import httpx
import msgspec
import orjson
import pytest

from connectkit.errors import BadResponseError
from connectkit_wonde import api
from connectkit_wonde.records import NotAPage, RawRecord, read_page

RECORDS = [
    {"id": "A1", "forename": "Zoë", "contact_details": {"data": {"emails": {"primary": "z@x"}}}},
    {"id": "A2", "groups": {"data": [{"id": "G1"}]}},
]


def _page(data: object, meta: object = None) -> bytes:
    return orjson.dumps({"data": data, "meta": meta})


def test_records_keep_their_bytes_and_decode_to_what_was_sent() -> None:
    body = b'{"data": [ {"id":"A1", "x": [1, 2]} ,{"id": "A2"}], "meta": {"pagination": {}}}'
    page = read_page(body)
    assert page["meta"] == {"pagination": {}}
    assert [r.ident for r in page["data"]] == ["A1", "A2"]
    assert [r.source for r in page["data"]] == [b'{"id":"A1", "x": [1, 2]}', b'{"id": "A2"}']
    assert [r.decoded() for r in page["data"]] == [{"id": "A1", "x": [1, 2]}, {"id": "A2"}]


def test_a_page_round_trips_every_record() -> None:
    page = read_page(_page(RECORDS, {"pagination": {"more": False}}))
    assert [r.decoded() for r in page["data"]] == RECORDS
    assert [r.ident for r in page["data"]] == ["A1", "A2"]


@pytest.mark.parametrize(
    ("record", "ident"),
    [
        ({"id": "A1"}, "A1"),
        ({"id": " A1"}, None),  # surrounding space: not a usable id
        ({"id": ""}, None),
        ({"id": None}, None),
        ({"id": 7}, None),
        ({"id": {"nested": "A1"}}, None),
        ({"upi": "u"}, None),
        ("not a record", None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_only_a_plain_string_id_is_an_id(record: object, ident: str | None) -> None:
    [row] = read_page(_page([record]))["data"]
    assert row.ident == ident
    assert row.decoded() == record


@pytest.mark.parametrize(
    "body", [b'{"meta": {}}', b'{"data": {"id": "A1"}}', b'{"data": "x"}', b"[1, 2]", b"3"]
)
def test_a_body_without_a_data_list_is_not_a_page(body: bytes) -> None:
    with pytest.raises(NotAPage):
        read_page(body)


@pytest.mark.parametrize("body", [b'{"data": [{"id": "A1"}, {"id": "A2"', b"{nope}", b"\xff"])
def test_a_body_that_is_not_json_is_refused(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        read_page(body)


def test_a_record_of_its_own_bytes() -> None:
    row = RawRecord.of(b'{"id": "Q9", "surname": "Ng"}')
    assert (row.ident, row.decoded()["surname"]) == ("Q9", "Ng")


def _response(body: bytes) -> httpx.Response:
    request = httpx.Request("GET", "https://api.wonde.test/v1.0/schools/A1/students?page=3")
    return httpx.Response(200, content=body, request=request)


def test_a_lazy_page_that_is_not_json_is_a_bad_response_naming_the_page() -> None:
    with pytest.raises(BadResponseError, match="not valid JSON") as info:
        api._lazy_page(_response(b'{"data": [{"id": "A1"}, {"id": "A'))
    assert "students?page=3" in (info.value.url or "")


@pytest.mark.parametrize("body", [b"", b"  ", b'{"meta": {}}', b'{"data": 3}'])
def test_a_lazy_page_without_records_has_no_data_list(body: bytes) -> None:
    assert api._lazy_page(_response(body)) is None
