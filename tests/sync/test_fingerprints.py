"""Connector fingerprints (the ``fingerprints`` capability): the engine vouches for
unchanged records before the connector maps them; everything else is checked in full."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from connectkit import integrations as lifecycle
from connectkit.context import ConnectorContext
from connectkit.errors import ConnectorError
from connectkit.models import Capabilities, PeoplePage, Role
from connectkit.sync import importer, review, service
from connectkit.sync.fingerprint import fingerprint_digest, run_salt
from connectkit.sync.mapper import compile_mapping
from connectkit.sync.stage import Holdings, Stager, holdings
from connectkit.sync.validate import Validator
from connectkit.testing.fake import ALL_CAPABILITIES, fingerprint

from .conftest import NAME, World, build_world
from .test_fast_path import _hashes, _staged_ids, first_sync_with_an_edit
from .test_ongoing import first_sync, nonzero


def _stager(world: World) -> Stager:
    with world.engine.connect() as conn:
        row = lifecycle.get(conn, world.integration_id)
    return Stager(
        integration_id=row.id, integration=NAME, run_id=0, maps=compile_mapping(row.mapping),
        validator=Validator("GB"), site="Main Site", hooks=world.rt.hooks,
        salt=run_salt(row.mapping, "GB", "Main Site"), by_fingerprint=True,
    )  # fmt: skip


def _read(world: World, role: Role = Role.STUDENT) -> list[PeoplePage]:
    """A full read of ``role`` with the engine vouching, as an import does it."""
    with world.engine.connect() as conn:
        row = lifecycle.get(conn, world.integration_id)
    ctx: ConnectorContext = world.rt.env.context_for(row)
    ctx = replace(ctx, vouch=partial(importer._vouch, world.engine, _stager(world)))
    return list(world.rt.hooks.connector("fake").fetch_people(ctx, role, None, None))


def _world_without_fingerprints(sync_engine: Any, tmp_path: Any) -> World:
    """A world whose fake connector does not declare the ``fingerprints`` capability."""
    plain = Capabilities(**(ALL_CAPABILITIES.model_dump() | {"fingerprints": False}))
    return build_world(sync_engine, tmp_path / "state", capabilities=plain)


def _left_out(pages: list[PeoplePage]) -> set[str]:
    return {mis_id for page in pages for mis_id in page.unchanged}


def _mapped(pages: list[PeoplePage]) -> set[str]:
    return {p.mis_id for page in pages for p in page.people}


def test_users_hold_the_digest_of_their_fingerprint(world: World) -> None:
    first_sync(world)
    salt = _stager(world).salt
    person = world.fake.people[Role.STUDENT]["S000005"]
    assert _hashes(world)["S000005"] == fingerprint_digest(salt, fingerprint(person))


def test_unchanged_records_are_left_out_before_mapping(world: World) -> None:
    first_sync(world, students=12, staff=0)
    world.fake.update_person(Role.STUDENT, "S000003", last_name="Changed")
    pages = _read(world)
    assert _mapped(pages) == {"S000003"}
    assert _left_out(pages) == {f"S{n:06d}" for n in range(12)} - {"S000003"}
    assert all(p.fingerprint for page in pages for p in page.people)


def test_no_vouching_for_deactivated_or_edited_records(world: World) -> None:
    first_sync_with_an_edit(world, students=8)
    world.clock.advance(hours=1)
    world.fake.remove_person(Role.STUDENT, "S000002")
    service.start_run(world.rt, NAME, kind="reconcile")  # S000002 deactivated
    world.fake.restore_person(Role.STUDENT, "S000002")
    pages = _read(world)
    assert {"S000001", "S000002"} <= _mapped(pages)  # edited; deactivated
    assert _left_out(pages) == {f"S{n:06d}" for n in range(3, 8)} | {"S000000"}


def test_a_full_rerun_maps_nothing_and_writes_nothing(world: World) -> None:
    first_sync(world)
    before = world.users_raw()
    res = service.plan(world.rt, NAME, full=True)
    assert _staged_ids(world) == set()
    assert nonzero(res.planned) == {"unchanged": 15}
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert nonzero(res.counts) == {"unchanged": 15}
    assert world.users_raw() == before


def test_a_connector_may_not_leave_out_what_the_engine_did_not_vouch_for(
    world: World,
) -> None:
    first_sync(world)
    with world.engine.connect() as conn, pytest.raises(ConnectorError, match="S999999"):
        _stager(world).map_page(conn, Role.STUDENT, [], unchanged=["S999999"])


def test_without_the_capability_mapped_digests_still_skip_staging(
    sync_engine: Any, tmp_path: Any
) -> None:
    world = _world_without_fingerprints(sync_engine, tmp_path)
    first_sync(world)
    pages = _read(world)
    assert _left_out(pages) == set()
    assert all(p.fingerprint is None for page in pages for p in page.people)
    service.plan(world.rt, NAME, full=True)
    assert _staged_ids(world) == set()  # the engine's own digest of the mapped values


def test_a_record_back_to_what_its_user_holds_leaves_the_errors_list(world: World) -> None:
    first_sync(world)
    original = world.fake.people[Role.STUDENT]["S000006"]
    world.fake.update_person(Role.STUDENT, "S000006", last_name="")
    res = service.start_run(world.rt, NAME)
    assert res.errors == 1
    assert _staged_ids(world) == {"S000006"}
    world.clock.advance(hours=1)
    world.fake.add_people(Role.STUDENT, [original])  # exactly the source the user holds
    pages = _read(world)
    assert "S000006" in _left_out(pages)
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert res.errors == 0
    assert nonzero(res.counts) == {"unchanged": 15}
    assert _staged_ids(world) == set()  # the stale error row was dropped


def _errors(world: World) -> dict[str, tuple[int, Any]]:
    """The error list: MIS id -> (run that staged it, its issues)."""
    return {r["mis_id"]: (r["run_id"], r["issues"]) for r in world.staged("error")}


def test_an_unchanged_error_row_is_kept_without_mapping_it(world: World) -> None:
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000006", last_name="")
    first = service.start_run(world.rt, NAME)
    before = _errors(world)
    assert set(before) == {"S000006"}
    world.clock.advance(hours=1)
    pages = _read(world)
    assert "S000006" in _left_out(pages)  # vouched for: not mapped, not validated
    again = service.start_run(world.rt, NAME, kind="reconcile")
    assert again.errors == 1
    assert nonzero(again.counts) == {"unchanged": 14}
    after = _errors(world)
    assert after["S000006"] == (again.run_id, before["S000006"][1])  # moved to this run
    assert before["S000006"][0] == first.run_id != again.run_id


def test_a_changed_error_record_is_validated_again(world: World) -> None:
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000006", last_name="")
    service.start_run(world.rt, NAME)
    world.clock.advance(hours=1)
    world.fake.update_person(Role.STUDENT, "S000006", emails={"primary": "not an email"})
    pages = _read(world)
    assert "S000006" in _mapped(pages)
    service.start_run(world.rt, NAME, kind="reconcile")
    issues = _errors(world)["S000006"][1]
    assert {issue["field"] for issue in issues} == {"last_name", "email"}


def test_without_the_capability_an_unchanged_error_row_is_kept_by_its_mapped_digest(
    sync_engine: Any, tmp_path: Any
) -> None:
    world = _world_without_fingerprints(sync_engine, tmp_path)
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000006", last_name="")
    service.start_run(world.rt, NAME)
    stager = replace(_stager(world), by_fingerprint=False)
    people = list(world.fake.people[Role.STUDENT].values())
    with world.engine.connect() as conn:
        page = stager.map_page(conn, Role.STUDENT, people)
    assert page.kept == ["S000006"]
    assert "S000006" not in {record.mis_id for record, _digest in page.fresh}
    assert page.imported == 12


def _held(world: World, run_id: int = 0) -> Holdings:
    with world.engine.connect() as conn:
        return holdings(conn, world.integration_id, run_id)


def test_a_first_sync_holds_nothing_then_its_error_rows_are_held(world: World) -> None:
    world.add(Role.STUDENT, 3)
    world.fake.update_person(Role.STUDENT, "S000001", last_name="")
    assert _held(world) == Holdings(digests=False, errors=False, skips=False, overrides=False)
    first = service.start_run(world.rt, NAME)
    assert _held(world).errors  # its error row, seen from another run
    assert not _held(world, first.run_id).errors  # a run's own rows are not earlier ones
    with world.engine.begin() as conn:
        review.skip(conn, NAME, "S000001", actor="test")
    assert _held(world) == Holdings(digests=False, errors=True, skips=True, overrides=False)


def test_committed_users_hold_digests_and_edits_are_held(world: World) -> None:
    first_sync_with_an_edit(world, students=4)
    assert world.staged("error") == []
    assert _held(world) == Holdings(digests=True, errors=False, skips=False, overrides=True)


def test_vouching_asks_about_skips_and_edits_only_where_there_are_any(world: World) -> None:
    import sqlalchemy as sa

    from connectkit.store.tables import users

    first_sync_with_an_edit(world, students=6)  # S000001 edited
    prints = {p.mis_id: fingerprint(p) for p in world.fake.people[Role.STUDENT].values()}
    stager = replace(_stager(world), held=_held(world))
    digest = fingerprint_digest(stager.salt, prints["S000001"])
    with world.engine.begin() as conn:  # as if it held its fingerprint's digest
        conn.execute(sa.update(users).where(users.c.mis_id == "S000001").values(source_hash=digest))
    with world.engine.connect() as conn:
        assert "S000001" not in stager.vouch(conn, prints)
        blind = replace(stager, held=stager.held._replace(overrides=False))
        assert "S000001" in blind.vouch(conn, prints)  # what the flag spares asking


def test_vouching_a_page_larger_than_one_statement_takes(world: World) -> None:
    from connectkit.sync import stage

    first_sync(world)
    prints = {p.mis_id: fingerprint(p) for p in world.fake.people[Role.STUDENT].values()}
    noise = {f"X{n:06d}": f"{n:032x}" for n in range(2 * stage._PAIRS + 5)}
    with world.engine.connect() as conn:
        vouched = _stager(world).vouch(conn, noise | prints)
    assert vouched == set(prints)
