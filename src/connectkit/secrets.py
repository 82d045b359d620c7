"""Secret values: a wrapper that never prints itself, and a process-wide redactor.

Every secret connectkit reads (tokens, passwords) is wrapped in :class:`Secret`, which
registers its value with the redactor. :func:`redact` replaces registered values (and
anything that looks like a bearer/basic credential) in free text; exceptions, log
records (:class:`RedactingFilter`) and HTTP event hooks pass through it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
_MIN_SECRET_LEN = 4
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:access_token|token|api_key|apikey|password)=)[^&\s]+")


class _Registry:
    """Thread-safe set of known secret values, longest first for replacement."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._ordered: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_LEN:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._ordered = tuple(sorted(self._values, key=len, reverse=True))

    def values(self) -> tuple[str, ...]:
        return self._ordered


_registry = _Registry()


def register_secret(value: str) -> None:
    """Remember ``value`` so that :func:`redact` masks it from now on."""
    _registry.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and credential-looking token masked."""
    if not text:
        return text
    for value in _registry.values():
        if value in text:
            text = text.replace(value, MASK)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{MASK}", text)


class Secret:
    """A secret string. ``str()``/``repr()`` show ``***``; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        """The clear value: only for the one place that must send it (an auth header)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: Any) -> Any:
    """Unwrap a :class:`Secret` (recursively inside dicts and lists); other values pass."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def mask(value: Any) -> Any:
    """Replace every :class:`Secret` (recursively) by ``"***"``, for display and storage."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message and the exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text)
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach :class:`RedactingFilter` to every handler of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
