"""Normalised comparison keys for duplicate matching (R3.4).

Every function here is total (never raises), pure and idempotent: ``key(key(x)) == key(x)``.
The keys are for *comparison only*; they are never shown to an admin or written to the
directory as a value.

* :func:`text_key` — Unicode NFKC, case-folded, invisible format characters removed,
  every run of Unicode whitespace (NBSP, ideographic space, line separators, the ASCII
  information separators ``\\x1c``-``\\x1f`` …) collapsed to one ASCII space, ends stripped.
  Invisible characters (Unicode category ``Cf``: zero-width space / joiners, word joiner,
  BOM, soft hyphen, bidi marks) are *deleted*, not turned into spaces, so ``"Ann\\u200bMarie"``
  keys like ``"annmarie"``.
* :func:`name_key` — ``text_key(first) + "\\x1f" + text_key(last)``; the separator can never
  occur inside a :func:`text_key`, so the pair is unambiguous.
* :func:`email_key` — the whole address case-insensitive (NFKC + casefold), surrounding and
  inner whitespace and invisibles removed, a Punycode (``xn--``) domain decoded to Unicode
  so ``bob@xn--bcher-kva.de`` and ``BOB@Bücher.de`` share a key. ``None`` for no address.
* :func:`phone_key` — E.164 (``+`` and digits). E.164 input is its own key; other
  international input is parsed by :mod:`phonenumbers`; a national number needs the
  integration's ``region`` (``phone_key("07700 900123", region="GB")``). ``None`` when there
  is no number or it cannot be read as one.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import suppress
from functools import lru_cache

import idna

__all__ = ["email_key", "name_key", "phone_key", "text_key"]

NAME_SEPARATOR = "\x1f"


def _format_characters() -> dict[int, None]:
    """A ``str.translate`` table deleting every Unicode ``Cf`` (invisible format) character.

    ``Cf`` characters live only in planes 0, 1 and 14 (tags); the scan skips the rest.
    """
    planes = (range(0x00000, 0x20000), range(0xE0000, 0xE1000))
    return {cp: None for plane in planes for cp in plane if unicodedata.category(chr(cp)) == "Cf"}


_DELETE_INVISIBLE = _format_characters()


def _fold(value: str) -> str:
    """NFKC + casefold + NFKC, invisibles deleted, whitespace collapsed (non-ASCII path)."""
    value = unicodedata.normalize("NFKC", value.translate(_DELETE_INVISIBLE))
    value = unicodedata.normalize("NFKC", value.casefold()).translate(_DELETE_INVISIBLE)
    return " ".join(value.split())


@lru_cache(maxsize=8192)
def _text_key_unicode(value: str) -> str:
    folded = _fold(value)
    # casefold/NFKC can expose a form that folds once more (rare compatibility sequences);
    # iterate to the fixed point so the key is idempotent by construction.
    for _ in range(4):
        again = _fold(folded)
        if again == folded:
            break
        folded = again
    return folded


def text_key(value: str | None) -> str:
    """The comparison form of a piece of text; ``""`` for ``None`` or blank text."""
    if not value:
        return ""
    if value.isascii():
        # For ASCII, NFKC is the identity and casefold is lower(); no Cf characters exist.
        return " ".join(value.lower().split())
    return _text_key_unicode(value)


def name_key(first: str | None, last: str | None) -> str:
    """The key of a person's name: ``text_key(first) + "\\x1f" + text_key(last)``."""
    return text_key(first) + NAME_SEPARATOR + text_key(last)


def _decode_domain(domain: str) -> str:
    labels = domain.split(".")
    decoded: list[str] = []
    for label in labels:
        if label.startswith("xn--"):
            with suppress(idna.IDNAError, UnicodeError, ValueError):
                label = idna.decode(label)  # not real Punycode: kept as written
        decoded.append(label)
    return ".".join(decoded)


def _squeeze(value: str) -> str:
    """``text_key`` with every space removed, to a fixed point (removing a space can let a
    combining mark compose with the character before it)."""
    for _ in range(4):
        squeezed = "".join(text_key(value).split())
        if squeezed == value:
            break
        value = squeezed
    return value


@lru_cache(maxsize=8192)
def _email_key(value: str) -> str | None:
    folded = _squeeze(value)
    if not folded:
        return None
    local, at, domain = folded.rpartition("@")
    if at and "xn--" in domain:
        folded = _squeeze(local + "@" + _decode_domain(domain))
    return folded


def email_key(email: str | None) -> str | None:
    """The case-insensitive comparison key of an email address (``None`` if blank)."""
    if email is None:
        return None
    if email.isascii():
        # ASCII: text_key is lower() with whitespace runs collapsed, so the squeeze is
        # lower() with all whitespace removed (already a fixed point). Only a Punycode
        # label needs the general path.
        folded = "".join(email.lower().split())
        if "xn--" not in folded:
            return folded or None
    return _email_key(email)


_E164 = re.compile(r"\+[1-9]\d{1,14}")


@lru_cache(maxsize=8192)
def _phone_key(value: str, region: str | None) -> str | None:
    value = value.strip()
    if not value:
        return None
    if _E164.fullmatch(value):
        return value
    import phonenumbers  # local: only non-E.164 input needs the library

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    key = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return key if _E164.fullmatch(key) else None


def phone_key(e164: str | None, region: str | None = None) -> str | None:
    """The E.164 comparison key of a phone number (``None`` if blank or unreadable).

    A value that already is E.164 (``+447700900123``, what :class:`Validator` stores) is its
    own key. Anything else is parsed with :mod:`phonenumbers`: international input
    (``+44 (0)7700 900123``) needs no region, a national number (``07700 900123``) needs the
    integration's ``region`` (without one it has no key).
    """
    if e164 is None:
        return None
    if _E164.fullmatch(e164):
        return e164  # no surrounding space to strip: its own key, as in _phone_key
    return _phone_key(e164, region)
