"""Which fields the token may not read ("not permitted" rather than empty).

Wonde nulls a property the token lacks a scope for; the key stays (reference §2). A null
is therefore ambiguous. The connector resolves it in two ways:

1. ``GET /meta/schools/{id}/permissions``: a permission that is not approved (or is
   declined) and whose ``identity``/``name`` mentions a field family below marks those
   paths as not permitted. Permission identities are not documented, so the match is by
   name fragment; an unreadable or refused permissions call marks nothing.
2. A requested one-to-one include (``contact_details``, ``employment_details``) that comes
   back null is always not permitted: Wonde returns the object, with null values, when
   the school simply has no data.

The result is listed per record in ``MISPerson.extras["_not_permitted"]`` (only the paths
that actually came back null) and a warning is logged once per pass.
"""

from __future__ import annotations

import logging
from typing import Any

from connectkit.errors import RetryLaterError, RunFailedError
from connectkit_wonde.api import WondeAPI

log = logging.getLogger("connectkit_wonde")

FAMILIES: dict[str, tuple[str, ...]] = {
    "contact_details": ("contact_details",),
    "date_of_birth": ("date_of_birth",),
    "gender": ("gender",),
    "photo": ("photo",),
    "extended_details": ("extended_details",),
    "education_details": ("education_details",),
    "employment_details": ("employment_details",),
}
ALWAYS = ("contact_details", "employment_details")


def _denied(permission: Any) -> bool:
    if not isinstance(permission, dict):
        return False
    return permission.get("approved") is False or bool(permission.get("declined"))


def not_permitted_paths(api: WondeAPI) -> frozenset[str]:
    """Field paths this token may not read at this school (possibly empty)."""
    paths: set[str] = set(ALWAYS)
    url = f"meta/schools/{api.cfg.school_id}/permissions"
    try:
        payload = api.get(url)
    except RetryLaterError:
        raise
    except RunFailedError as exc:
        log.info("Wonde permissions unavailable (%s); nulls are only flagged for includes", exc)
        return frozenset(paths)
    items = payload.get("data") if isinstance(payload, dict) else None
    denied_names: list[str] = []
    for permission in items if isinstance(items, list) else []:
        if not _denied(permission):
            continue
        text = f"{permission.get('identity', '')} {permission.get('name', '')}".lower()
        for family, family_paths in FAMILIES.items():
            if family in text or family.replace("_", " ") in text:
                paths.update(family_paths)
                denied_names.append(family)
    if denied_names:
        log.warning(
            "Wonde school %s: the token lacks scope(s) %s; those values are reported as "
            "not permitted (extras._not_permitted), not as empty",
            api.cfg.school_id,
            ", ".join(sorted(set(denied_names))),
        )
    return frozenset(paths)
