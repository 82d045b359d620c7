"""The connector contract test kit: the standard tests every connector plugin passes.

Subclass :class:`ConnectorContract` in a test module, name the plugin and give two
configs; pytest then collects every ``test_*`` method below for your connector::

    class TestMyConnectorContract(ConnectorContract):
        plugin = MyConnector

        @pytest.fixture
        def contract_config(self, tmp_path): return {"school": "A1", "token": Secret("...")}

        @pytest.fixture
        def bad_credentials_config(self): return {"school": "A1", "token": "wrong"}

Optional overrides: ``changed_since`` (a timestamp whose changed-since fetch must be a strict
subset of the full fetch), ``max_pages`` (the pagination bound), and the fixtures
``contract_transport`` (an httpx transport for the context) and ``contract_context`` /
``bad_credentials_context`` (build the contexts yourself, e.g. inside a vcr cassette).

Config values under ``writeOnly`` schema properties are handed to the connector as
:class:`~connectkit.secrets.Secret`, as the core does. The checks never print a secret.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pluggy
import pytest

from connectkit.context import ConnectorContext
from connectkit.errors import (
    AccessNotGrantedError,
    InvalidCredentialsError,
    NotFoundError,
    NotSupportedError,
)
from connectkit.models import (
    AttendanceCode,
    ConnectorInfo,
    MISDeletion,
    MISGroup,
    MISPhoto,
    PeoplePage,
    Role,
    SchoolInfo,
)
from connectkit.plugins.facade import Connector, Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.secrets import Secret

SUBJECT = "connector_under_test"
SECRET_NAME = re.compile(
    r"(?i)(token|secret|password|passwd|passphrase|api_?key|private_?key|credential)"
)
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
CLEAN_FAILURES = (InvalidCredentialsError, AccessNotGrantedError, NotFoundError)


# --- helpers (module level so connector authors can reuse them) ------------------------


def secret_properties(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, bool]]:
    """(dotted property path, is writeOnly) for every property of ``schema``, recursively."""
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            yield f"{path}{name}", bool(sub.get("writeOnly"))
            yield from secret_properties(sub, f"{path}{name}.")


def looks_secret(name: str) -> bool:
    """True for property names that usually hold a credential (``token``, ``api_key`` …)."""
    leaf = name.rsplit(".", 1)[-1]
    return bool(SECRET_NAME.search(leaf)) and not leaf.lower().endswith(("_url", "_uri", "_env"))


def wrap_secrets(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` whose ``writeOnly`` string values are :class:`Secret`."""
    properties = schema.get("properties") or {}
    wrapped: dict[str, Any] = {}
    for key, value in config.items():
        sub = properties.get(key)
        if isinstance(sub, Mapping) and sub.get("writeOnly") and isinstance(value, str):
            wrapped[key] = Secret(value)
        elif isinstance(sub, Mapping) and isinstance(value, Mapping):
            wrapped[key] = wrap_secrets(value, sub)
        else:
            wrapped[key] = value
    return wrapped


def secret_values(config: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str]:
    """The clear values of every secret in ``config`` (Secrets and writeOnly strings)."""
    found: set[str] = set()
    for value in wrap_secrets(config, schema).values():
        if isinstance(value, Secret):
            found.add(value.reveal())
        elif isinstance(value, Mapping):
            found |= secret_values(value, {})
    return {value for value in found if value}


class SecretValues(frozenset[str]):
    """A set of clear secret values whose repr never shows them (pytest prints arguments)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret value(s)>"


def reveal_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every :class:`Secret` revealed (for JSON Schema validation only)."""
    return {
        key: value.reveal()
        if isinstance(value, Secret)
        else reveal_config(value)
        if isinstance(value, Mapping)
        else value
        for key, value in config.items()
    }


def exception_text(exc: BaseException) -> str:
    """Everything an exception could show: traceback with causes, reprs, args, attributes."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(repr(current))
        parts.extend(repr(arg) for arg in current.args)
        parts.extend(repr(value) for value in vars(current).values())
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def leaked(text: str, secrets: Iterable[str]) -> list[int]:
    """1-based numbers of the ``secrets`` found in ``text`` (never the values)."""
    return [n for n, value in enumerate(sorted(secrets), start=1) if value in text]


def make_context(
    tmp_path: Path,
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    transport: httpx.BaseTransport | None,
    integration: str = "contract",
) -> ConnectorContext:
    """A context as the core would build it: secrets wrapped, a private state folder."""
    state_dir = tmp_path / f"{integration}-state"
    state_dir.mkdir(parents=True, exist_ok=True)
    return ConnectorContext(
        integration=integration,
        config=wrap_secrets(config, schema),
        state_dir=state_dir,
        transport=transport,
    )


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


def _bounded(items: Iterable[Any], limit: int, what: str) -> Iterator[Any]:
    for count, item in enumerate(items, start=1):
        if count > limit:
            pytest.fail(f"{what} yielded more than {limit} items")
        yield item


def _expect_iterator(result: Any, what: str) -> Any:
    if iter(result) is not result:
        pytest.fail(f"{what} returned a {type(result).__name__}, not an iterator (stream it)")
    return result


# --- the kit ---------------------------------------------------------------------------


class ConnectorContract:
    """Base class of a connector's contract tests; see the module docstring."""

    plugin: ClassVar[Any] = None
    """The connector plugin: a class (instantiated without arguments) or an instance."""
    changed_since: ClassVar[datetime | None] = None
    """A time whose changed-since pass must be a strict subset of the full pass."""
    max_pages: ClassVar[int] = 10_000
    """A people pass longer than this is reported as a pager that never ends."""
    max_items: ClassVar[int] = 1_000_000

    # fixtures a subclass provides ------------------------------------------------------

    @pytest.fixture
    def contract_config(self) -> Mapping[str, Any]:
        pytest.fail(f"{type(self).__name__} must define the contract_config fixture")

    @pytest.fixture
    def bad_credentials_config(self) -> Mapping[str, Any]:
        pytest.fail(f"{type(self).__name__} must define the bad_credentials_config fixture")

    @pytest.fixture
    def contract_transport(self) -> httpx.BaseTransport | None:
        return None

    # fixtures the kit builds -------------------------------------------------------------

    @pytest.fixture
    def contract_pm(self) -> Iterator[pluggy.PluginManager]:
        if self.plugin is None:
            pytest.fail(f"{type(self).__name__}.plugin is not set")
        pm = new_manager()
        register(pm, SUBJECT, self.plugin)
        yield pm
        for plugin in list(pm.get_plugins()):
            pm.unregister(plugin)

    @pytest.fixture
    def contract_connector(self, contract_pm: pluggy.PluginManager) -> Connector:
        connectors = Hooks(contract_pm).connectors()
        if len(connectors) != 1:
            pytest.fail(f"the plugin must describe exactly one connector, got {len(connectors)}")
        return next(iter(connectors.values()))

    @pytest.fixture
    def contract_schema(self, contract_connector: Connector) -> dict[str, Any]:
        return contract_connector.config_schema()

    @pytest.fixture
    def contract_secrets(
        self,
        contract_config: Mapping[str, Any],
        bad_credentials_config: Mapping[str, Any],
        contract_schema: dict[str, Any],
    ) -> SecretValues:
        return SecretValues(
            secret_values(contract_config, contract_schema)
            | secret_values(bad_credentials_config, contract_schema)
        )

    @pytest.fixture
    def contract_context(
        self,
        tmp_path: Path,
        contract_config: Mapping[str, Any],
        contract_schema: dict[str, Any],
        contract_transport: httpx.BaseTransport | None,
    ) -> ConnectorContext:
        return make_context(tmp_path, contract_config, contract_schema, contract_transport)

    @pytest.fixture
    def bad_credentials_context(
        self,
        tmp_path: Path,
        bad_credentials_config: Mapping[str, Any],
        contract_schema: dict[str, Any],
        contract_transport: httpx.BaseTransport | None,
    ) -> ConnectorContext:
        return make_context(
            tmp_path, bad_credentials_config, contract_schema, contract_transport, "contract_bad"
        )

    # describe ------------------------------------------------------------------------------

    def test_connector_info_is_valid_and_named(self, contract_pm: pluggy.PluginManager) -> None:
        plugin: Any = contract_pm.get_plugin(SUBJECT)
        info = plugin.connectkit_connector_info()
        if not isinstance(info, ConnectorInfo):
            pytest.fail(f"connectkit_connector_info returned {type(info).__name__}")
        ConnectorInfo.model_validate(info.model_dump())
        assert info.title.strip(), "ConnectorInfo.title is empty"
        assert info.version.strip(), "ConnectorInfo.version is empty"

    def test_config_schema_is_valid_draft_2020_12(self, contract_schema: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        declared = contract_schema.get("$schema", Draft202012Validator.META_SCHEMA["$id"])
        assert "2020-12" in str(declared), f"$schema is {declared!r}, not draft 2020-12"
        try:
            Draft202012Validator.check_schema(contract_schema)
        except SchemaError as exc:
            pytest.fail(f"config schema is not valid draft 2020-12: {exc.message}")
        assert contract_schema.get("type") == "object", "config schema must describe an object"

    def test_contract_config_validates(
        self, contract_schema: dict[str, Any], contract_config: Mapping[str, Any]
    ) -> None:
        from jsonschema import Draft202012Validator

        from connectkit.secrets import redact

        validator = Draft202012Validator(contract_schema)
        problems = [
            f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {redact(error.message)}"
            for error in validator.iter_errors(reveal_config(contract_config))
        ]
        assert not problems, "contract_config breaks the config schema:\n" + "\n".join(problems)

    def test_secret_properties_are_write_only(self, contract_schema: dict[str, Any]) -> None:
        exposed = [
            name
            for name, write_only in secret_properties(contract_schema)
            if looks_secret(name) and not write_only
        ]
        assert not exposed, f"secret-looking properties without writeOnly: {exposed}"

    # access ----------------------------------------------------------------------------------

    def test_good_credentials_are_accepted(
        self, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        school = contract_connector.check_credentials(contract_context)
        assert isinstance(school, SchoolInfo), f"check_credentials returned {type(school)}"

    def test_bad_credentials_fail_cleanly(
        self,
        contract_connector: Connector,
        bad_credentials_context: ConnectorContext,
        contract_secrets: SecretValues,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        error = _raised(contract_connector.check_credentials, bad_credentials_context)
        if error is None:
            pytest.fail("check_credentials accepted bad_credentials_config")
        found = leaked(exception_text(error), contract_secrets)
        assert not found, f"{type(error).__name__} shows secret(s) no. {found} of the config"
        assert isinstance(error, CLEAN_FAILURES), (
            f"bad credentials raised {type(error).__name__}, expected one of "
            + ", ".join(cls.__name__ for cls in CLEAN_FAILURES)
        )
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert not leaked(logged, contract_secrets), "a log line holds a secret of the config"

    # read ------------------------------------------------------------------------------------

    def test_groups_are_valid_with_unique_ids(
        self, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        result = _expect_iterator(contract_connector.fetch_groups(contract_context), "fetch_groups")
        ids: set[str] = set()
        for group in _bounded(result, self.max_items, "fetch_groups"):
            if not isinstance(group, MISGroup):
                pytest.fail(f"fetch_groups yielded a {type(group).__name__}, not MISGroup")
            MISGroup.model_validate(group.model_dump())
            assert group.id not in ids, f"fetch_groups yielded group id {group.id!r} twice"
            ids.add(group.id)

    @pytest.mark.parametrize("role", list(Role), ids=str)
    def test_people_pages_are_valid_with_unique_ids(
        self,
        role: Role,
        contract_connector: Connector,
        contract_context: ConnectorContext,
        contract_secrets: SecretValues,
    ) -> None:
        pages = collect_pages(
            contract_connector,
            contract_context,
            role,
            max_pages=self.max_pages,
            secrets=contract_secrets,
        )
        seen: set[str] = set()
        for number, page in enumerate(pages, start=1):
            for person in page.people:
                assert person.role == role, f"page {number}: {person.mis_id} has role {person.role}"
                assert person.mis_id not in seen, (
                    f"page {number}: mis_id {person.mis_id!r} appeared earlier in the pass"
                )
                seen.add(person.mis_id)

    @pytest.mark.parametrize("role", list(Role), ids=str)
    def test_pagination_ends_and_resumes(
        self, role: Role, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        pages = collect_pages(contract_connector, contract_context, role, max_pages=self.max_pages)
        if len(pages) < 2:
            pytest.skip(f"the {role} pass is a single page; give more data to test resuming")
        middle = (len(pages) - 1) // 2
        cursor = pages[middle].cursor
        resumed = collect_pages(
            contract_connector, contract_context, role, cursor=cursor, max_pages=self.max_pages
        )
        expected = page_ids(pages[middle + 1 :])
        got = page_ids(resumed)
        assert got == expected, (
            f"resuming {role} after page {middle + 1} gave {len(got)} people "
            f"(first {got[:3]}), expected the remaining {len(expected)} (first {expected[:3]})"
        )

    @pytest.mark.parametrize("role", list(Role), ids=str)
    def test_changed_since_is_a_subset(
        self, role: Role, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        if self.changed_since is None and not contract_connector.info.capabilities.delta:
            pytest.skip("the connector does not declare delta and changed_since is not set")
        full = collect_pages(contract_connector, contract_context, role, max_pages=self.max_pages)
        people = [person for page in full for person in page.people]
        stamps = [p.updated_at for p in people if p.updated_at is not None]
        since = self.changed_since or (max(stamps) if stamps else datetime.now(UTC))
        delta = collect_pages(
            contract_connector, contract_context, role, since=since, max_pages=self.max_pages
        )
        full_ids, delta_ids = set(page_ids(full)), page_ids(delta)
        extra = sorted(set(delta_ids) - full_ids)
        assert not extra, f"changed-since {since} returned people not in the full pass: {extra[:5]}"
        if self.changed_since is not None and full_ids:
            assert len(set(delta_ids)) < len(full_ids), (
                f"changed-since {since} returned every {role}; expected a strict subset"
            )
        missing = sorted(
            p.mis_id for p in people if p.updated_at and p.updated_at >= since
        )
        assert set(missing) <= set(delta_ids), (
            f"changed-since {since} left out people updated at or after it: {missing[:5]}"
        )

    # capabilities ----------------------------------------------------------------------------

    def test_declared_capabilities_are_implemented(
        self, contract_pm: pluggy.PluginManager, contract_connector: Connector
    ) -> None:
        implemented = _implemented(contract_pm)
        needed = list(REQUIRED_HOOKS)
        capabilities = contract_connector.info.capabilities
        for flag, hooks in HOOKS_BY_CAPABILITY.items():
            if getattr(capabilities, flag):
                needed.extend(hooks)
        missing = [hook for hook in needed if hook not in implemented]
        assert not missing, f"declared but not implemented: {missing}"

    def test_undeclared_fetch_hooks_are_flagged(
        self,
        contract_pm: pluggy.PluginManager,
        contract_connector: Connector,
        contract_context: ConnectorContext,
    ) -> None:
        implemented = _implemented(contract_pm)
        capabilities = contract_connector.info.capabilities
        flagged = [
            f"{hook} (capability {flag} is not declared)"
            for hook, (flag, kwargs) in FETCH_PROBES.items()
            if hook in implemented
            and not getattr(capabilities, flag)
            and not _refuses(contract_pm, hook, ctx=contract_context, **kwargs)
        ]
        assert not flagged, (
            "implemented fetch hooks the connector does not declare (declare the capability, "
            f"or raise NotSupportedError): {flagged}"
        )

    def test_declared_fetches_yield_valid_records(
        self, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        capabilities = contract_connector.info.capabilities
        checked = 0
        if capabilities.attendance_codes:
            codes = contract_connector.fetch_attendance_codes(contract_context)
            _unique(codes, AttendanceCode, lambda c: c.code, self.max_items, "attendance codes")
            checked += 1
        if capabilities.deletions_feed:
            deletions = contract_connector.fetch_deletions(contract_context, None)
            for item in _bounded(_expect_iterator(deletions, "fetch_deletions"), self.max_items,
                                 "fetch_deletions"):
                assert isinstance(item, MISDeletion), f"fetch_deletions yielded {type(item)}"
            checked += 1
        if capabilities.photos:
            _check_photos(contract_connector, contract_context)
            checked += 1
        if not checked:
            pytest.skip("the connector declares no attendance codes, deletions or photos")


def _raised(call: Any, *args: Any) -> Exception | None:
    """The exception ``call(*args)`` raises, or None when it returns."""
    try:
        call(*args)
    except Exception as exc:
        return exc
    return None


def _implemented(pm: pluggy.PluginManager) -> set[str]:
    plugin = pm.get_plugin(SUBJECT)
    return {caller.name for caller in pm.get_hookcallers(plugin) or ()}


def _refuses(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> bool:
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


def _unique(items: Any, model: type[Any], key: Any, limit: int, what: str) -> None:
    seen: set[str] = set()
    for item in _bounded(_expect_iterator(items, what), limit, what):
        assert isinstance(item, model), f"{what}: yielded {type(item).__name__}"
        assert key(item) not in seen, f"{what}: {key(item)!r} yielded twice"
        seen.add(key(item))


def _check_photos(connector: Connector, ctx: ConnectorContext, sample: int = 20) -> None:
    """Photos carry their true SHA-256, and hashes passed back are not yielded again."""
    known: dict[str, str] = {}
    photos = _expect_iterator(connector.fetch_photos(ctx, {}), "fetch_photos")
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
