"""Sniff the delimiter of an export from its header line (comma, semicolon or tab)."""

from __future__ import annotations

CANDIDATES = (",", ";", "\t")


def sniff_delimiter(header_line: str) -> str:
    """Return the candidate delimiter that splits ``header_line`` most often.

    Characters inside double quotes do not count. Ties and a single-column header give a
    comma, the most common choice.
    """
    counts = dict.fromkeys(CANDIDATES, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(CANDIDATES, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","
