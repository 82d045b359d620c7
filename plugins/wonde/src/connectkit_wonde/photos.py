"""Photos in their own pass (``include=photo``, small pages), skipping unchanged ones.

Wonde's photo ``content`` is base64 image bytes and its ``hash`` algorithm is unknown
(reference §7.2), so the skip compares the SHA-256 of the decoded bytes with the hash
the directory holds. A photo larger than ``photo_max_bytes`` is cut at limit + 1 bytes
without decoding the rest, so the core rejects it for that person only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from connectkit.models import MISPhoto
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.parse import relation

log = logging.getLogger("connectkit_wonde")


def _content_type(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "application/octet-stream"


def decode_photo(encoded: str, limit: int) -> bytes:
    """Decode base64 ``encoded``, reading at most ``limit + 1`` bytes' worth."""
    if encoded.startswith("data:"):
        encoded = encoded.partition(",")[2]
    chunk = (limit + 1 + 2) // 3 * 4 + 4
    return base64.b64decode(encoded[:chunk], validate=False)[: limit + 1]


def _photo(raw: Any, limit: int) -> MISPhoto | None:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    photo = relation(raw.get("photo"))
    content = photo.get("content") if isinstance(photo, dict) else None
    if not isinstance(content, str) or not content:
        return None
    try:
        data = decode_photo(content, limit)
    except (binascii.Error, ValueError) as exc:
        log.warning("Wonde record %s: field photo.content is not base64 (%s)", raw["id"], exc)
        return None
    return MISPhoto(
        mis_id=str(raw["id"]),
        content=data,
        content_type=_content_type(data),
        content_hash=hashlib.sha256(data).hexdigest(),
    )


def photos(api: WondeAPI, known_hashes: dict[str, str]) -> Iterator[MISPhoto]:
    """Yield students' and staff's photos whose SHA-256 differs from ``known_hashes``."""
    params: dict[str, str | int] = {"include": "photo", "per_page": api.cfg.photo_per_page}
    for resource in ("students", "employees"):
        for page in api.pages(api.first_url(resource, params)):
            for raw in page.payload["data"]:
                photo = _photo(raw, api.cfg.photo_max_bytes)
                if photo is not None and known_hashes.get(photo.mis_id) != photo.content_hash:
                    yield photo
