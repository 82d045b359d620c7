"""Neutralise formula-looking cells before they go into any CSV this plugin writes.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return before one of them) as a formula. Such a cell is written with a
leading apostrophe, the convention spreadsheets display as text. Plain numbers
(``-3``, ``+44 20 7946 0000``) and one-character codes (the DfE ``-`` mark) are not
formulas and are written unchanged, so attendance codes and phones survive.
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9][0-9 ().]*$")


def escape_cell(value: str) -> str:
    """Return ``value`` safe to write into a CSV cell opened by a spreadsheet."""
    if len(value) < 2 or not value.startswith(_TRIGGERS):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def escape_row(values: list[str]) -> list[str]:
    """:func:`escape_cell` applied to every cell of a row."""
    return [escape_cell(value) for value in values]
