"""Building blocks of the contract kit's checks (reusable in a connector's own tests).

Each helper calls a connector through the typed facade and fails the running test with a
message naming the broken rule (and never a secret) when the connector breaks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import pluggy
import pytest

from connectkit.context import ConnectorContext
from connectkit.errors import NotSupportedError
from connectkit.models import MISPhoto, PeoplePage, Role
from connectkit.plugins.facade import Connector
from connectkit.testing.contract_secrets import leaked

SUBJECT = "connector_under_test"
"""The name the kit registers the connector under, in its own fresh plugin manager."""
REQUIRED_HOOKS: tuple[str, ...] = (
    "connectkit_connector_info",
    "connectkit_config_schema",
    "connectkit_check_credentials",
    "connectkit_fetch_groups",
    "connectkit_fetch_people",
)
HOOKS_BY_CAPABILITY: dict[str, tuple[str, ...]] = {
    "deletions_feed": ("connectkit_fetch_deletions",),
    "photos": ("connectkit_fetch_photos",),
    "attendance_codes": ("connectkit_fetch_attendance_codes",),
    "writeback": ("connectkit_write_back", "connectkit_write_back_status"),
    "request_access": ("connectkit_request_access", "connectkit_check_access"),
}
FETCH_PROBES: dict[str, tuple[str, dict[str, Any]]] = {
    "connectkit_fetch_deletions": ("deletions_feed", {"since": None}),
    "connectkit_fetch_photos": ("photos", {"known_hashes": {}}),
    "connectkit_fetch_attendance_codes": ("attendance_codes", {}),
}


def collect_pages(
    connector: Connector,
    ctx: ConnectorContext,
    role: Role,
    *,
    since: datetime | None = None,
    cursor: str | None = None,
    max_pages: int = 10_000,
    secrets: Iterable[str] = (),
) -> list[PeoplePage]:
    """Read one people pass, failing on a contract break: non-page items, a page count
    past ``max_pages``, a cursor seen twice, a secret in a cursor, a last page with a cursor.
    """
    result = connector.fetch_people(ctx, role, since=since, cursor=cursor)
    if iter(result) is not result:
        pytest.fail(f"fetch_people({role}) returned a {type(result).__name__}, not an iterator")
    pages: list[PeoplePage] = []
    cursors: set[str] = set()
    for page in result:
        if not isinstance(page, PeoplePage):
            pytest.fail(f"fetch_people({role}) yielded a {type(page).__name__}, not PeoplePage")
        pages.append(PeoplePage.model_validate(page.model_dump()))
        if len(pages) > max_pages:
            pytest.fail(f"fetch_people({role}) did not end within {max_pages} pages")
        if page.cursor is not None:
            if page.cursor in cursors:
                pytest.fail(f"fetch_people({role}) returned cursor {page.cursor!r} twice")
            if leaked(page.cursor, secrets):
                pytest.fail(f"fetch_people({role}): page {len(pages)}'s cursor holds a secret")
            cursors.add(page.cursor)
    if pages and pages[-1].cursor is not None:
        pytest.fail(f"fetch_people({role}) stopped but its last page still has a cursor")
    return pages


def page_ids(pages: Iterable[PeoplePage]) -> list[str]:
    """The ``mis_id`` of every person of ``pages``, in order."""
    return [person.mis_id for page in pages for person in page.people]


def bounded(items: Iterable[Any], limit: int, what: str) -> Iterator[Any]:
    for count, item in enumerate(items, start=1):
        if count > limit:
            pytest.fail(f"{what} yielded more than {limit} items")
        yield item


def expect_iterator(result: Any, what: str) -> Any:
    if iter(result) is not result:
        pytest.fail(f"{what} returned a {type(result).__name__}, not an iterator (stream it)")
    return result


def raised(call: Any, *args: Any) -> Exception | None:
    """The exception ``call(*args)`` raises, or None when it returns."""
    try:
        call(*args)
    except Exception as exc:
        return exc
    return None


def implemented_hooks(pm: pluggy.PluginManager) -> set[str]:
    plugin = pm.get_plugin(SUBJECT)
    return {caller.name for caller in pm.get_hookcallers(plugin) or ()}


def refuses(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> bool:
    """True when calling ``hook`` on the subject raises NotSupportedError (at once or on
    the first item); any other outcome means the hook silently works undeclared."""
    plugin = pm.get_plugin(SUBJECT)
    others = [p for p in pm.get_plugins() if p is not plugin]
    try:
        result = pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)
        next(iter(result), None)
    except NotSupportedError:
        return True
    except Exception:
        return False
    return False


def unique(items: Any, model: type[Any], key: Any, limit: int, what: str) -> None:
    seen: set[str] = set()
    for item in bounded(expect_iterator(items, what), limit, what):
        assert isinstance(item, model), f"{what}: yielded {type(item).__name__}"
        assert key(item) not in seen, f"{what}: {key(item)!r} yielded twice"
        seen.add(key(item))


def check_photos(connector: Connector, ctx: ConnectorContext, sample: int = 20) -> None:
    """Photos carry their true SHA-256, and hashes passed back are not yielded again."""
    known: dict[str, str] = {}
    photos = expect_iterator(connector.fetch_photos(ctx, {}), "fetch_photos")
    for photo in photos:
        assert isinstance(photo, MISPhoto), f"fetch_photos yielded {type(photo).__name__}"
        digest = hashlib.sha256(photo.content).hexdigest()
        assert photo.content_hash == digest, f"photo of {photo.mis_id}: content_hash is wrong"
        known[photo.mis_id] = digest
        if len(known) >= sample:
            break
    again = {photo.mis_id for photo in connector.fetch_photos(ctx, dict(known))}
    repeated = sorted(again & set(known))
    assert not repeated, f"fetch_photos yielded unchanged photos again: {repeated[:5]}"


def check_fingerprints(
    connector: Connector, ctx: ConnectorContext, role: Role, *, max_pages: int
) -> None:
    """The ``fingerprints`` capability: every person carries a fingerprint, the same on
    a second read; asked nothing, the connector leaves nobody out; told that every
    record is unchanged, it maps nobody and lists every id, once per page asked."""
    first = collect_pages(connector, ctx, role, max_pages=max_pages)
    prints = {p.mis_id: p.fingerprint for page in first for p in page.people}
    missing = sorted(mis_id for mis_id, value in prints.items() if not value)
    assert not missing, f"{role}s without a fingerprint: {missing[:5]}"
    assert not any(page.unchanged for page in first), (
        f"{role}: records left out as unchanged although nothing was vouched for"
    )
    again = collect_pages(connector, ctx, role, max_pages=max_pages)
    assert {p.mis_id: p.fingerprint for page in again for p in page.people} == prints, (
        f"{role}: fingerprints changed between two reads of the same data"
    )
    asked: list[dict[str, str]] = []

    def vouch_all(fingerprints: Mapping[str, str]) -> frozenset[str]:
        asked.append(dict(fingerprints))
        return frozenset(fingerprints)

    left = collect_pages(connector, replace(ctx, vouch=vouch_all), role, max_pages=max_pages)
    mapped = [p.mis_id for page in left for p in page.people]
    assert not mapped, f"{role}: mapped {mapped[:5]} although the engine vouched for them"
    listed = [mis_id for page in left for mis_id in page.unchanged]
    assert listed == list(prints), f"{role}: unchanged ids {listed[:5]} are not the pass's"
    assert {k: v for batch in asked for k, v in batch.items()} == prints, (
        f"{role}: the fingerprints asked about are not those of the mapped people"
    )
