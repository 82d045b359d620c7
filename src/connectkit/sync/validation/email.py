"""The ``email`` rule: a fast path for plain ASCII addresses, email-validator otherwise.

The fast path is a strict ASCII dot-atom / hostname regex plus the library's own length,
special-use and RFC 2142 rules; anything else (Unicode, IDN, quotes, ``--`` in the domain …)
goes to the library, which is also the only source of error messages. :func:`check_email`
caches verdicts by the raw value.
"""

from __future__ import annotations

import re
from functools import lru_cache

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

__all__ = ["check_email", "fast_email", "library_email"]

_ATEXT = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
_FAST_EMAIL = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+{_TLD})")
_SPECIAL_USE = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
# "domain is a special-use name or under one", as one set lookup and one endswith:
_SPECIAL_NAMES = frozenset(_SPECIAL_USE)
_SPECIAL_SUFFIXES = tuple("." + special for special in _SPECIAL_USE)
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_EMAIL_MAX = email_validator.rfc_constants.EMAIL_MAX_LENGTH
_DOMAIN_MAX = email_validator.rfc_constants.DOMAIN_MAX_LENGTH


def fast_email(value: str) -> str | None:
    """The library's normalised address for a plain ASCII address, or ``None`` (= ask the
    library). Never returns a value for an address the library rejects."""
    if len(value) > _EMAIL_MAX:
        return None
    match = _FAST_EMAIL.fullmatch(value)
    if match is None:
        return None
    local, domain = match.groups()
    if len(domain) > _DOMAIN_MAX or "--" in domain:
        return None
    domain = domain.lower()
    if domain in _SPECIAL_NAMES or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    folded = local.lower()
    return (folded if folded in _MAILBOX_NAMES else local) + "@" + domain


def library_email(value: str) -> tuple[str | None, str | None]:
    """``(normalized, None)`` or ``(None, reason)`` straight from email-validator."""
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return None, str(exc)
    return result.normalized, None


@lru_cache(maxsize=8192)
def check_email(value: str) -> tuple[str | None, str | None]:
    """``(normalized, None)`` if ``value`` is an email address, else ``(None, reason)``."""
    fast = fast_email(value)
    if fast is not None:
        return fast, None
    return library_email(value)
