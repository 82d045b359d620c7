"""First sync (R3, R1.4): Draft, the three lists, review order, confirm, counts."""

from __future__ import annotations

import pytest

from connectkit.errors import StateError
from connectkit.hookspecs import hookimpl
from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit.plugins.manager import register
from connectkit.reports import RunReport
from connectkit.sync import actions, review, service

from .conftest import NAME, only


def person(mis_id: str, first: str | None, last: str | None, email: str | None = None,
           groups: tuple[str, ...] = ("yr-1",), role: Role = Role.STUDENT) -> MISPerson:
    kind = GroupKind.YEAR if role is Role.STUDENT else GroupKind.STAFF
    return MISPerson(
        mis_id=mis_id, role=role, first_name=first, last_name=last, person_id=f"upi-{mis_id}",
        emails={"primary": email} if email else {},
        groups=tuple(GroupMembership(group_id=g, kind=kind) for g in groups),
    )


class Reports:
    def __init__(self) -> None:
        self.seen: list[RunReport] = []

    @hookimpl
    def connectkit_run_finished(self, report: RunReport) -> None:
        self.seen.append(report)


def test_every_imported_record_lands_in_exactly_one_list(world) -> None:
    dup_user = world.add_directory_user("Dana", "Fox", email="dana.fox@x.org")
    world.fake.add_people(Role.STUDENT, [
        person("S1", "Ann", "Lee", "ann@x.org"),
        person("S2", "", "Lee", "b@x.org"),                       # required
        person("S3", "Cy", "Lee", "not-an-email"),                # email
        person("S4", "Dee", "Lee", "d@x.org", ("yr-1", "yr-6")),  # two user types
        person("S5", "DANA", " fox ", "Dana.Fox@X.org"),          # duplicate
        person("S6", "Eve", "Lee", "e@x.org", ("yr-1", "yr-2")),  # two groups, one type: ok
        person("S7", "Fay", "Lee", "f@x.org", ("reg-1",)),        # unmapped group: not imported
    ])
    res = service.start_run(world.rt, NAME)
    assert (res.status, res.kind) == ("awaiting_review", "first")
    assert world.status() == ("draft", "ok")
    lists = {r["mis_id"]: r["list"] for r in world.staged()}
    assert lists == {"S1": "ready", "S2": "error", "S3": "error", "S4": "error",
                     "S5": "duplicate", "S6": "ready"}
    issues = {r["mis_id"]: r["issues"] for r in world.staged("error")}
    assert only(issues["S2"])["field"] == "first_name"
    assert issues["S2"][0]["rule"] == "required"
    email_issue = only(issues["S3"])
    assert (email_issue["field"], email_issue["rule"], email_issue["value"],
            email_issue["record"]) == ("email", "email", "not-an-email", "S3")
    groups_issue = only(issues["S4"])
    assert (groups_issue["field"], groups_issue["rule"]) == ("user_type", "groups")
    assert "yr-1" in groups_issue["value"]
    assert "yr-6" in groups_issue["value"]
    dup = only(world.staged("duplicate"))
    assert (dup["match_user_id"], dup["match_key"]) == (dup_user, "name+email")
    assert (res.errors, res.duplicates, res.ready) == (3, 1, 2)
    assert world.users_raw()[0]["id"] == dup_user
    assert len(world.users_raw()) == 1


def test_confirm_waits_for_errors_then_duplicates_then_commits(world) -> None:
    reports = Reports()
    register(world.rt.hooks.pm, "reports", reports)
    dup_user = world.add_directory_user("Dana", "Fox", email="dana.fox@x.org")
    world.fake.add_people(Role.STUDENT, [
        person("S1", "Ann", "Lee", "ann@x.org"),
        person("S2", "", "Lee", "b@x.org"),
        person("S5", "Dana", "Fox", "dana.fox@x.org"),
        person("S6", "Gus", "Lee", "g@x.org"),
    ])
    run = service.start_run(world.rt, NAME)
    assert [r.status for r in reports.seen] == ["awaiting_review"]
    with pytest.raises(StateError, match="errors list"):
        service.confirm(world.rt, NAME)
    with world.engine.begin() as conn:
        review.edit(conn, NAME, "S2", {"first_name": "Bea"}, actor="admin")
    with pytest.raises(StateError, match="duplicates list"):
        service.confirm(world.rt, NAME)
    assert world.status() == ("draft", "ok")
    with world.engine.begin() as conn:
        review.merge(conn, NAME, "S5", actor="admin")
        review.skip(conn, NAME, "S6", actor="admin")
    res = service.confirm(world.rt, NAME, run.run_id)
    assert res.status == "committed"
    assert world.status() == ("active", "ok")
    assert {k: v for k, v in res.counts.items() if v} == {"created": 2, "merged": 1, "skipped": 1}
    directory = {u["mis_id"]: u for u in world.directory()}
    assert set(directory) == {"S1", "S2", "S5"}
    assert directory["S2"]["first_name"] == "Bea"  # the admin's edit
    merged = [u for u in world.users_raw() if u["mis_id"] == "S5"]
    assert only(merged)["id"] == dup_user
    assert only(merged)["integration_id"] == world.integration_id
    assert reports.seen[-1].status == "committed"
    assert reports.seen[-1].counts["created"] == 2
    assert res.ready == 0
    assert [r["mis_id"] for r in world.staged()] == ["S6"]  # skipped: kept, in no list
    _assert_counts_equal_lines(world, res.run_id, res.counts)


def test_confirm_refuses_a_second_time_and_start_refuses_during_draft(world) -> None:
    world.add(Role.STUDENT, 3)
    service.start_run(world.rt, NAME)
    with pytest.raises(StateError, match="not finished"):
        service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    with pytest.raises(StateError, match="no run to confirm"):
        service.confirm(world.rt, NAME)


def test_draft_integration_event_log_records_causes(world) -> None:
    from connectkit import integrations as lifecycle

    world.add(Role.STAFF, 4)
    run = service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    with world.engine.connect() as conn:
        events = [e for e in lifecycle.events(conn, world.integration_id) if e.kind == "status"]
    assert [(e.from_value, e.to_value) for e in events][-2:] == [("ready", "draft"),
                                                                  ("draft", "active")]
    assert f"run {run.run_id}" in events[-1].cause
    assert events[-1].actor == "test"


def _assert_counts_equal_lines(world, run_id: int, counts: dict[str, int]) -> None:
    lines = world.lines(run_id)
    from_lines = dict.fromkeys(actions.COUNTS, 0)
    for line in lines:
        assert line["outcome"] in (actions.OK, actions.FAILED)
        key = "failed" if line["outcome"] == actions.FAILED else actions.COUNT_OF[line["action"]]
        from_lines[key] += 1
    assert from_lines == counts
