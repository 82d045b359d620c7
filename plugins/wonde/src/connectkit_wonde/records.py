"""People pages read lazily: each record kept as the JSON bytes Wonde sent, decoded
only when it is mapped.

A full re-read of a school maps almost nothing (the engine vouches for the records its
users already hold), but deciding that needs every record's id and fingerprint.
Decoding a whole page and then serialising each record again to fingerprint it costs
twice what the page is worth; here msgspec checks the page once and hands back each
record's bytes (``msgspec.Raw``), which are fingerprinted as they are, and only the
records the engine did not vouch for are decoded (orjson).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import orjson


class _Page(msgspec.Struct):
    data: list[msgspec.Raw] | None = None
    meta: Any = None


class _Ident(msgspec.Struct):
    id: Any = None


_page_decoder = msgspec.json.Decoder(_Page)
_ident_decoder = msgspec.json.Decoder(_Ident)


@dataclass(frozen=True)
class RawRecord:
    """One record of a page: its ``id`` when it is a non-empty string without
    surrounding space (else None), and its JSON ``source`` bytes."""

    ident: str | None
    source: bytes

    @classmethod
    def of(cls, source: bytes) -> RawRecord:
        """The record of these bytes (a record that is not an object has no id)."""
        try:
            ident = _ident_decoder.decode(source).id
        except msgspec.ValidationError:
            ident = None
        usable = isinstance(ident, str) and ident and ident.strip() == ident
        return cls(ident if usable else None, source)

    def decoded(self) -> Any:
        """The record as Python values."""
        return orjson.loads(self.source)


class NotAPage(ValueError):
    """The body is JSON but not an object with a ``data`` list."""


def read_page(body: bytes) -> dict[str, Any]:
    """``{"data": [RawRecord, ...], "meta": ...}`` of a page body. Raises
    ``msgspec.DecodeError`` when the body is not JSON, :class:`NotAPage` when it has no
    ``data`` list."""
    try:
        page = _page_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise NotAPage(str(exc)) from None
    if page.data is None:
        raise NotAPage("no data list")
    return {"data": [RawRecord.of(bytes(raw)) for raw in page.data], "meta": page.meta}
