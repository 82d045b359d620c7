"""Credentials and the access lifecycle (reference §4): pending -> approved / declined / revoked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectkit.errors import AccessNotGrantedError, BadResponseError, NotFoundError
from connectkit.http import decode_json, send
from connectkit.models import AccessState, AccessStatus, SchoolInfo
from connectkit_wonde.api import WondeAPI

_LISTS = (
    ("pending", AccessState.PENDING),
    ("declined", AccessState.DECLINED),
    ("revoked", AccessState.REVOKED),
)


def check_credentials(api: WondeAPI) -> SchoolInfo:
    """Read the school: 401 bad token, 403 not approved / scope missing, 404 unknown school."""
    school = api.school()
    region = school.get("region")
    code = region.get("code") if isinstance(region, dict) else None
    return SchoolInfo(
        id=str(school["id"]),
        name=str(school.get("name") or school["id"]),
        region=str(code) if code else None,
    )


def _contact(raw: dict[str, str]) -> dict[str, str]:
    first, last = raw.get("first_name"), raw.get("last_name")
    if not first and raw.get("name"):
        first, _, last = raw["name"].partition(" ")
    body = {
        "first_name": first or "",
        "last_name": last or "",
        "email_address": raw.get("email_address") or raw.get("email") or "",
        "phone_number": raw.get("phone_number") or raw.get("phone") or "",
        "notes": raw.get("notes") or "",
    }
    return {key: value for key, value in body.items() if value}


def _state(value: Any) -> AccessState:
    text = str(value or "").lower()
    for state in AccessState:
        if state.value in text:
            return state
    return AccessState.PENDING


def request_access(api: WondeAPI, contacts: Sequence[dict[str, str]]) -> AccessStatus:
    """POST request-access with optional contacts; asking twice is harmless, so it retries."""
    body: dict[str, Any] = {}
    if contacts:
        body["contacts"] = [_contact(dict(c)) for c in contacts]
    url = f"schools/{api.cfg.school_id}/request-access"
    response = send(api.client, "POST", url, json=body, policy=api.policy, idempotent=True)
    payload = decode_json(response)
    if not isinstance(payload, dict):
        raise BadResponseError("request-access returned no JSON object", url=url)
    message = payload.get("message")
    return AccessStatus(
        state=_state(payload.get("state")),
        detail=str(message) if message else None,
    )


def _listed(api: WondeAPI, which: str) -> dict[str, Any] | None:
    url = str(api.client.base_url.join(f"schools/{which}"))
    for page in api.global_pages(url):
        for school in page.payload.get("data", []):
            if isinstance(school, dict) and school.get("id") == api.cfg.school_id:
                return school
    return None


def check_access(api: WondeAPI) -> AccessStatus:
    """Approved when the school reads; else which list (pending/declined/revoked) has it."""
    try:
        info = check_credentials(api)
        return AccessStatus(state=AccessState.APPROVED, school_name=info.name)
    except (AccessNotGrantedError, NotFoundError):
        pass
    for which, state in _LISTS:
        school = _listed(api, which)
        if school is not None:
            name = school.get("name")
            return AccessStatus(state=state, school_name=str(name) if name else None)
    return AccessStatus(state=AccessState.UNKNOWN, detail="school not found in any access list")
