"""``connectkit sync ...`` end to end: config file, fake connector, real store and engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectkit.app import App
from connectkit.models import GroupKind, GroupMembership, MISGroup, MISPerson, Role
from connectkit.testing.fake import FakeConnector

from .conftest import Invoke, config_text

INTEGRATION = """
[[integrations]]
name = "School"
[integrations.connector]
type = "fake"
school = "S1"
token = "${FAKE_TOKEN}"
[integrations.settings]
sites = ["Main"]
[integrations.settings.guard]
max_deletions = 2
max_deletion_percent = 10
[integrations.mapping.students.fields]
first_name = "first_name"
last_name = "last_name"
"emails.primary" = "email"
[integrations.mapping.students.groups]
"Y7" = "Student"
"""


def pupil(mis_id: str, first: str, email: str) -> MISPerson:
    return MISPerson(
        mis_id=mis_id, role=Role.STUDENT, first_name=first, last_name="Pupil",
        emails={"primary": email}, groups=(GroupMembership(group_id="Y7", kind=GroupKind.YEAR),),
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeConnector:
    connector = FakeConnector(page_size=3)
    connector.add_groups([MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR)])
    connector.add_people(Role.STUDENT, [pupil(f"p{i}", f"Kid{i}", f"kid{i}@school.example")
                                        for i in range(8)])
    original = App.from_config.__func__  # type: ignore[attr-defined]

    def with_fake(cls: type[App], /, path: Path | None = None, **kwargs: Any) -> App:
        return original(cls, path, extra_plugins=[("fake", connector)])  # type: ignore[no-any-return]

    monkeypatch.setattr(App, "from_config", classmethod(with_fake))
    monkeypatch.setenv("FAKE_TOKEN", "tok-sync-cli-31415")
    return connector


def setup_store(tmp_path: Path, url: str, invoke: Invoke) -> list[str]:
    cfg = tmp_path / "ck.toml"
    cfg.write_text(config_text(url) + INTEGRATION, "utf-8")
    args = ["--config", str(cfg)]
    assert invoke(*args, "db", "upgrade").exit_code == 0
    applied = invoke(*args, "integrations", "apply")
    assert applied.exit_code == 0, applied.output
    return args


@pytest.fixture
def base(tmp_path: Path, sqlite_url: str, invoke: Invoke, fake: FakeConnector) -> list[str]:
    return setup_store(tmp_path, sqlite_url, invoke)


def as_json(invoke: Invoke, *args: str, code: int = 0) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.output)


def test_first_sync_asks_once_more_then_confirm_commits(
    tmp_path: Path, store_url: str, invoke: Invoke, fake: FakeConnector
) -> None:
    base = setup_store(tmp_path, store_url, invoke)
    asked = invoke(*base, "sync", "start", "School")
    assert asked.exit_code == 3
    assert "needs confirmation" in asked.output
    assert "sync confirm" in asked.output
    assert "8 ready" in asked.output
    refused = invoke(*base, "sync", "confirm", "School")
    assert refused.exit_code == 3
    done = as_json(invoke, *base, "sync", "confirm", "School", "--yes")
    assert done["status"] == "committed"
    assert done["counts"]["created"] == 8
    assert done["kind"] == "first"


def test_start_yes_then_plan_shows_changes_without_writing(
    base: list[str], invoke: Invoke, fake: FakeConnector
) -> None:
    first = as_json(invoke, *base, "sync", "start", "School", "--yes")
    assert (first["status"], first["counts"]["created"]) == ("committed", 8)
    fake.update_person(Role.STUDENT, "p2", first_name="Renamed")
    plan = as_json(invoke, *base, "sync", "plan", "School", "--lines")
    assert plan["status"] == "planned"
    # incremental: only p2 changed (others re-read within the overlap plan as unchanged)
    assert {k: v for k, v in plan["planned"].items() if k != "unchanged"} == {"update": 1}
    line = plan["lines"][0]
    assert (line["mis_id"], line["action"]) == ("p2", "update")
    assert line["detail"]["diff"]["first_name"] == ["Kid2", "Renamed"]
    human = invoke(*base, "sync", "plan", "School", "--lines")
    assert human.exit_code == 0
    assert "Renamed" in human.output
    again = as_json(invoke, *base, "sync", "start", "School")
    assert again["counts"]["updated"] == 1
    full = as_json(invoke, *base, "sync", "start", "School", "--full")
    assert full["counts"]["unchanged"] == 8
    assert full["counts"]["updated"] == 0


def test_review_needed_and_nothing_to_continue(
    base: list[str], invoke: Invoke, fake: FakeConnector
) -> None:
    fake.add_people(Role.STUDENT, [pupil("bad", "Bad", "not-an-email")])
    started = invoke(*base, "sync", "start", "School", "--yes")
    assert started.exit_code == 0
    assert "1 error(s)" in started.output
    assert "review" in started.output
    refused = invoke(*base, "sync", "confirm", "School", "--yes")
    assert refused.exit_code == 3
    assert "errors list" in refused.output
    waiting = as_json(invoke, *base, "sync", "continue", "School")
    assert waiting["status"] == "awaiting_review"
    assert invoke(*base, "review", "skip", "School", "bad").exit_code == 0
    done = as_json(invoke, *base, "sync", "confirm", "School", "--yes")
    assert done["counts"]["created"] == 8
    assert done["counts"]["skipped"] == 1
    nothing = invoke(*base, "sync", "continue", "School")
    assert nothing.exit_code == 3
    assert "no unfinished sync run" in nothing.output


def test_held_run_needs_approval(base: list[str], invoke: Invoke, fake: FakeConnector) -> None:
    as_json(invoke, *base, "sync", "start", "School", "--yes")
    for i in range(4):
        fake.remove_person(Role.STUDENT, f"p{i}")
    held = as_json(invoke, *base, "sync", "start", "School")
    assert held["status"] == "on_hold"
    assert "4 of 8" in held["held"][0]
    assert invoke(*base, "sync", "approve", "School").exit_code == 3
    done = as_json(invoke, *base, "sync", "approve", "School", "--yes", "--run",
                   str(held["run_id"]))
    assert done["status"] == "committed"
    assert done["counts"]["deactivated"] == 4
    assert invoke(*base, "sync", "reject", "School").exit_code == 3  # nothing held any more
