"""Stream the rows of one CSV export, with file / line / column in every error.

:func:`open_csv` detects the encoding and delimiter, reads and checks the header, and
returns a :class:`CsvFile` whose :meth:`CsvFile.rows` yields one list of strings per data
row (blank rows skipped, short rows padded). Memory is bounded: a physical line longer
than ``max_line_bytes`` (checked on raw chunks by :class:`~connectkit_csv_mis.guard.LineGuard`)
and a field longer than the csv module's limit (128 KiB) are refused as soon as they are
seen, so a 2 GB line never reaches memory whole.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from connectkit.errors import BadResponseError
from connectkit_csv_mis.dialect import sniff_delimiter
from connectkit_csv_mis.encoding import SAMPLE_BYTES, detect_encoding, locate_decode_error
from connectkit_csv_mis.guard import LineGuard

_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\r", "\n"}


@dataclass(frozen=True)
class Source:
    """A CSV file to read: a display name (for errors) and how to open it as bytes."""

    name: str
    opener: Callable[[], BinaryIO]

    @classmethod
    def from_path(cls, path: Path, name: str | None = None) -> Source:
        return cls(name or path.name, lambda: path.open("rb"))


class CsvFile:
    """An open export whose header is known; rows stream from :meth:`rows`."""

    def __init__(
        self,
        name: str,
        text: io.TextIOBase,
        delimiter: str,
        source: Source | None = None,
        encoding: str = "utf-8",
    ) -> None:
        self.name = name
        self._source = source
        self._encoding = encoding
        self.delimiter = delimiter
        first, self._offset = _first_line(text, name)
        if "\x00" in first:
            raise BadResponseError(f"{name}: line 1: binary content (NUL characters)")
        self.delimiter = delimiter or sniff_delimiter(first)
        self._reader = csv.reader(itertools.chain([first], text), delimiter=self.delimiter)
        self.header = _check_header(self._next_header(), name)
        self.rows_read = 0

    def _next_header(self) -> list[str]:
        try:
            return next(self._reader)
        except csv.Error as exc:
            raise BadResponseError(f"{self.name}: line 1: {exc}") from None

    @property
    def line(self) -> int:
        """The physical line number of the end of the last row read."""
        return self._reader.line_num + self._offset

    def where(self, column: int | None = None) -> str:
        """``"<file>: line N"`` (plus the column number and name) for messages."""
        at = f"{self.name}: line {self.line}"
        if column is None:
            return at
        return f"{at}, column {column + 1} ({self.header[column]!r})"

    def index(self, column: str, key: str) -> int:
        """Position of header ``column``; BadResponseError naming the file if absent."""
        try:
            return self.header.index(column)
        except ValueError:
            have = ", ".join(repr(h) for h in self.header)
            raise BadResponseError(
                f"{self.name}: line 1: no column {column!r} (configured for {key}); "
                f"the header has {have}"
            ) from None

    def rows(self) -> Iterator[list[str]]:
        """Yield each data row as a list as long as the header; counts ``rows_read``."""
        width = len(self.header)
        reader = self._reader
        try:
            for row in reader:
                if not row or (not row[0] and not any(row)):
                    continue
                if len(row) != width:
                    row = self._fit(row, width)
                self.rows_read += 1
                yield row
        except csv.Error as exc:
            raise BadResponseError(f"{self.where()}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None

    def _decode_error(self, exc: UnicodeDecodeError) -> BadResponseError:
        where = None
        if self._source is not None:
            with self._source.opener() as raw:
                where = locate_decode_error(raw, self._encoding)
        at = f"line {where[0]} (byte {where[1]})" if where else f"near line {self.line + 1}"
        return BadResponseError(
            f"{self.name}: {at}: bytes that are not valid {exc.encoding} text; "
            "set 'encoding' in the config"
        )

    def skip(self, count: int) -> None:
        """Consume ``count`` data rows (resuming a pass from a row-number cursor)."""
        for _ in itertools.islice(self.rows(), count):
            pass

    def _fit(self, row: list[str], width: int) -> list[str]:
        if len(row) < width:
            return row + [""] * (width - len(row))
        if any(row[width:]):
            raise BadResponseError(f"{self.where()}: {len(row)} fields but the header has {width}")
        return row[:width]


@contextmanager
def open_csv(
    source: Source,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_line_bytes: int = 1_048_576,
) -> Iterator[CsvFile]:
    """Open ``source`` for streaming; the caller iterates ``rows()`` inside the block."""
    if encoding is None:
        with source.opener() as probe:
            sample = probe.read(SAMPLE_BYTES)
        encoding = detect_encoding(sample, source.name, complete=len(sample) < SAMPLE_BYTES)
        _refuse_control_heavy(sample, encoding, source.name)
    guarded = io.BufferedReader(LineGuard(source.opener(), max_line_bytes, source.name))
    text = io.TextIOWrapper(guarded, encoding=encoding, newline="")
    try:
        yield CsvFile(source.name, text, delimiter or "", source, encoding)
    except UnicodeDecodeError as exc:
        raise BadResponseError(
            f"{source.name}: not valid {exc.encoding} text; set 'encoding' in the config"
        ) from None
    finally:
        text.close()


def _refuse_control_heavy(sample: bytes, encoding: str, name: str) -> None:
    text = sample.decode(encoding, errors="replace")[:16_384]
    controls = sum(1 for char in text if char in _CONTROL)
    if text and controls * 20 > len(text):
        raise BadResponseError(
            f"{name}: line 1: binary content ({controls} control characters in the first "
            f"{len(text)}); expected a CSV text file"
        )


def _first_line(text: io.TextIOBase, name: str) -> tuple[str, int]:
    """The header line without a stray BOM, and how many blank lines preceded it."""
    for skipped, line in enumerate(iter(text.readline, "")):
        if line.strip():
            return line.lstrip("\ufeff"), skipped
    raise BadResponseError(f"{name}: line 1: empty file, expected a header row")


def _check_header(header: list[str], name: str) -> tuple[str, ...]:
    names = tuple(h.strip() for h in header)
    seen: dict[str, int] = {}
    for position, column in enumerate(names):
        if column in seen:
            raise BadResponseError(
                f"{name}: line 1: duplicate column name {column!r} "
                f"(columns {seen[column] + 1} and {position + 1}); header names must be unique"
            )
        seen[column] = position
    return names
