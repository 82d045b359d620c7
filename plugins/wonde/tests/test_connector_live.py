"""The real connector against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

import pytest

from connectkit.models import GroupKind, Role
from connectkit.plugins import Hooks, load_plugins
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import DEFAULT_SCHOOL

WONDE = WondeConnector()


def _people(ctx, role, since=None, cursor=None):
    return list(WONDE.connectkit_fetch_people(ctx=ctx, role=role, since=since, cursor=cursor))


def test_full_student_pass_streams_pages_with_unique_ids(make_ctx, emulator) -> None:
    school = emulator.schools[DEFAULT_SCHOOL]
    pages = _people(make_ctx(per_page=25), Role.STUDENT)
    ids = [p.mis_id for page in pages for p in page.people]
    expected = [i for i in range(school.students) if not school.student_deleted(i)]
    assert len(pages) == 5
    assert len(ids) == len(set(ids)) == len(expected)
    assert pages[-1].cursor is None
    assert all(page.cursor for page in pages[:-1])
    year_groups = {
        m.group_id
        for page in pages
        for p in page.people
        for m in p.groups
        if m.kind is GroupKind.YEAR
    }
    assert len(year_groups) == 7


def test_cursor_resumes_at_the_next_page(make_ctx) -> None:
    ctx = make_ctx(per_page=10, include_leavers=True)
    pages = _people(ctx, Role.STUDENT)
    resumed = _people(ctx, Role.STUDENT, cursor=pages[5].cursor)
    assert [p.mis_id for page in resumed for p in page.people] == [
        p.mis_id for page in pages[6:] for p in page.people
    ]
    leavers = [p for page in pages for p in page.people if p.mis_code and int(p.mis_code) >= 50_000]
    assert len(leavers) == 10
    crossing = next(
        page.cursor for page in pages if page.cursor and page.cursor.startswith("students-leaver|")
    )
    assert len(_people(ctx, Role.STUDENT, cursor=crossing)) == 1


def test_cursor_to_another_host_is_refused(make_ctx) -> None:
    from connectkit.errors import BadResponseError

    with pytest.raises(BadResponseError, match="another host"):
        _people(
            make_ctx(),
            Role.STUDENT,
            cursor="students|https://evil.example/v1.0/schools/A1/students?page=2",
        )


def test_changed_since_returns_only_changed_people(make_ctx, emulator) -> None:
    ctx = make_ctx(per_page=50, changed_since_overlap_minutes=0)
    changed = set(emulator.schools[DEFAULT_SCHOOL].advance(4))
    since = datetime(2024, 6, 3, 8, 30, tzinfo=UTC)
    delta = {p.mis_id for page in _people(ctx, Role.STUDENT, since=since) for p in page.people}
    assert delta == changed
    full = {p.mis_id for page in _people(ctx, Role.STUDENT) for p in page.people}
    assert delta < full


def test_staff_are_current_only_by_default(make_ctx) -> None:
    current = [p for page in _people(make_ctx(), Role.STAFF) for p in page.people]
    everyone = [
        p for page in _people(make_ctx(current_staff_only=False), Role.STAFF) for p in page.people
    ]
    assert 0 < len(current) < len(everyone) == 20
    assert all(p.extras["employment_details"]["current"] for p in current)
    assert all(m.kind is GroupKind.STAFF for p in current for m in p.groups)


def test_groups_deletions_and_codes(make_ctx, emulator) -> None:
    ctx = make_ctx()
    groups = list(WONDE.connectkit_fetch_groups(ctx=ctx))
    assert len(groups) == len({g.id for g in groups}) == 7 + 28 + 4 + 3
    assert {g.role for g in groups if g.kind is GroupKind.STAFF} == {Role.STAFF}
    deletions = list(WONDE.connectkit_fetch_deletions(ctx=ctx, since=None))
    assert len(deletions) == 3
    assert sum(1 for d in deletions if d.restored_at) == 0
    recent = list(WONDE.connectkit_fetch_deletions(ctx=ctx, since=datetime(2024, 6, 1, tzinfo=UTC)))
    assert len(recent) < len(deletions)
    codes = list(WONDE.connectkit_fetch_attendance_codes(ctx=ctx))
    assert {"/", "\\", "L", "N"} <= {c.code for c in codes}


def test_photos_skip_unchanged_by_hash(make_ctx, emulator) -> None:
    ctx = make_ctx(photo_per_page=40)
    photos = list(WONDE.connectkit_fetch_photos(ctx=ctx, known_hashes={}))
    assert all(p.content_hash == hashlib.sha256(p.content).hexdigest() for p in photos)
    assert all(p.content_type == "image/png" for p in photos)
    known = {p.mis_id: p.content_hash for p in photos}
    assert list(WONDE.connectkit_fetch_photos(ctx=ctx, known_hashes=known)) == []
    changed = set(emulator.schools[DEFAULT_SCHOOL].advance(2))
    again = {p.mis_id for p in WONDE.connectkit_fetch_photos(ctx=ctx, known_hashes=known)}
    assert again == changed


def test_oversized_photo_is_cut_so_the_core_rejects_it(make_ctx) -> None:
    ctx = make_ctx(photo_max_bytes=1024)
    from connectkit_wonde.photos import decode_photo

    assert len(decode_photo("QUJD" * 2000, 1024)) == 1025
    assert all(
        len(p.content) <= 1025 for p in WONDE.connectkit_fetch_photos(ctx=ctx, known_hashes={})
    )


def test_missing_scopes_are_reported_not_permitted(make_ctx, emulator, caplog) -> None:
    emulator.set_faults({"null_scopes": ["contact_details", "date_of_birth"]})
    with caplog.at_level(logging.WARNING, logger="connectkit_wonde"):
        people = [p for page in _people(make_ctx(per_page=50), Role.STUDENT) for p in page.people]
    assert all(p.extras["_not_permitted"] == ["contact_details", "date_of_birth"] for p in people)
    assert all(p.emails == {} and p.date_of_birth is None for p in people)
    assert "not permitted" in caplog.text


def test_the_entry_point_loads_the_connector() -> None:
    pm, report = load_plugins(enabled=["wonde"])
    assert "wonde" not in report.failed
    connector = Hooks(pm).connector("wonde")
    assert connector.info.capabilities.delta
    assert "contact_details.emails.primary" in connector.info.fields[Role.STUDENT]
    schema = connector.config_schema()
    assert schema["properties"]["token"]["writeOnly"] is True
