"""Generic exports through the connector: mapping, groups, paging, changes and deletions."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectkit.errors import BadResponseError
from connectkit.models import GroupKind, GroupMembership, Role

from .builders import GENERIC_HEADER, csv_text, generic_export, students, write


def people(connector, ctx, role=Role.STUDENT, since=None, cursor=None):  # type: ignore[no-untyped-def]
    pages = list(connector.connectkit_fetch_people(ctx=ctx, role=role, since=since, cursor=cursor))
    return pages, [p for page in pages for p in page.people]


def test_rows_are_mapped_by_header_name_whatever_the_order(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    order = [8, 2, 0, 7, 1, 3, 4, 5, 6]  # shuffle the columns
    header = [GENERIC_HEADER[i] for i in order]
    rows = [[row[i] for i in order] for row in students(3)]
    write(tmp_path / "students.csv", csv_text(header, rows, ";"), "cp1252")
    _, found = people(connector, make_ctx(config))
    first = found[0]
    assert (first.mis_id, first.first_name, first.last_name) == ("S0001", "Given1", "Family1")
    assert first.emails == {"primary": "given1@school.example"}
    assert first.phones == {"primary": "07700 900001"}
    assert first.date_of_birth == date(2012, 5, 17)
    assert first.updated_at == datetime(2026, 1, 2, 8, tzinfo=UTC)
    assert first.groups == (
        GroupMembership(group_id="Year 8", kind=GroupKind.YEAR),
        GroupMembership(group_id="8A", kind=GroupKind.REGISTRATION),
    )
    assert first.extras["Registration Group"] == "8A"


def test_a_student_in_two_year_groups_keeps_both(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    rows = students(2)
    rows[1] = (*rows[1][:6], "Year 9|Year 10", *rows[1][7:])
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, rows))
    _, found = people(connector, make_ctx(config))
    years = [g.group_id for g in found[1].groups if g.kind is GroupKind.YEAR]
    assert years == ["Year 9", "Year 10"]


def test_bad_date_is_left_empty_with_a_warning_naming_line_and_column(  # type: ignore[no-untyped-def]
    tmp_path, connector, make_ctx, caplog
):
    config = generic_export(tmp_path)
    rows = students(2)
    rows[1] = (*rows[1][:5], "31/02/2012", *rows[1][6:])
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, rows))
    with caplog.at_level(logging.WARNING):
        _, found = people(connector, make_ctx(config))
    assert found[1].date_of_birth is None
    assert found[1].extras["Date of Birth"] == "31/02/2012"
    assert "students.csv: line 3, column 6 ('Date of Birth'): not a valid date_of_birth" in (
        caplog.text
    )
    assert "31/02/2012" not in caplog.text


def test_an_empty_mis_id_is_a_clear_error(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    rows = students(2)
    rows[1] = ("", *rows[1][1:])
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, rows))
    with pytest.raises(
        BadResponseError, match=r"line 3, column 1 \('MIS ID'\): the MIS id is empty"
    ):
        people(connector, make_ctx(config))


def test_a_repeated_id_is_skipped_with_a_warning(tmp_path, connector, make_ctx, caplog):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    rows = students(12)
    rows[9] = ("S0002", *rows[9][1:])  # same id as line 3, in a later page
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, rows))
    with caplog.at_level(logging.WARNING):
        _, found = people(connector, make_ctx(config))
    ids = [p.mis_id for p in found]
    assert len(ids) == len(set(ids)) == 11
    assert "record S0002 on line 11 repeats the id of line 3" in caplog.text


def test_pages_resume_from_a_cursor(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path, n_students=23))
    pages, found = people(connector, ctx)
    assert [len(p.people) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[1].cursor == "p1.r10"
    _, rest = people(connector, ctx, cursor=pages[1].cursor)
    assert [p.mis_id for p in rest] == [p.mis_id for p in found[10:]]


def test_a_cursor_into_a_replaced_file_restarts_the_pass(tmp_path, connector, make_ctx, caplog):  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path, n_students=12))
    pages, _ = people(connector, ctx)
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, students(7, start=101)))
    _, resumed = people(connector, ctx, cursor=pages[0].cursor)
    assert [p.mis_id for p in resumed] == [f"S{n:04d}" for n in range(101, 108)]
    assert "export changed since cursor p1.r5 was issued" in caplog.text


def test_a_foreign_cursor_is_refused(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    with pytest.raises(BadResponseError, match="was not issued by this connector"):
        people(connector, make_ctx(generic_export(tmp_path)), cursor="https://evil/?page=2")


def test_unchanged_rows_are_not_sent_again_and_changes_are(tmp_path, connector, make_ctx, clock):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    config["columns"]["students"].pop("updated_at")  # no row dates: the snapshot decides
    ctx = make_ctx(config)
    _, first = people(connector, ctx)
    assert len(first) == 23
    last_run = clock.tick()
    _, again = people(connector, ctx, since=last_run)
    assert again == []
    rows = students(23)
    rows[4] = (rows[4][0], "Renamed", *rows[4][2:])
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, rows))
    clock.tick()
    _, changed = people(connector, ctx, since=last_run)
    assert [(p.mis_id, p.first_name) for p in changed] == [("S0005", "Renamed")]


def test_rows_that_disappear_are_reported_as_deletions(tmp_path, connector, make_ctx, clock):  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path, n_students=10))
    people(connector, ctx)
    assert list(connector.connectkit_fetch_deletions(ctx=ctx, since=None)) == []
    before = clock.tick()
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, students(10)[2:]))
    deletions = list(connector.connectkit_fetch_deletions(ctx=ctx, since=before))
    assert [(d.mis_id, d.role, d.deleted_at) for d in deletions] == [
        ("S0001", Role.STUDENT, before),
        ("S0002", Role.STUDENT, before),
    ]
    later = clock.tick()
    assert list(connector.connectkit_fetch_deletions(ctx=ctx, since=later)) == []
    write(tmp_path / "students.csv", csv_text(GENERIC_HEADER, students(10)[1:]))
    _, back = people(connector, ctx, since=later)
    assert [p.mis_id for p in back] == ["S0002"]
    restored = list(connector.connectkit_fetch_deletions(ctx=ctx, since=later))
    assert [(d.mis_id, d.restored_at) for d in restored] == [("S0002", later)]


def test_groups_are_derived_from_people_when_no_groups_file(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    groups = list(connector.connectkit_fetch_groups(ctx=make_ctx(generic_export(tmp_path))))
    by_id = {g.id: g for g in groups}
    assert by_id["Year 7"].kind is GroupKind.YEAR
    assert by_id["7A"].kind is GroupKind.REGISTRATION
    assert by_id["Teaching"].kind is GroupKind.STAFF
    assert by_id["Teaching"].role is Role.STAFF
    assert len(groups) == len(by_id)


def test_groups_file_is_used_when_configured(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    config["groups"] = "groups.csv"
    write(
        tmp_path / "groups.csv", "id,name,kind,code\r\nY7,Year 7,year,07\r\nT,Teachers,staff,\r\n"
    )
    groups = list(connector.connectkit_fetch_groups(ctx=make_ctx(config)))
    assert [(g.id, g.kind, g.code, g.role) for g in groups] == [
        ("Y7", GroupKind.YEAR, "07", Role.STUDENT),
        ("T", GroupKind.STAFF, None, Role.STAFF),
    ]
    write(tmp_path / "groups.csv", "id,name,kind\r\nX,Odd,tribe\r\n")
    with pytest.raises(BadResponseError, match=r"groups.csv: line 2: 'tribe' is not a valid"):
        list(connector.connectkit_fetch_groups(ctx=make_ctx(config, "again")))


def _peak_bytes(tmp_path: Path, connector, make_ctx, rows: int) -> int:  # type: ignore[no-untyped-def]
    import tracemalloc

    config = generic_export(tmp_path / str(rows), n_students=rows)
    config["page_size"] = 200
    ctx = make_ctx(config, f"mem{rows}")
    tracemalloc.start()
    count = 0
    for page in connector.connectkit_fetch_people(
        ctx=ctx, role=Role.STUDENT, since=None, cursor=None
    ):
        count += len(page.people)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == rows
    return peak


def test_memory_is_flat_in_file_size(tmp_path: Path, connector, make_ctx):  # type: ignore[no-untyped-def]
    small = _peak_bytes(tmp_path, connector, make_ctx, 1_000)
    large = _peak_bytes(tmp_path, connector, make_ctx, 4_000)
    assert large < small * 1.5, f"peak {small} bytes for 1,000 rows but {large} for 4,000"
