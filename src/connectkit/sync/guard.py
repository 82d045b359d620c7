"""The mass-change guard (issue 3, item 6): hold a run that would remove too much.

A run is held when, for some user type, it would delete or deactivate more than
``max_deletions`` users AND more than ``max_deletion_percent`` % of that type's linked
users; or when a full run saw fewer than ``min_source_ratio`` x the people the last
committed full run saw (zero included). An approved run is never re-held.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS = {"max_deletions": 50, "max_deletion_percent": 10, "min_source_ratio": 0.5}


def reasons(
    summary: Mapping[str, Any], settings: Mapping[str, Any], previous_seen: int | None
) -> list[str]:
    """Why this plan must be held (empty: go ahead)."""
    guard = {**DEFAULTS, **(settings.get("guard") or {})}
    found: list[str] = []
    linked: Mapping[str, int] = summary.get("linked_by_type", {})
    for user_type, removing in sorted(summary.get("removals_by_type", {}).items()):
        total = max(int(linked.get(user_type, 0)), 1)
        percent = 100.0 * removing / total
        if removing > guard["max_deletions"] and percent > guard["max_deletion_percent"]:
            found.append(
                f"would remove {removing} of {total} {user_type!r} users ({percent:.0f}%), over "
                f"{guard['max_deletions']} and {guard['max_deletion_percent']}%"
            )
    seen = int(summary.get("seen", 0))
    if summary.get("full") and previous_seen:
        ratio = seen / previous_seen
        if ratio < float(guard["min_source_ratio"]):
            found.append(
                f"the MIS returned {seen} people, {ratio:.0%} of the {previous_seen} of the "
                f"last full run (minimum {float(guard['min_source_ratio']):.0%})"
            )
    return found
