"""A raw byte stream that refuses over-long lines before they reach memory.

Wrapped under the text decoder, it looks at each chunk read from the file (not each
line, so the hot path stays in C): it counts newlines and the bytes since the last one,
and raises as soon as a run without a newline passes the limit. A 2 GB line therefore
fails after ``limit`` bytes, with the line number, whatever reads the text above it.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from connectkit.errors import BadResponseError


class LineGuard(io.RawIOBase):
    """Read-only pass-through of ``inner`` enforcing ``limit`` bytes per line."""

    def __init__(self, inner: BinaryIO, limit: int, name: str) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._name = name
        self._run = 0
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        data = self._inner.read(len(view))
        size = len(data)
        view[:size] = data
        last = data.rfind(b"\n")
        if last < 0:
            self._run += size
        else:
            self.newlines += data.count(b"\n")
            self._run = size - last - 1
        if self._run > self._limit:
            raise BadResponseError(
                f"{self._name}: line {self.newlines + 1}: longer than {self._limit} bytes "
                "(max_line_bytes); not a CSV export, or a broken one"
            )
        return size

    def close(self) -> None:
        self._inner.close()
        super().close()
