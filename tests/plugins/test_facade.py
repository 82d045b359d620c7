"""The typed facade: connector operations reach one plugin only; capabilities are checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectkit.context import ConnectorContext
from connectkit.errors import NotSupportedError
from connectkit.models import Capabilities, GroupKind, MISGroup, Role
from connectkit.plugins import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.secrets import Secret
from connectkit.testing.fake import FakeConnector
from connectkit.testing.pytest_plugin import FAKE_TOKEN


@pytest.fixture
def pair() -> tuple[Hooks, FakeConnector, FakeConnector]:
    pm = new_manager()
    alpha = FakeConnector("alpha")
    beta = FakeConnector("beta", capabilities=Capabilities())
    alpha.add_groups([MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR)])
    beta.add_groups([MISGroup(id="T", name="Teaching", kind=GroupKind.STAFF, role=Role.STAFF)])
    register(pm, "alpha", alpha)
    register(pm, "beta", beta)
    return Hooks(pm), alpha, beta


def ctx(tmp_path: Path) -> ConnectorContext:
    config = {"school": "s1", "token": Secret(FAKE_TOKEN)}
    return ConnectorContext(integration="Test", config=config, state_dir=tmp_path)


def test_operations_reach_only_the_named_connector(
    pair: tuple[Hooks, FakeConnector, FakeConnector], tmp_path: Path
) -> None:
    hooks, alpha, beta = pair
    assert sorted(hooks.connectors()) == ["alpha", "beta"]
    assert [g.id for g in hooks.connector("alpha").fetch_groups(ctx(tmp_path))] == ["Y7"]
    assert [g.id for g in hooks.connector("beta").fetch_groups(ctx(tmp_path))] == ["T"]
    assert [c.hook for c in alpha.history] == ["connectkit_fetch_groups"]
    assert [c.hook for c in beta.history] == ["connectkit_fetch_groups"]
    school = hooks.connector("alpha").check_credentials(ctx(tmp_path))
    assert school.name == "Fake Primary School"
    assert len(alpha.history) == 2
    assert len(beta.history) == 1


def test_capabilities_are_checked_before_calling(
    pair: tuple[Hooks, FakeConnector, FakeConnector], tmp_path: Path
) -> None:
    hooks, _alpha, beta = pair
    beta_connector = hooks.connector("beta")
    with pytest.raises(NotSupportedError, match="'beta' does not support photos"):
        beta_connector.fetch_photos(ctx(tmp_path), {})
    with pytest.raises(NotSupportedError, match="changed-since"):
        beta_connector.fetch_people(ctx(tmp_path), Role.STUDENT, since=datetime.now(UTC))
    with pytest.raises(NotSupportedError, match="requesting access"):
        beta_connector.request_access(ctx(tmp_path))
    assert beta.history == []
    photos = hooks.connector("alpha").fetch_photos(ctx(tmp_path), {})
    assert list(photos) == []


def test_unknown_connector_names_the_installed_ones(
    pair: tuple[Hooks, FakeConnector, FakeConnector],
) -> None:
    hooks, _alpha, _beta = pair
    with pytest.raises(NotSupportedError, match=r"installed: alpha, beta"):
        hooks.connector("gamma")
    assert hooks.connector("beta").plugin_name == "beta"
