"""Photos, attendance codes, write-back outbox, formula escaping, paths and access."""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from datetime import date
from pathlib import Path

import pytest

from connectkit.errors import (
    ConfigError,
    InvalidCredentialsError,
    NotFoundError,
    PhotoRejectedError,
)
from connectkit.models import AttendanceMark, Role, WriteBackState
from connectkit_csv_mis.connector import CsvConnector
from connectkit_csv_mis.escape import escape_cell
from connectkit_csv_mis.paths import resolve_inside
from connectkit_csv_mis.photos import check_photo, image_type

from .builders import generic_export, write

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
REAL_PNG = (EXAMPLES / "sample-school" / "photos" / "S00001.png").read_bytes()
TINY_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


# --- photos ----------------------------------------------------------------------------


def test_image_type_tells_real_images_from_fakes() -> None:
    assert image_type(REAL_PNG) == "image/png"
    assert image_type(TINY_JPEG) == "image/jpeg"
    assert image_type(b"GIF89a....") is None
    assert image_type(REAL_PNG[:40]) is None  # truncated
    broken = bytearray(REAL_PNG)
    broken[20] ^= 0xFF  # IHDR CRC no longer matches
    assert image_type(bytes(broken)) is None


def test_check_photo_names_the_person() -> None:
    assert check_photo("S1", REAL_PNG, 10_000) == "image/png"
    with pytest.raises(PhotoRejectedError, match=r"record S1, field photo: .*not a real JPEG"):
        check_photo("S1", b"<html>", 10_000)
    with pytest.raises(PhotoRejectedError, match="larger than the 100-byte limit"):
        check_photo("S1", REAL_PNG, 100)


def test_photos_feed_hashes_caps_and_skips_unchanged(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    config.update(photos="photos", photo_max_bytes=2048)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "S0001.png").write_bytes(REAL_PNG)
    (folder / "S0002.jpg").write_bytes(b"not an image at all")
    (folder / "S0003.jpg").write_bytes(TINY_JPEG[:-2] + b"\x00" * 1_000_000 + b"\xff\xd9")
    (folder / "notes.txt").write_text("ignored")
    os.symlink("/etc/passwd", folder / "S0004.png")
    ctx = make_ctx(config)
    photos = {p.mis_id: p for p in connector.connectkit_fetch_photos(ctx=ctx, known_hashes={})}
    assert sorted(photos) == ["S0001", "S0002", "S0003"]
    assert photos["S0001"].content_type == "image/png"
    assert photos["S0001"].content_hash == hashlib.sha256(REAL_PNG).hexdigest()
    assert photos["S0002"].content_type == "application/octet-stream"
    assert len(photos["S0003"].content) == 2049  # stopped reading past the limit
    with pytest.raises(PhotoRejectedError, match="larger than"):
        check_photo("S0003", photos["S0003"].content, 2048)
    known = {"S0001": photos["S0001"].content_hash}
    again = [p.mis_id for p in connector.connectkit_fetch_photos(ctx=ctx, known_hashes=known)]
    assert again == ["S0002", "S0003"]


def test_photo_column_with_traversal_is_refused_for_that_person(
    tmp_path,
    connector,  # type: ignore[no-untyped-def]
    make_ctx,
    caplog,
):
    config = generic_export(tmp_path, n_students=0)
    write(
        tmp_path / "students.csv",
        "MIS ID,First Name,Last Name,Pic\r\nS1,A,B,a.png\r\nS2,C,D,../../secret.png\r\n",
    )
    (tmp_path / "secret.png").write_bytes(REAL_PNG)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.png").write_bytes(REAL_PNG)
    config["columns"]["students"] = {
        "mis_id": "MIS ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "photo": "Pic",
    }
    config["photos"] = "photos"
    photos = list(connector.connectkit_fetch_photos(ctx=make_ctx(config), known_hashes={}))
    assert [p.mis_id for p in photos] == ["S1"]
    assert "photo of record S2" in caplog.text


# --- attendance codes -------------------------------------------------------------------


def test_dfe_codes_are_the_default(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    codes = {
        c.code: c
        for c in connector.connectkit_fetch_attendance_codes(ctx=make_ctx(generic_export(tmp_path)))
    }
    assert codes["/"].meaning == "present"
    assert codes["N"].meaning == "unauthorised absence"
    assert {"L", "I", "M", "G", "O", "U", "#", "Z", "Y1", "C1"} <= set(codes)


def test_codes_file_replaces_the_default(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    config["codes"] = "codes.csv"
    write(tmp_path / "codes.csv", "code;description;meaning\r\nP1;Present;present\r\nA;Away;\r\n")
    codes = list(connector.connectkit_fetch_attendance_codes(ctx=make_ctx(config)))
    assert [(c.code, c.description, c.meaning) for c in codes] == [
        ("P1", "Present", "present"),
        ("A", "Away", None),
    ]


# --- write-back -----------------------------------------------------------------------


def mark(n: int, code: str = "/", comment: str | None = None) -> AttendanceMark:
    return AttendanceMark(
        key=f"S{n:04d}:2026-03-02:AM",
        student_mis_id=f"S{n:04d}",
        date=date(2026, 3, 2),
        session="AM",
        code=code,
        comment=comment,
    )


def outbox_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_write_back_is_idempotent_and_records_lines(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path))
    (first,) = connector.connectkit_write_back(ctx=ctx, marks=[mark(1), mark(2)])
    assert first.state is WriteBackState.DONE
    assert first.remote_id == "attendance_marks.csv:2-3"
    (retry,) = connector.connectkit_write_back(ctx=ctx, marks=[mark(2), mark(3, "L")])
    assert retry.remote_id == "attendance_marks.csv:4-4"
    assert "1 already present" in (retry.detail or "")
    path = tmp_path / "outbox" / "attendance_marks.csv"
    rows = outbox_rows(path)
    assert rows[0][0] == "mark_key"
    assert [r[0] for r in rows[1:]] == [
        "S0001:2026-03-02:AM",
        "S0002:2026-03-02:AM",
        "S0003:2026-03-02:AM",
    ]
    (same,) = connector.connectkit_write_back(ctx=ctx, marks=[mark(1)])
    assert same.remote_id == "attendance_marks.csv:2-2"
    assert len(outbox_rows(path)) == 4
    status = connector.connectkit_write_back_status(ctx=ctx, receipt=retry)
    assert status.state is WriteBackState.DONE
    path.write_text(path.read_text().splitlines()[0] + "\r\n")
    lost = connector.connectkit_write_back_status(ctx=ctx, receipt=retry)
    assert lost.state is WriteBackState.FAILED
    assert "2 mark(s) not in attendance_marks.csv" in (lost.detail or "")


def test_concurrent_write_backs_never_lose_or_double_a_mark(tmp_path, make_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path))
    connector = CsvConnector()
    batches = [[mark(n) for n in range(start, start + 20)] for start in (1, 11, 21, 31)]
    threads = [
        threading.Thread(
            target=connector.connectkit_write_back, kwargs={"ctx": ctx, "marks": batch}
        )
        for batch in batches
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [r[0] for r in outbox_rows(tmp_path / "outbox" / "attendance_marks.csv")[1:]]
    assert sorted(keys) == [f"S{n:04d}:2026-03-02:AM" for n in range(1, 51)]
    leftovers = [p.name for p in (tmp_path / "outbox").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_failed_write_leaves_the_outbox_as_it_was(
    tmp_path, connector, make_ctx, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import connectkit_csv_mis.outbox as outbox

    ctx = make_ctx(generic_export(tmp_path))
    connector.connectkit_write_back(ctx=ctx, marks=[mark(1)])
    path = tmp_path / "outbox" / "attendance_marks.csv"
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        connector.connectkit_write_back(ctx=ctx, marks=[mark(2), mark(3)])
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".attendance_marks.csv.lock",
        "attendance_marks.csv",
    ]
    monkeypatch.undo()
    (receipt,) = connector.connectkit_write_back(ctx=ctx, marks=[mark(2), mark(3)])
    assert receipt.remote_id == "attendance_marks.csv:3-4"


def test_formula_cells_are_escaped_in_the_outbox(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(generic_export(tmp_path))
    hostile = AttendanceMark(
        key='=HYPERLINK("http://x")',
        student_mis_id="@SUM(A1)",
        date=date(2026, 3, 2),
        session="PM",
        code="-",
        comment="+cmd|' /C calc'!A0",
    )
    connector.connectkit_write_back(ctx=ctx, marks=[hostile])
    row = outbox_rows(tmp_path / "outbox" / "attendance_marks.csv")[1]
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[1] == "'@SUM(A1)"
    assert row[4] == "-"  # the DfE code is one character, not a formula
    assert row[6] == "'+cmd|' /C calc'!A0"
    (again,) = connector.connectkit_write_back(ctx=ctx, marks=[hostile])
    assert "already" in (again.detail or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946 0000", "+44 20 7946 0000"),
        ("-3", "-3"),
        ("-", "-"),
        ("@x", "'@x"),
        ("\t=x", "'\t=x"),
        ("plain", "plain"),
        ("", ""),
        ("-2+3+cmd", "'-2+3+cmd"),
    ],
)
def test_escape_cell(value: str, expected: str) -> None:
    assert escape_cell(value) == expected


# --- paths and access -----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "../students.csv",
        "a/../../b.csv",
        "/etc/passwd",
        "C:\\Windows\\x.csv",
        "..\\..\\x.csv",
        "a\x00b",
    ],
)
def test_path_traversal_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="csv_mis config: students"):
        resolve_inside(tmp_path, bad, "students")


def test_a_symlink_out_of_the_export_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    os.symlink("/etc", tmp_path / "root" / "link")
    with pytest.raises(ConfigError, match="points outside the export folder"):
        resolve_inside(tmp_path / "root", "link/passwd", "students")


def test_traversal_in_config_is_refused_by_every_operation(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path / "export")
    config["staff"] = "../staff.csv"
    write(tmp_path / "staff.csv", "MIS ID\r\nX\r\n")
    ctx = make_ctx(config)
    with pytest.raises(ConfigError, match=r"'\.\./staff\.csv' leaves the export folder"):
        connector.connectkit_check_credentials(ctx=ctx)
    with pytest.raises(ConfigError):
        list(connector.connectkit_fetch_people(ctx=ctx, role=Role.STAFF, since=None, cursor=None))
    config = generic_export(tmp_path / "export")
    config["outbox"] = "../../outbox.csv"
    with pytest.raises(ConfigError, match="leaves the export folder"):
        connector.connectkit_write_back(ctx=make_ctx(config, "o"), marks=[mark(1)])


def test_check_credentials_names_the_problem(tmp_path, connector, make_ctx) -> None:  # type: ignore[no-untyped-def]
    config = generic_export(tmp_path)
    assert connector.connectkit_check_credentials(ctx=make_ctx(config)).name == tmp_path.name
    (tmp_path / "staff.csv").unlink()
    with pytest.raises(NotFoundError, match=r"staff file 'staff\.csv' not found"):
        connector.connectkit_check_credentials(ctx=make_ctx(config))
    (tmp_path / "staff.csv").mkdir()
    with pytest.raises(NotFoundError, match="is a folder, not a CSV file"):
        connector.connectkit_check_credentials(ctx=make_ctx(config))
    (tmp_path / "staff.csv").rmdir()
    write(tmp_path / "staff.csv", "Id,Name\r\n1,a\r\n")
    with pytest.raises(InvalidCredentialsError, match=r"staff\.csv: line 1: no column 'MIS ID'"):
        connector.connectkit_check_credentials(ctx=make_ctx(config))


def test_request_access_is_declared_unsupported(connector) -> None:  # type: ignore[no-untyped-def]
    info = connector.connectkit_connector_info()
    assert info.capabilities.request_access is False
    assert not hasattr(connector, "connectkit_request_access")


def test_the_plugin_is_found_through_its_entry_point() -> None:
    from connectkit.plugins.facade import Hooks
    from connectkit.plugins.manager import load_plugins

    pm, report = load_plugins(enabled=["csv_mis"])
    assert "csv_mis" in [p.name for p in report.loaded]
    assert Hooks(pm).connector("csv_mis").info.title == "CSV export / OneRoster CSV"
