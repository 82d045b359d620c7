"""What validation reports: one :class:`Issue` per problem, one :class:`Validated` per record."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Issue", "Validated"]

_SHOWN_MAX = 80


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one field: which ``field``, which ``rule`` (``required`` | ``email`` |
    ``phone`` | ``groups``), the offending ``value`` and a message for a human."""

    field: str
    rule: str
    value: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Validated:
    """The cleaned ``fields`` of a record and every issue found (``ok`` when none).

    Valid emails are the library's normalised form and valid phones are E.164; an invalid
    value is kept as given (stripped) so the admin sees what to correct.
    """

    fields: dict[str, str | None]
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return not self.issues


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"
    return repr(text)
