"""Hypothesis properties (item 12): every imported record lands in exactly one list
that agrees with the rules; running twice equals running once (nothing written)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit.store.engine import make_engine
from connectkit.store.tables import metadata
from connectkit.sync import service
from connectkit.sync.keys import user_keys
from connectkit.sync.validate import Validator

from .conftest import MAPPING, NAME, World, build_world
from .test_first_sync import _assert_counts_equal_lines

SETTINGS = settings(
    max_examples=8, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = st.sampled_from(["Ann", "ann ", "ANN", "Bo", "Zoë", "Zoe\u0308", "", "  ", "Łukasz"])
EMAILS = st.sampled_from([None, "ann@x.org", "ANN@X.ORG", "bo@x.org", "bad-email", "a@b"])
GROUPS = st.lists(st.sampled_from(["yr-1", "yr-2", "yr-6", "reg-1"]), unique=True, max_size=3)


@st.composite
def people(draw: st.DrawFn) -> list[MISPerson]:
    count = draw(st.integers(min_value=0, max_value=14))
    return [
        MISPerson(
            mis_id=f"P{i}", role=Role.STUDENT, first_name=draw(NAMES), last_name=draw(NAMES),
            emails={"primary": e} if (e := draw(EMAILS)) else {},
            groups=tuple(GroupMembership(group_id=g, kind=GroupKind.YEAR) for g in draw(GROUPS)),
        )
        for i in range(count)
    ]


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DIRECTORY = [("Ann", "Ann", "ann@x.org"), ("Bo", "Zoë", "bo@x.org")]


@contextmanager
def fresh_world(backend: str, request: pytest.FixtureRequest) -> Iterator[World]:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "postgres":
            engine: sa.Engine = request.getfixturevalue("sync_pg_engine")
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
        else:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'p.sqlite'}")
            metadata.create_all(engine)
        try:
            yield build_world(engine, Path(tmp) / "state", page_size=4)
        finally:
            if backend == "sqlite":
                engine.dispose()


def expected_list(person: MISPerson, directory_keys: set[tuple[str, str | None]]) -> str | None:
    groups = MAPPING["students"]["groups"]
    types = {groups[g.group_id] for g in person.groups if g.group_id in groups}
    if not types:
        return None
    fields = {"first_name": person.first_name, "last_name": person.last_name,
              "email": person.emails.get("primary"), "phone": None}
    verdict = Validator().validate(fields)
    if verdict.issues or len(types) > 1:
        return "error"
    keys = user_keys(verdict.fields)
    return "duplicate" if (keys["name_key"], keys["email_key"]) in directory_keys else "ready"


@pytest.mark.parametrize("backend", BACKENDS)
@SETTINGS
@given(batch=people())
def test_every_record_lands_in_exactly_one_list(backend, request, batch) -> None:
    with fresh_world(backend, request) as world:
        keys = set()
        for first, last, email in DIRECTORY:
            world.add_directory_user(first, last, email=email)
            k = user_keys({"first_name": first, "last_name": last, "email": email})
            keys.add((k["name_key"], k["email_key"]))
        world.fake.add_people(Role.STUDENT, batch)
        res = service.start_run(world.rt, NAME)
        staged = world.staged()
        assert len(staged) == len({r["mis_id"] for r in staged})
        got = {r["mis_id"]: r["list"] for r in staged}
        want = {p.mis_id: x for p in batch if (x := expected_list(p, keys)) is not None}
        assert got == want
        assert res.errors + res.duplicates + res.ready == len(want)


CHANGES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=9),
              st.sampled_from(["rename", "email", "remove", "regroup"])),
    max_size=6,
)


@pytest.mark.parametrize("backend", BACKENDS)
@SETTINGS
@given(changes=CHANGES, full=st.booleans())
def test_running_twice_equals_running_once(backend, request, changes, full) -> None:
    with fresh_world(backend, request) as world:
        world.add(Role.STUDENT, 10)
        service.start_run(world.rt, NAME)
        service.confirm(world.rt, NAME)
        world.clock.advance(hours=1)
        for index, change in changes:
            mis_id = f"S{index:06d}"
            if mis_id not in world.fake.people[Role.STUDENT]:
                continue
            if change == "rename":
                world.fake.update_person(Role.STUDENT, mis_id, first_name=f"New{index}")
            elif change == "email":
                world.fake.update_person(Role.STUDENT, mis_id,
                                         emails={"primary": f"n{index}@x.org"})
            elif change == "remove":
                world.fake.remove_person(Role.STUDENT, mis_id)
            else:
                world.fake.update_person(Role.STUDENT, mis_id, groups=(
                    GroupMembership(group_id="yr-2", kind=GroupKind.YEAR),))
        first = service.start_run(world.rt, NAME, full=full)
        assert first.status == "committed"
        _assert_counts_equal_lines(world, first.run_id, first.counts)
        once = world.users_raw()
        world.clock.advance(hours=1)
        second = service.start_run(world.rt, NAME, full=full)
        assert world.users_raw() == once
        assert {k for k, v in second.counts.items() if v} <= {"unchanged"}
