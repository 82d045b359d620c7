"""``connectkit logs``: runs newest first, one run's lines; counts equal the lines."""

from __future__ import annotations

from collections import Counter

from connectkit.models import Role
from connectkit.sync.actions import COUNT_OF
from connectkit.testing.fake import FakeConnector

from .conftest import Invoke
from .test_sync_cmd import as_json, base, fake  # noqa: F401 - fixtures


def test_logs_list_runs_and_lines(base: list[str], invoke: Invoke,  # noqa: F811
                                  fake: FakeConnector) -> None:  # noqa: F811
    first = as_json(invoke, *base, "sync", "start", "School", "--yes")
    fake.update_person(Role.STUDENT, "p1", first_name="Changed")
    fake.remove_person(Role.STUDENT, "p7")
    second = as_json(invoke, *base, "sync", "start", "School", "--full")
    runs = as_json(invoke, *base, "logs", "School")["runs"]
    assert [r["run"] for r in runs] == [second["run_id"], first["run_id"]]
    assert runs[0]["counts"] == second["counts"]
    detail = as_json(invoke, *base, "logs", "School", "--run", str(second["run_id"]))
    assert detail["run"]["status"] == "committed"
    by_action = Counter(COUNT_OF[ln["action"]] for ln in detail["lines"] if ln["outcome"] == "ok")
    assert {k: v for k, v in second["counts"].items() if v} == dict(by_action)
    assert by_action == {"updated": 1, "deactivated": 1, "unchanged": 6}
    human = invoke(*base, "logs", "School", "--run", str(second["run_id"]))
    assert human.exit_code == 0
    assert "deactivate" in human.output
    assert "p7" in human.output
    table = invoke(*base, "logs", "School")
    assert table.exit_code == 0
    assert "committed" in table.output
    missing = invoke(*base, "logs", "School", "--run", "999")
    assert missing.exit_code == 3
    assert "no sync run 999" in missing.output
