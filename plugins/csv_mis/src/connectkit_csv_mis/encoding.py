"""Detect the text encoding of an export from its first bytes.

Order: a byte-order mark (UTF-8, UTF-16 LE/BE) wins; otherwise the sample must decode as
UTF-8, else it is taken as Windows-1252. A NUL byte in a BOM-less sample means a binary
file (or UTF-16 without a BOM): refused, since guessing would produce garbage names.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

from connectkit.errors import BadResponseError

SAMPLE_BYTES = 65_536


def detect_encoding(sample: bytes, name: str, complete: bool = False) -> str:
    """Return a Python codec name for ``sample`` (the file's first bytes).

    ``complete`` says the sample is the whole file (so a cut multi-byte character at its
    end is a real error). Raises BadResponseError naming ``name`` for binary input.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise BadResponseError(
            f"{name}: line 1: binary content (NUL bytes); expected a CSV text file "
            "in UTF-8, UTF-16 with a BOM or Windows-1252"
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def locate_decode_error(stream: BinaryIO, encoding: str) -> tuple[int, int] | None:
    """``(line, byte offset)`` of the first bytes of ``stream`` invalid in ``encoding``.

    Decodes chunk by chunk (bounded memory), counting newlines; None if all is valid.
    Used only after a decode error, to name the exact line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, newlines = 0, 0
    while chunk := stream.read(SAMPLE_BYTES):
        pending = len(decoder.getstate()[0])
        try:
            newlines += decoder.decode(chunk).count("\n")
        except UnicodeDecodeError as exc:
            bad = offset - pending + exc.start
            decoder = codecs.getincrementaldecoder(encoding)()
            text = decoder.decode(chunk[: max(exc.start - pending, 0)], final=False)
            return newlines + text.count("\n") + 1, bad
        offset += len(chunk)
    return None
