"""Photos from a folder: found by MIS id (or a column), size-capped, content-hashed.

:func:`read_capped` never reads more than ``limit + 1`` bytes, so an oversized file costs
no memory; :func:`image_type` tells a real PNG / JPEG from a file that merely has the
extension; :func:`check_photo` turns either problem into a ``PhotoRejectedError`` for
that one person.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from connectkit.errors import PhotoRejectedError
from connectkit.models import MISPhoto

EXTENSIONS = (".jpg", ".jpeg", ".png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OCTET = "application/octet-stream"


def read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (one more than allowed shows it is too big)."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def image_type(content: bytes) -> str | None:
    """``image/png`` / ``image/jpeg`` for a structurally real image, else None.

    PNG: signature, an IHDR chunk with a correct CRC, and an IEND chunk at the end.
    JPEG: the SOI marker followed by a marker segment, and the EOI marker at the end.
    """
    if content.startswith(PNG_SIGNATURE) and len(content) >= 45:
        length, kind = struct.unpack(">I4s", content[8:16])
        body = content[12 : 16 + length]
        (crc,) = struct.unpack(">I", content[16 + length : 20 + length] or b"\0\0\0\0")
        header_ok = kind == b"IHDR" and length == 13 and zlib.crc32(body) == crc
        if header_ok and content.rstrip(b"\0")[-8:-4] == b"IEND":
            return "image/png"
    if content[:3] == b"\xff\xd8\xff" and content.rstrip(b"\0")[-2:] == b"\xff\xd9":
        return "image/jpeg"
    return None


def check_photo(mis_id: str, content: bytes, limit: int) -> str:
    """Return the content type of a valid photo; PhotoRejectedError for this person."""
    if len(content) > limit:
        raise PhotoRejectedError(
            f"photo is larger than the {limit}-byte limit", record_id=mis_id, field="photo"
        )
    kind = image_type(content)
    if kind is None:
        raise PhotoRejectedError(
            "photo is not a real JPEG or PNG image", record_id=mis_id, field="photo"
        )
    return kind


def find_in_folder(folder: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(mis_id, path)`` for every ``<mis_id>.<jpg|jpeg|png>`` directly in ``folder``.

    Symlinks are skipped (a photo must live in the folder); files sort by name.
    """
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in EXTENSIONS and path.is_file() and not path.is_symlink():
            yield path.stem, path


def photo_record(mis_id: str, path: Path, limit: int) -> MISPhoto:
    """Read (capped) and hash one photo; content type is octet-stream when not an image."""
    content = read_capped(path, limit)
    kind = image_type(content) if len(content) <= limit else None
    return MISPhoto(
        mis_id=mis_id,
        content=content,
        content_type=kind or OCTET,
        content_hash=hashlib.sha256(content).hexdigest(),
    )
