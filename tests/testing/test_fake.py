"""FakeConnector, driven through the real typed facade (Hooks / Connector) and pluggy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pluggy
import pytest
from jsonschema import Draft202012Validator

from connectkit.context import ConnectorContext
from connectkit.errors import (
    BadResponseError,
    InvalidCredentialsError,
    NotFoundError,
    NotSupportedError,
    UpstreamUnavailableError,
)
from connectkit.models import (
    AccessState,
    AttendanceMark,
    Capabilities,
    Role,
    WriteBackKind,
    WriteBackState,
)
from connectkit.plugins.facade import Connector, Hooks
from connectkit.plugins.manager import register
from connectkit.secrets import Secret, reveal
from connectkit.testing import factories
from connectkit.testing.clock import ManualClock
from connectkit.testing.fake import BAD_TOKEN, FakeConnector

Clock = ManualClock


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def fake(connectkit_pm: pluggy.PluginManager, clock: Clock) -> FakeConnector:
    fake = FakeConnector(page_size=3, clock=clock)
    register(connectkit_pm, fake.name, fake)
    fake.add_groups(factories.school_groups())
    fake.add_people(Role.STUDENT, factories.make_people(Role.STUDENT, 10))
    fake.add_people(Role.STAFF, factories.make_people(Role.STAFF, 4))
    return fake


@pytest.fixture
def conn(connectkit_pm: pluggy.PluginManager, fake: FakeConnector) -> Connector:
    return Hooks(connectkit_pm).connector("fake")


def ids_of(pages: object) -> list[str]:
    return [p.mis_id for page in pages for p in page.people]  # type: ignore[attr-defined]


def mark(
    key: str, student: str = "S000001", kind: WriteBackKind = WriteBackKind.SESSION
) -> AttendanceMark:
    return AttendanceMark(
        key=key, student_mis_id=student, date=date(2026, 10, 1), session="AM", code="/", kind=kind
    )


# --- describe and access -------------------------------------------------------------


def test_connector_info_names_the_fake_and_two_fakes_coexist(
    connectkit_pm: pluggy.PluginManager, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    other = FakeConnector("fake_two", page_size=1)
    register(connectkit_pm, other.name, other)
    other.add_people(Role.STUDENT, factories.make_people(Role.STUDENT, 2, seed=3, start=50))
    hooks = Hooks(connectkit_pm)
    assert sorted(hooks.connectors()) == ["fake", "fake_two"]
    assert hooks.connector("fake").info.capabilities.delta
    second = hooks.connector("fake_two")
    pages = list(second.fetch_people(fake_context, Role.STUDENT))
    assert ids_of(pages) == ["S000050", "S000051"]
    assert fake.calls("fetch_people") == []  # connectkit_fetch_people went to fake_two only
    with pytest.raises(NotSupportedError, match="installed: fake, fake_two"):
        hooks.connector("wonde")


def test_config_schema_marks_the_token_write_only_and_accepts_a_config(conn: Connector) -> None:
    schema = conn.config_schema()  # connectkit_config_schema
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["token"]["writeOnly"] is True
    validator = Draft202012Validator(schema)
    assert validator.is_valid(reveal({"school": "A1", "token": Secret("abcdef-123")}))
    assert not validator.is_valid({"token": "x"})  # school is required


def test_check_credentials_accepts_good_and_refuses_bad_tokens_cleanly(
    conn: Connector, fake_context: ConnectorContext
) -> None:
    school = conn.check_credentials(fake_context)  # connectkit_check_credentials
    assert (school.id, school.name) == ("fake-school", "Fake Primary School")
    bad_config = {"school": "A1", "token": Secret(BAD_TOKEN)}
    bad = ConnectorContext("bad", bad_config, fake_context.state_dir)
    with pytest.raises(InvalidCredentialsError) as refused:
        conn.check_credentials(bad)
    assert BAD_TOKEN not in str(refused.value)
    with pytest.raises(InvalidCredentialsError, match="no token"):
        conn.check_credentials(ConnectorContext("none", {"school": "A1"}, fake_context.state_dir))
    unknown = ConnectorContext(
        "x", {"school": "unknown-school", "token": "good-token"}, fake_context.state_dir
    )
    with pytest.raises(NotFoundError, match="unknown-school"):
        conn.check_credentials(unknown)


def test_access_state_machine(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    assert conn.check_access(fake_context).state == AccessState.UNKNOWN  # connectkit_check_access
    contacts = [{"name": "Ms Office", "email": "office@example.sch.uk"}]
    status = conn.request_access(fake_context, contacts)  # connectkit_request_access
    assert status.state == AccessState.PENDING
    assert fake.access_contacts == contacts
    fake.approve_access()
    assert conn.check_access(fake_context).state == AccessState.APPROVED
    assert conn.request_access(fake_context).state == AccessState.APPROVED  # no downgrade
    fake.revoke_access()
    assert conn.check_access(fake_context).state == AccessState.REVOKED
    with pytest.raises(ValueError, match="cannot move to approved"):
        fake.approve_access()
    assert conn.request_access(fake_context).state == AccessState.PENDING
    fake.decline_access()
    assert conn.check_access(fake_context).state == AccessState.DECLINED


def test_a_capability_switched_off_is_refused(
    connectkit_pm: pluggy.PluginManager, fake_context: ConnectorContext
) -> None:
    limited = FakeConnector("limited", capabilities=Capabilities(writeback=frozenset({"session"})))
    register(connectkit_pm, limited.name, limited)
    conn = Hooks(connectkit_pm).connector("limited")
    with pytest.raises(NotSupportedError, match="request"):
        conn.request_access(fake_context)
    with pytest.raises(NotSupportedError, match="lesson write-back"):
        conn.write_back(fake_context, [mark("k1", kind=WriteBackKind.LESSON)])
    with pytest.raises(NotSupportedError, match="photos"):  # the hook itself refuses too
        next(limited.connectkit_fetch_photos(fake_context, {}))


# --- read ------------------------------------------------------------------------------


def test_groups_stream(conn: Connector, fake_context: ConnectorContext) -> None:
    groups = conn.fetch_groups(fake_context)  # connectkit_fetch_groups
    assert iter(groups) is groups
    ids = [g.id for g in groups]
    assert ids[:2] == ["yr-1", "yr-2"]
    assert "st-teaching" in ids
    assert len(ids) == len(set(ids)) == 16


def test_people_pages_cursor_and_resume(conn: Connector, fake_context: ConnectorContext) -> None:
    pages = list(conn.fetch_people(fake_context, Role.STUDENT))  # connectkit_fetch_people
    assert [len(p.people) for p in pages] == [3, 3, 3, 1]
    assert pages[-1].cursor is None
    assert all(p.cursor for p in pages[:-1])
    resumed = list(conn.fetch_people(fake_context, Role.STUDENT, cursor=pages[1].cursor))
    assert ids_of(resumed) == ids_of(pages[2:])
    with pytest.raises(BadResponseError, match="does not belong"):
        list(conn.fetch_people(fake_context, Role.STAFF, cursor=pages[1].cursor))
    assert ids_of(conn.fetch_people(fake_context, Role.STAFF)) == [
        "T000000", "T000001", "T000002", "T000003"
    ]  # fmt: skip


def test_changed_since_follows_updates(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext, clock: Clock
) -> None:
    since = clock.tick()
    updated = fake.update_person(Role.STUDENT, "S000004", last_name="Nowak-Jones")
    assert updated.updated_at == since
    clock.tick()
    fake.add_people(Role.STUDENT, factories.make_people(Role.STUDENT, 1, start=99))
    newer = fake.people[Role.STUDENT]["S000099"].model_copy(update={"updated_at": None})
    fake.add_people(Role.STUDENT, [newer])  # no updated_at: stamped by the clock
    changed = list(conn.fetch_people(fake_context, Role.STUDENT, since=since))
    assert ids_of(changed) == ["S000004", "S000099"]
    assert changed[0].people[0].last_name == "Nowak-Jones"
    assert ids_of(conn.fetch_people(fake_context, Role.STUDENT, since=clock.tick())) == []


def test_deletions_and_restores(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext, clock: Clock
) -> None:
    start = clock.tick()
    fake.remove_person(Role.STUDENT, "S000002")
    assert "S000002" not in ids_of(conn.fetch_people(fake_context, Role.STUDENT))
    restored_at = clock.tick(5)
    fake.restore_person(Role.STUDENT, "S000002")
    feed = list(conn.fetch_deletions(fake_context, start))  # connectkit_fetch_deletions
    assert [(d.mis_id, d.deleted_at, d.restored_at) for d in feed] == [
        ("S000002", start, None),
        ("S000002", start, restored_at),
    ]
    assert [d.restored_at for d in conn.fetch_deletions(fake_context, restored_at)] == [restored_at]
    back = conn.fetch_people(fake_context, Role.STUDENT, since=restored_at)
    assert ids_of(back) == ["S000002"]
    with pytest.raises(KeyError, match="never removed"):
        fake.restore_person(Role.STUDENT, "S000003")


def test_attendance_codes(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    fake.add_attendance_codes(factories.attendance_codes())
    codes = list(conn.fetch_attendance_codes(fake_context))  # connectkit_fetch_attendance_codes
    assert [c.code for c in codes][:3] == ["/", "\\", "L"]
    assert {c.meaning for c in codes} == {"present", "authorised absence", "unauthorised absence"}


def test_photos_skip_known_hashes(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    first = fake.set_photo(Role.STUDENT, "S000001", factories.png_bytes(1), "image/png")
    fake.set_photo(Role.STAFF, "T000002", factories.png_bytes(2), "image/png")
    assert fake.people[Role.STUDENT]["S000001"].photo_hash == first.content_hash
    photos = list(conn.fetch_photos(fake_context, {}))  # connectkit_fetch_photos
    assert [p.mis_id for p in photos] == ["S000001", "T000002"]
    assert photos[0].content.startswith(b"\x89PNG\r\n\x1a\n")
    known = {"S000001": first.content_hash, "T000002": "0" * 64}
    assert [p.mis_id for p in conn.fetch_photos(fake_context, known)] == ["T000002"]


# --- write back ----------------------------------------------------------------------


def test_write_back_is_idempotent_by_key(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    receipts = conn.write_back(fake_context, [mark("a"), mark("b")])  # connectkit_write_back
    assert [(r.mark_keys, r.state) for r in receipts] == [(("a", "b"), WriteBackState.ACCEPTED)]
    again = conn.write_back(fake_context, [mark("b"), mark("c")])
    assert again[0].mark_keys == ("b", "c")
    assert [m.key for m in fake.posted] == ["a", "b", "c"]
    status = conn.write_back_status(fake_context, receipts[0])  # connectkit_write_back_status
    assert status.state == WriteBackState.DONE
    assert status.remote_id == receipts[0].remote_id
    with pytest.raises(NotFoundError):
        conn.write_back_status(fake_context, status.model_copy(update={"remote_id": "nope"}))


def test_write_back_refuses_unknown_students_in_a_failed_receipt(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    receipts = conn.write_back(fake_context, [mark("a"), mark("z", student="S999999")])
    assert [(r.mark_keys, r.state) for r in receipts] == [
        (("a",), WriteBackState.ACCEPTED),
        (("z",), WriteBackState.FAILED),
    ]
    assert "S999999" in (receipts[1].detail or "")
    assert [m.key for m in fake.posted] == ["a"]


def test_ambiguous_failure_then_retry_posts_once(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    fake.fail("write_back", UpstreamUnavailableError("timeout"), after=True)
    with pytest.raises(UpstreamUnavailableError):
        conn.write_back(fake_context, [mark("a")])
    assert [m.key for m in fake.posted] == ["a"]  # the MIS applied it before the timeout
    conn.write_back(fake_context, [mark("a")])
    assert [m.key for m in fake.posted] == ["a"]
    assert len(fake.calls("connectkit_write_back")) == 2


# --- failure injection and history ----------------------------------------------------


@pytest.mark.parametrize(
    ("hook", "call"),
    [
        ("check_credentials", lambda c, x: c.check_credentials(x)),
        ("check_access", lambda c, x: c.check_access(x)),
        ("fetch_groups", lambda c, x: list(c.fetch_groups(x))),
    ],
)
def test_fail_at_the_nth_call(
    conn: Connector,
    fake: FakeConnector,
    fake_context: ConnectorContext,
    hook: str,
    call: Callable[[Connector, ConnectorContext], object],
) -> None:
    error = UpstreamUnavailableError("MIS down")
    fake.fail(hook, error, call=2)
    call(conn, fake_context)
    with pytest.raises(UpstreamUnavailableError) as raised:
        call(conn, fake_context)
    assert raised.value is error
    call(conn, fake_context)  # disarmed after firing once
    assert len(fake.calls(hook)) == 3


def test_fail_at_the_nth_page_and_history(
    conn: Connector, fake: FakeConnector, fake_context: ConnectorContext
) -> None:
    fake.fail("connectkit_fetch_people", UpstreamUnavailableError("reset"), page=3)
    pages = conn.fetch_people(fake_context, Role.STUDENT)
    got = [next(pages), next(pages)]
    with pytest.raises(UpstreamUnavailableError):
        next(pages)
    assert len(got) == 2
    resumed = list(conn.fetch_people(fake_context, Role.STUDENT, cursor=got[-1].cursor))
    assert len(ids_of(got)) + len(ids_of(resumed)) == 10
    assert [(c.hook, c.args["cursor"]) for c in fake.history] == [
        ("connectkit_fetch_people", None),
        ("connectkit_fetch_people", got[-1].cursor),
    ]
    with pytest.raises(ValueError, match="count from 1"):
        fake.fail("fetch_people", RuntimeError("x"), page=0)


def test_add_people_refuses_a_wrong_role(fake: FakeConnector) -> None:
    staff = factories.make_people(Role.STAFF, 1)
    with pytest.raises(ValueError, match="T000000: role staff is not student"):
        fake.add_people(Role.STUDENT, staff)
    with pytest.raises(ValueError, match="page_size"):
        FakeConnector(page_size=0)
