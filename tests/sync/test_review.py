"""Review of staged records (R3.3, R3.5, R3.6): lists, edit, merge, skip, order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from connectkit import integrations as ig
from connectkit.errors import RuleError, StateError
from connectkit.integrations import Environment, Status
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.tables import integrations, overrides, skips, staged_records, sync_runs, users
from connectkit.sync import review
from connectkit.sync.hashing import record_hash
from connectkit.sync.keys import user_keys
from connectkit.testing.fake import FakeConnector

CLEAN = {"first_name": "Ann", "last_name": "Lee", "email": "ann@school.example",
         "phone": "+447911123456", "user_type": "Student", "mis_code": "A1"}


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    pm = new_manager()
    register(pm, "fake", FakeConnector())
    return Environment(Hooks(pm), tmp_path / "state", environ={"FAKE_TOKEN": "tok-rev-5566"})


@pytest.fixture
def row(store_engine: Engine, env: Environment) -> ig.IntegrationRow:
    with store_engine.begin() as conn:
        created, _ = ig.create(
            conn, env, name="School", connector="fake",
            config={"school": "S1", "token": "${FAKE_TOKEN}"},
            settings={"sites": ["Main"]}, actor="admin",
        )
        conn.execute(update(integrations).values(mapping={
            "students": {"area": "Gate", "fields": {"first_name": "first_name"},
                         "groups": {"Y7": "Student"}},
        }))
        ig.transition(conn, created.id, Status.DRAFT, cause="first sync", actor="engine")
    return created


def _run(engine: Engine, integration_id: int) -> int:
    with engine.begin() as conn:
        found = conn.execute(select(sync_runs.c.id)).scalar()
        if found is not None:
            return int(found)
        return int(conn.execute(insert(sync_runs).values(
            integration_id=integration_id, kind="first", status="awaiting_review",
            phase="review", checkpoint={}, counts={}, started_at=ig.now(),
        ).returning(sync_runs.c.id)).scalar_one())


def _stage(
    engine: Engine, integration_id: int, mis_id: str, listed: str, *,
    issues: list[dict[str, Any]] | None = None, match: int | None = None, **fields: Any,
) -> None:
    values = {**CLEAN, **fields}
    run_id = _run(engine, integration_id)
    with engine.begin() as conn:
        conn.execute(insert(staged_records).values(
            integration_id=integration_id, run_id=run_id, role="student", mis_id=mis_id,
            person_id=f"upi-{mis_id}", list=listed, fields=values, issues=issues,
            match_user_id=match, match_key="name+email" if match else None,
            record_hash="0" * 64,
        ))


def _error(mis_id: str, field: str, rule: str, value: str | None) -> dict[str, Any]:
    return {"record": mis_id, "field": field, "rule": rule, "value": value, "message": "bad"}


def _user(engine: Engine, **values: Any) -> int:
    stamp = ig.now()
    fields = {**CLEAN, **values}
    row = {k: fields[k] for k in ("first_name", "last_name", "email", "phone")}
    with engine.begin() as conn:
        return int(conn.execute(insert(users).values(
            **row, **user_keys(row), active=True, created_at=stamp, updated_at=stamp,
        ).returning(users.c.id)).scalar_one())


def _staged(engine: Engine, mis_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(staged_records).where(staged_records.c.mis_id == mis_id)
        ).mappings().one()


# --- lists --------------------------------------------------------------------------------


def test_lists_page_by_id_and_leave_skipped_out(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    for i in range(5):
        _stage(store_engine, row.id, f"e{i}", "error",
               issues=[_error(f"e{i}", "email", "email", "x")])
    _stage(store_engine, row.id, "r1", "ready")
    with store_engine.begin() as conn:
        conn.execute(insert(skips).values(integration_id=row.id, mis_id="e4",
                                          created_at=ig.now()))
        seen, after, pages = [], None, 0
        while True:
            page = review.list_records(conn, row.id, "error", after=after, limit=2)
            seen += [r.mis_id for r in page.records]
            pages += 1
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == ["e0", "e1", "e2", "e3"]
        assert pages == 2
        assert review.counts(conn, row.id) == {
            "error": 4, "duplicate": 0, "ready": 1, "skipped": 1,
        }
        skipped = review.list_records(conn, row.id, "skipped").records
        assert [(r.mis_id, r.listed) for r in skipped] == [("e4", "skipped")]
        with pytest.raises(RuleError, match="unknown list 'done'"):
            review.list_records(conn, row.id, "done")


# --- edit (R3.3) -----------------------------------------------------------------------


def test_edit_fixes_an_error_at_once(store_engine: Engine, row: ig.IntegrationRow) -> None:
    _stage(store_engine, row.id, "m1", "error", email="not-an-email",
           issues=[_error("m1", "email", "email", "not-an-email")])
    with store_engine.begin() as conn:
        fixed = review.edit(conn, "School", "m1", {"email": "Ann.Lee@School.Example"},
                            actor="office")
        assert review.counts(conn, row.id)["error"] == 0
        stored = conn.execute(select(overrides.c.fields)).scalar_one()
    assert fixed.listed == "ready"
    assert fixed.issues == []
    assert fixed.fields["email"] == "Ann.Lee@school.example"  # domain normalised
    assert stored == {"email": "Ann.Lee@School.Example"}
    staged = _staged(store_engine, "m1")
    target = {"site": "Main", "area": "Gate", "person_id": "upi-m1"}
    assert staged["record_hash"] == record_hash({**staged["fields"], **target})
    with store_engine.connect() as conn:
        last = list(ig.events(conn, row.id))[-1]
    assert (last.kind, last.from_value, last.to_value, last.actor) == (
        "review", "error", "edited", "office",
    )


def test_edit_that_is_still_wrong_stays_with_named_issue(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    _stage(store_engine, row.id, "m1", "error", first_name=None,
           issues=[_error("m1", "first_name", "required", None)])
    with store_engine.begin() as conn:
        still = review.edit(conn, row.id, "m1", {"first_name": "Ann", "phone": "12"},
                            actor="office")
    assert still.listed == "error"
    assert [(i["record"], i["field"], i["rule"], i["value"]) for i in still.issues] == [
        ("m1", "phone", "phone", "12"),
    ]
    with store_engine.begin() as conn:
        again = review.edit(conn, row.id, "m1", {"phone": ""}, actor="office")
        assert conn.execute(select(overrides.c.fields)).scalar_one() == {
            "first_name": "Ann", "phone": None,
        }
    assert again.listed == "ready"
    assert again.fields["phone"] is None


def test_edit_into_a_duplicate(store_engine: Engine, row: ig.IntegrationRow) -> None:
    uid = _user(store_engine, email="ann@school.example")
    _stage(store_engine, row.id, "m1", "error", email="ann@",
           issues=[_error("m1", "email", "email", "ann@")])
    with store_engine.begin() as conn:
        now = review.edit(conn, row.id, "m1", {"email": "ANN@school.example"}, actor="o")
    assert (now.listed, now.match_user_id, now.match_key) == ("duplicate", uid, "name+email")


def test_groups_error_survives_a_name_edit(store_engine: Engine, row: ig.IntegrationRow) -> None:
    _stage(store_engine, row.id, "m1", "error", user_type=None,
           issues=[_error("m1", "user_type", "groups", "Y7, Y8")])
    with store_engine.begin() as conn:
        still = review.edit(conn, row.id, "m1", {"first_name": "Anne"}, actor="o")
    assert still.listed == "error"
    assert [i["rule"] for i in still.issues] == ["groups"]


def test_bad_edits_name_record_and_field(store_engine: Engine, row: ig.IntegrationRow) -> None:
    _stage(store_engine, row.id, "m1", "error", issues=[_error("m1", "email", "email", "x")])
    with store_engine.begin() as conn:
        with pytest.raises(RuleError, match="record 'm1': field 'site' cannot be edited"):
            review.edit(conn, row.id, "m1", {"site": "Other"}, actor="o")
        with pytest.raises(StateError, match="record 'zz' is not waiting"):
            review.edit(conn, row.id, "zz", {"first_name": "A"}, actor="o")


# --- order (R3.6) ------------------------------------------------------------------------


def test_duplicates_wait_for_errors_during_first_sync(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    uid = _user(store_engine)
    _stage(store_engine, row.id, "e1", "error", issues=[_error("e1", "email", "email", "x")])
    _stage(store_engine, row.id, "d1", "duplicate", match=uid)
    with store_engine.begin() as conn:
        for action in (
            lambda: review.merge(conn, row.id, "d1", actor="o"),
            lambda: review.skip(conn, row.id, "d1", actor="o"),
        ):
            with pytest.raises(StateError, match=r"while 1 error\(s\) remain"):
                action()
        with pytest.raises(StateError, match=r"1 error\(s\) and 1 duplicate\(s\) remain"):
            review.check_can_confirm(conn, row.id)
        review.skip(conn, row.id, "e1", actor="o")
        review.merge(conn, row.id, "d1", actor="o")
        review.check_can_confirm(conn, row.id)


def test_after_first_sync_duplicates_resolve_any_time(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    uid = _user(store_engine)
    _stage(store_engine, row.id, "e1", "error", issues=[_error("e1", "email", "email", "x")])
    _stage(store_engine, row.id, "d1", "duplicate", match=uid)
    with store_engine.begin() as conn:
        ig.transition(conn, row.id, Status.ACTIVE, cause="confirmed", actor="o")
        review.check_can_confirm(conn, row.id)
        assert review.skip(conn, row.id, "d1", actor="o").listed == "skipped"


# --- merge (R3.5) --------------------------------------------------------------------------


def test_merge_preview_per_field_winners(store_engine: Engine, row: ig.IntegrationRow) -> None:
    uid = _user(store_engine, phone="+447911123999", email="ann@school.example")
    _stage(store_engine, row.id, "d1", "duplicate", match=uid, first_name="Ann",
           phone="+447911123456", email="ann@school.example")
    with store_engine.connect() as conn:
        default = review.merge_preview(conn, row.id, "d1")
        chosen = review.merge_preview(conn, row.id, "d1", {"phone": "directory"})
        with pytest.raises(RuleError, match="winner must be 'mis' or 'directory'"):
            review.merge_preview(conn, row.id, "d1", {"phone": "both"})
        with pytest.raises(RuleError, match="field 'site'"):
            review.merge_preview(conn, row.id, "d1", {"site": "mis"})
    assert default.user_id == uid
    assert default.fields["phone"] == "+447911123456"
    assert default.changes == {"phone": ("+447911123999", "+447911123456")}
    assert chosen.fields["phone"] == "+447911123999"
    assert chosen.winners["phone"] == "directory"
    assert chosen.winners["email"] == "mis"
    assert chosen.changes == {}
    assert _staged(store_engine, "d1")["list"] == "duplicate"  # preview wrote nothing


def test_merge_records_the_decision_and_keeps_directory_wins(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    uid = _user(store_engine, phone="+447911123999")
    _stage(store_engine, row.id, "e0", "ready")
    _stage(store_engine, row.id, "d1", "duplicate", match=uid)
    with store_engine.begin() as conn:
        applied = review.merge(conn, "School", "d1", {"phone": "directory"}, actor="office")
        saved = conn.execute(select(overrides.c.fields)).scalar_one()
        last = list(ig.events(conn, row.id))[-1]
    staged = _staged(store_engine, "d1")
    assert (staged["list"], staged["match_user_id"]) == ("ready", uid)
    assert staged["fields"]["phone"] == "+447911123999"
    assert applied.fields["phone"] == "+447911123999"
    assert saved == {"phone": "+447911123999"}
    assert (last.to_value, last.actor) == ("merged", "office")
    assert f"merged into user {uid}" in last.cause
    with store_engine.begin() as conn, pytest.raises(StateError, match="not a duplicate"):
        review.merge(conn, row.id, "d1", actor="office")


def test_merge_refused_when_user_already_linked(
    store_engine: Engine, row: ig.IntegrationRow
) -> None:
    uid = _user(store_engine)
    _stage(store_engine, row.id, "d1", "duplicate", match=uid)
    with store_engine.begin() as conn:
        conn.execute(update(users).values(integration_id=row.id, mis_id="other"))
        with pytest.raises(StateError, match="already linked to MIS record 'other'"):
            review.merge(conn, row.id, "d1", actor="o")


# --- skip (R3.5) ---------------------------------------------------------------------------


def test_skip_and_unskip(store_engine: Engine, row: ig.IntegrationRow) -> None:
    uid = _user(store_engine)
    _stage(store_engine, row.id, "d1", "duplicate", match=uid)
    with store_engine.begin() as conn:
        assert review.skip(conn, row.id, "d1", actor="o").skipped
        assert review.skip(conn, row.id, "d1", actor="o").skipped  # idempotent
        assert review.counts(conn, row.id)["duplicate"] == 0
        assert conn.execute(select(skips.c.mis_id)).scalars().all() == ["d1"]
        assert review.unskip(conn, row.id, "d1", actor="o") is True
        assert review.unskip(conn, row.id, "d1", actor="o") is False
        assert review.counts(conn, row.id)["duplicate"] == 1
        kinds = [e.to_value for e in ig.events(conn, row.id) if e.kind == "review"]
    assert kinds == ["skipped", "unskipped"]
