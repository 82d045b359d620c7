"""A Wonde-driven sync through the engine, end to end against the emulator (SQLite store).

First sync (import, validate, confirm, commit), then a changed-since run after the MIS
changed two students. The store's PostgreSQL behaviour is covered by the engine's own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.engine import make_engine
from connectkit.store.tables import integrations, metadata, user_types, users
from connectkit.sync import service
from connectkit.sync.runtime import Runtime
from connectkit.testing.clock import ManualClock
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import DEFAULT_TOKEN, School
from connectkit_wonde.emulator.data import EPOCH, wonde_id

SCHOOL_ID = "A6660000001"
SEED = 21
NAME = "Wonde Academy"


def _mapping() -> dict[str, Any]:
    years = {wonde_id("group", SEED, y): ("Student" if y < 5 else "Sixth Form") for y in range(7)}
    staff = {wonde_id("group", SEED, 200 + n): "Staff" for n in range(3)}
    return {
        "students": {
            "area": "Student Entrance",
            "fields": {
                "first_name": "first_name",
                "last_name": "last_name",
                "contact_details.emails.primary": "email",
            },
            "groups": years,
        },
        "staff": {
            "fields": {
                "first_name": "first_name",
                "last_name": "last_name",
                "emails.work": "email",
            },
            "groups": staff,
        },
    }


Clock = ManualClock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _directory(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    query = sa.select(
        users.c.mis_id,
        users.c.first_name,
        users.c.last_name,
        users.c.email,
        users.c.active,
        user_types.c.name.label("type"),
    ).select_from(users.outerjoin(user_types, user_types.c.id == users.c.user_type_id))
    with engine.connect() as conn:
        return {row["mis_id"]: dict(row) for row in conn.execute(query).mappings()}


def test_wonde_sync_end_to_end(store, emulator, emulator_url, tmp_path) -> None:
    school = emulator.add_school(
        School(
            id=SCHOOL_ID, name=NAME, seed=SEED, students=60, staff=8, leavers=0, bad_email_every=0
        )
    )
    pm = new_manager()
    register(pm, "wonde", WondeConnector())
    env = lifecycle.Environment(
        Hooks(pm), tmp_path / "state", environ={"WONDE_TOKEN": DEFAULT_TOKEN}
    )
    config = {
        "school_id": SCHOOL_ID,
        "token": "${WONDE_TOKEN}",
        "base_url": f"{emulator_url}/v1.0",
        "per_page": 20,
        "retry_base_delay": 0.01,
    }
    with store.begin() as conn:
        row, info = lifecycle.create(
            conn,
            env,
            name=NAME,
            connector="wonde",
            config=config,
            settings={"sites": ["Main Site"], "deletion": "deactivate"},
            actor="test",
        )
        conn.execute(
            sa.update(integrations).where(integrations.c.id == row.id).values(mapping=_mapping())
        )
    assert info.name == NAME
    clock = ManualClock(EPOCH)
    rt = Runtime(engine=store, env=env, clock=clock, actor="test", worker="w1", batch=50)

    first = service.start_run(rt, NAME)
    assert (first.kind, first.status) == ("first", "awaiting_review")
    assert (first.errors, first.duplicates) == (0, 0)
    done = service.confirm(rt, NAME)
    assert done.status == "committed"
    directory = _directory(store)
    current = [i for i in range(60) if not school.student_deleted(i)]
    students = {wonde_id("student", SEED, i) for i in current}
    assert students <= set(directory)
    sample = directory[wonde_id("student", SEED, current[0])]
    assert sample["email"].endswith("@pupils.school.example")
    assert sample["type"] in {"Student", "Sixth Form"}
    assert all(directory[s]["active"] for s in students)
    staff = {k for k, v in directory.items() if v["type"] == "Staff"}
    assert 0 < len(staff) <= 8

    changed = school.advance(2)
    clock.now = EPOCH + timedelta(hours=3)
    again = service.start_run(rt, NAME)
    assert again.status == "committed"
    assert again.counts["updated"] == len(changed) == 2
    after = _directory(store)
    for mis_id in changed:
        assert after[mis_id]["last_name"] != directory[mis_id]["last_name"]

    # a full reconciliation of unchanged input, read through the import worker: the
    # connector fingerprints every record, the engine vouches for all of them
    clock.now = EPOCH + timedelta(hours=4)
    full = service.start_run(replace(rt, import_worker=True), NAME, kind="reconcile")
    assert full.status == "committed"
    assert {k for k, v in full.counts.items() if v} == {"unchanged"}
    assert _directory(store) == after
    assert clock.now.tzinfo is UTC
