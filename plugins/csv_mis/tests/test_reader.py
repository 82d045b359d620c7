"""The streaming reader: encodings, delimiters, quoting, blank lines, headers, guards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectkit.errors import BadResponseError
from connectkit_csv_mis.dialect import sniff_delimiter
from connectkit_csv_mis.encoding import detect_encoding
from connectkit_csv_mis.reader import Source, open_csv

from .builders import csv_text, write

HEADER = ("MIS ID", "First Name", "Last Name")
ROWS = [("1", "Zoë", "Ó Briain"), ("2", "François", "Müller"), ("3", "Ann", "Lee")]


def read_all(path: Path, **kwargs: object) -> tuple[tuple[str, ...], list[list[str]], str]:
    with open_csv(Source.from_path(path), **kwargs) as csv_file:  # type: ignore[arg-type]
        return csv_file.header, list(csv_file.rows()), csv_file.delimiter


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_every_encoding_and_delimiter_is_detected(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = write(tmp_path / "s.csv", csv_text(HEADER, ROWS, delimiter), encoding)
    header, rows, found = read_all(path)
    assert header == HEADER
    assert rows == [list(r) for r in ROWS]
    assert found == delimiter


def test_encoding_override_wins_over_detection(tmp_path: Path) -> None:
    path = write(tmp_path / "w.csv", "MIS ID,Name\r\n1,CafÃ©\r\n", "cp1252")
    assert read_all(path)[1] == [["1", "Café"]]  # the bytes are valid UTF-8 too
    assert read_all(path, encoding="cp1252")[1] == [["1", "CafÃ©"]]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (b"\xef\xbb\xbfa,b", "utf-8-sig"),
        (b"\xff\xfea\x00", "utf-16"),
        (b"\xfe\xff\x00a", "utf-16"),
        ("Zoë".encode(), "utf-8"),
        ("Zoë".encode("cp1252"), "cp1252"),
        (b"plain", "utf-8"),
    ],
)
def test_detect_encoding(sample: bytes, expected: str) -> None:
    assert detect_encoding(sample, "f.csv", complete=True) == expected


def test_a_multibyte_character_cut_by_the_sample_is_still_utf8() -> None:
    assert detect_encoding("aé".encode()[:-1], "f.csv", complete=False) == "utf-8"


def test_sniffing_ignores_delimiters_inside_quotes() -> None:
    assert sniff_delimiter('"a;b;c;d",x,y\r\n') == ","
    assert sniff_delimiter("single\n") == ","


def test_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    text = 'MIS ID,Note\r\n\r\n1,"line one\r\nline two"\r\n\r\n,\r\n2,plain\r\n\r\n'
    _, rows, _ = read_all(write(tmp_path / "q.csv", text))
    assert rows == [["1", "line one\r\nline two"], ["2", "plain"]]


def test_blank_lines_before_the_header_are_skipped_and_lines_still_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", "\r\n\r\nMIS ID,Name\r\n1,a\r\n2,b,extra\r\n")
    with open_csv(Source.from_path(path)) as csv_file, pytest.raises(BadResponseError) as err:
        list(csv_file.rows())
    assert "b.csv: line 5: 3 fields but the header has 2" in str(err.value)


def test_short_rows_are_padded_and_trailing_empty_fields_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "a,b,c\r\n1\r\n2,x,y,,\r\n")
    assert read_all(path)[1] == [["1", "", ""], ["2", "x", "y"]]


def test_duplicate_header_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "MIS ID,Email,Name, Email \r\n1,a,b,c\r\n")
    with pytest.raises(BadResponseError) as err, open_csv(Source.from_path(path)):
        pass
    assert "d.csv: line 1: duplicate column name 'Email' (columns 2 and 4)" in str(err.value)


def test_missing_column_names_file_and_header(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "ID,Name\r\n1,a\r\n")
    with open_csv(Source.from_path(path)) as csv_file, pytest.raises(BadResponseError) as err:
        csv_file.index("MIS ID", "columns.students.mis_id")
    assert "m.csv: line 1: no column 'MIS ID' (configured for columns.students.mis_id)" in str(
        err.value
    )


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(BadResponseError, match=r"e\.csv: line 1: empty file"),
        open_csv(Source.from_path(write(tmp_path / "e.csv", "\r\n\r\n"))),
    ):
        pass


def test_bad_bytes_later_in_the_file_name_the_line(tmp_path: Path) -> None:
    body = "MIS ID,Name\r\n" + "".join(f"{n},name{n}\r\n" for n in range(5000))
    path = tmp_path / "late.csv"
    path.write_bytes(body.encode() + b"9999,caf\xe9\r\n")
    with open_csv(Source.from_path(path)) as csv_file, pytest.raises(BadResponseError) as err:
        list(csv_file.rows())
    assert "late.csv: line 5002 (byte " in str(err.value)
    assert "encoding" in str(err.value)


def test_a_huge_line_fails_fast_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"MIS ID,Name\r\n1,ok\r\n2,")
        chunk = b"x" * 65_536
        for _ in range(64):  # a 4 MiB line with no newline
            handle.write(chunk)
    assert path.stat().st_size > 4_000_000
    with (
        open_csv(Source.from_path(path), max_line_bytes=10_000) as csv_file,
        pytest.raises(BadResponseError) as err,
    ):
        list(csv_file.rows())
    assert "huge.csv: line 3: longer than 10000 bytes" in str(err.value)


def test_a_huge_quoted_field_is_refused_by_the_field_limit(tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    path.write_bytes(b'MIS ID,Note\r\n1,"' + b"line\r\n" * 100_000 + b'"\r\n')
    with (
        open_csv(Source.from_path(path), max_line_bytes=1000) as csv_file,
        pytest.raises(BadResponseError) as err,
    ):
        list(csv_file.rows())
    assert "field.csv: line" in str(err.value)
    assert "field larger than field limit" in str(err.value)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(3_000_000))
    with (
        pytest.raises(BadResponseError, match=r"photo\.csv: line 1: binary content"),
        open_csv(Source.from_path(path)),
    ):
        pass


def test_a_binary_file_without_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes(range(1, 32)) * 5000)
    with pytest.raises(BadResponseError, match="binary content"), open_csv(Source.from_path(path)):
        pass


def test_skip_resumes_after_n_data_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", csv_text(HEADER, ROWS))
    with open_csv(Source.from_path(path)) as csv_file:
        csv_file.skip(2)
        assert list(csv_file.rows()) == [list(ROWS[2])]
        assert csv_file.rows_read == 3
