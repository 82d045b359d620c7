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

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pluggy
import pytest

from connectkit.context import ConnectorContext
from connectkit.errors import AccessNotGrantedError, InvalidCredentialsError, NotFoundError
from connectkit.models import AttendanceCode, ConnectorInfo, MISDeletion, MISGroup, Role, SchoolInfo
from connectkit.plugins.facade import Connector, Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.testing.contract_checks import (
    FETCH_PROBES,
    HOOKS_BY_CAPABILITY,
    REQUIRED_HOOKS,
    SUBJECT,
    bounded,
    check_fingerprints,
    check_photos,
    collect_pages,
    expect_iterator,
    implemented_hooks,
    page_ids,
    raised,
    refuses,
    unique,
)
from connectkit.testing.contract_secrets import (
    SecretValues,
    exception_text,
    leaked,
    looks_secret,
    make_context,
    reveal_config,
    secret_properties,
    secret_values,
)

__all__ = ["CLEAN_FAILURES", "ConnectorContract", "collect_pages", "make_context", "page_ids"]

CLEAN_FAILURES = (InvalidCredentialsError, AccessNotGrantedError, NotFoundError)


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
        error = raised(contract_connector.check_credentials, bad_credentials_context)
        if error is None:
            pytest.fail("check_credentials accepted bad_credentials_config")
        found = leaked(exception_text(error), contract_secrets)
        assert not found, f"{type(error).__name__} shows secret(s) no. {found} of the config"
        assert isinstance(error, CLEAN_FAILURES), (
            f"bad credentials raised {type(error).__name__}, expected one of "
            + ", ".join(cls.__name__ for cls in CLEAN_FAILURES)
        )
        assert str(error).strip(), f"{type(error).__name__} has an empty message"
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert not leaked(logged, contract_secrets), "a log line holds a secret of the config"

    # read ------------------------------------------------------------------------------------

    def test_groups_are_valid_with_unique_ids(
        self, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        result = expect_iterator(contract_connector.fetch_groups(contract_context), "fetch_groups")
        ids: set[str] = set()
        for group in bounded(result, self.max_items, "fetch_groups"):
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

    @pytest.mark.parametrize("role", list(Role), ids=str)
    def test_fingerprints_are_stable_and_vouched_records_left_out(
        self, role: Role, contract_connector: Connector, contract_context: ConnectorContext
    ) -> None:
        if not contract_connector.info.capabilities.fingerprints:
            pytest.skip("the connector does not declare fingerprints")
        check_fingerprints(contract_connector, contract_context, role, max_pages=self.max_pages)

    # capabilities ----------------------------------------------------------------------------

    def test_declared_capabilities_areimplemented(
        self, contract_pm: pluggy.PluginManager, contract_connector: Connector
    ) -> None:
        implemented = implemented_hooks(contract_pm)
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
        implemented = implemented_hooks(contract_pm)
        capabilities = contract_connector.info.capabilities
        flagged = [
            f"{hook} (capability {flag} is not declared)"
            for hook, (flag, kwargs) in FETCH_PROBES.items()
            if hook in implemented
            and not getattr(capabilities, flag)
            and not refuses(contract_pm, hook, ctx=contract_context, **kwargs)
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
            unique(codes, AttendanceCode, lambda c: c.code, self.max_items, "attendance codes")
            checked += 1
        if capabilities.deletions_feed:
            deletions = contract_connector.fetch_deletions(contract_context, None)
            for item in bounded(expect_iterator(deletions, "fetch_deletions"), self.max_items,
                                 "fetch_deletions"):
                assert isinstance(item, MISDeletion), f"fetch_deletions yielded {type(item)}"
            checked += 1
        if capabilities.photos:
            check_photos(contract_connector, contract_context)
            checked += 1
        if not checked:
            pytest.skip("the connector declares no attendance codes, deletions or photos")
