"""``connectkit review ...`` on a real first sync (fake connector, real engine, real store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from connectkit import integrations as ig
from connectkit.app import App
from connectkit.models import GroupKind, GroupMembership, MISGroup, MISPerson, Role
from connectkit.store.tables import users
from connectkit.sync import service
from connectkit.sync.keys import user_keys
from connectkit.sync.runtime import Runtime
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
[integrations.mapping.students.fields]
first_name = "first_name"
last_name = "last_name"
"emails.primary" = "email"
[integrations.mapping.students.groups]
"Y7" = "Student"
"""


def _person(mis_id: str, first: str, last: str, email: str) -> MISPerson:
    return MISPerson(
        mis_id=mis_id, role=Role.STUDENT, first_name=first, last_name=last,
        emails={"primary": email}, groups=(GroupMembership(group_id="Y7", kind=GroupKind.YEAR),),
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeConnector:
    connector = FakeConnector()
    connector.add_groups([MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR)])
    people = [_person(f"e{i}", f"Err{i}", "Pupil", "broken-address") for i in range(3)]
    people += [_person("d1", "Cat", "Moss", "cat@school.example"),
               _person("r1", "Ann", "Lee", "ann@school.example")]
    connector.add_people(Role.STUDENT, people)
    original = App.from_config.__func__  # type: ignore[attr-defined]

    def with_fake(cls: type[App], /, path: Path | None = None, **kwargs: Any) -> App:
        return original(cls, path, extra_plugins=[("fake", connector)])  # type: ignore[no-any-return]

    monkeypatch.setattr(App, "from_config", classmethod(with_fake))
    monkeypatch.setenv("FAKE_TOKEN", "tok-review-cli-2718")
    return connector


@pytest.fixture
def base(tmp_path: Path, store_url: str, invoke: Invoke, fake: FakeConnector) -> list[str]:
    """A store with the integration applied and its first sync waiting for review."""
    cfg = tmp_path / "ck.toml"
    cfg.write_text(config_text(store_url) + INTEGRATION, "utf-8")
    args = ["--config", str(cfg)]
    assert invoke(*args, "db", "upgrade").exit_code == 0
    assert invoke(*args, "integrations", "apply").exit_code == 0
    with App.from_config(cfg) as app:
        stamp = ig.now()
        row = {"first_name": "Cat", "last_name": "Moss", "email": "cat@school.example",
               "phone": "+447911123999"}
        with app.engine.begin() as conn:
            conn.execute(insert(users).values(**row, **user_keys(row), active=True,
                                              created_at=stamp, updated_at=stamp))
        result = service.start_run(Runtime(app.engine, ig.Environment.from_app(app)), "School")
    assert (result.errors, result.duplicates, result.ready) == (3, 1, 1)
    return args


def _json(invoke: Invoke, *args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_lists_page_and_show_why(base: list[str], invoke: Invoke) -> None:
    page = _json(invoke, *base, "review", "errors", "School", "--limit", "2")
    assert [r["mis_id"] for r in page["records"]] == ["e0", "e1"]
    assert page["counts"] == {"error": 3, "duplicate": 1, "ready": 1, "skipped": 0}
    issue = page["records"][0]["issues"][0]
    assert (issue["record"], issue["field"], issue["rule"], issue["value"]) == (
        "e0", "email", "email", "broken-address",
    )
    rest = _json(invoke, *base, "review", "errors", "School", "--after",
                 str(page["next_after"]))
    assert [r["mis_id"] for r in rest["records"]] == ["e2"]
    assert rest["next_after"] is None
    whole = _json(invoke, *base, "review", "errors", "School", "--limit", "1", "--all")
    assert [r["mis_id"] for r in whole["records"]] == ["e0", "e1", "e2"]
    dup = _json(invoke, *base, "review", "duplicates", "School")["records"][0]
    assert (dup["mis_id"], dup["match_key"]) == ("d1", "name+email")
    table = invoke(*base, "review", "errors", "School", "--limit", "2")
    assert "Err0" in table.output
    assert "Err1" in table.output
    assert "Err2" not in table.output
    assert "more: --after" in table.output


def test_edit_merge_skip_in_order(base: list[str], invoke: Invoke) -> None:
    early = invoke(*base, "review", "merge", "School", "d1")
    assert early.exit_code == 3
    assert "while 3 error(s) remain" in early.output
    bad = invoke(*base, "review", "edit", "School", "e0", "--set", "colour=red")
    assert bad.exit_code == 3
    assert "record 'e0': field 'colour' cannot be edited" in bad.output
    fixed = _json(invoke, *base, "review", "edit", "School", "e0", "--set",
                  "email=err0@school.example")
    assert fixed["list"] == "ready"
    still = invoke(*base, "review", "edit", "School", "e1", "--set", "email=nope")
    assert "now in error" in still.output
    for mis_id in ("e1", "e2"):
        assert invoke(*base, "review", "skip", "School", mis_id).exit_code == 0
    preview = _json(invoke, *base, "review", "merge", "School", "d1", "--prefer",
                    "email=directory", "--preview")
    assert preview["applied"] is False
    assert preview["winners"]["email"] == "directory"
    assert _json(invoke, *base, "review", "duplicates", "School")["counts"]["duplicate"] == 1
    merged = invoke(*base, "review", "merge", "School", "d1")
    assert merged.exit_code == 0, merged.output
    assert "merged into user 1" in merged.output
    counts = _json(invoke, *base, "review", "ready", "School")["counts"]
    assert counts == {"error": 0, "duplicate": 0, "ready": 3, "skipped": 2}
    back = invoke(*base, "review", "unskip", "School", "e2")
    assert "un-skipped" in back.output
    assert _json(invoke, *base, "review", "errors", "School")["counts"]["error"] == 1
