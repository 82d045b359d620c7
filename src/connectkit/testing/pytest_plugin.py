"""pytest plugin registered through the ``pytest11`` entry point (no import side effects).

Fixtures (all function-scoped; nothing global):

- ``connectkit_pm``: a fresh pluggy manager holding connectkit's hook specs and no plugin.
- ``fake_connector``: a :class:`~connectkit.testing.fake.FakeConnector` (name ``fake``)
  registered into ``connectkit_pm``; the fixture yields the fake so the test can drive it.
- ``connectkit_hooks``: :class:`~connectkit.plugins.facade.Hooks` over ``connectkit_pm``
  (with ``fake_connector`` registered).
- ``fake_context``: a :class:`~connectkit.context.ConnectorContext` whose config the fake
  accepts (``school`` and a :class:`~connectkit.secrets.Secret` token).
- ``vcr_config``: secret-scrubbing keyword arguments for vcrpy / pytest-recording.

Everything heavy is imported inside the fixtures, so merely having connectkit installed
costs a pytest run nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pluggy

    from connectkit.context import ConnectorContext
    from connectkit.plugins.facade import Hooks
    from connectkit.testing.fake import FakeConnector

FAKE_TOKEN = "fake-good-token-0123456789"  # noqa: S105 - the fake's accepted test token


@pytest.fixture
def connectkit_pm() -> pluggy.PluginManager:
    """A fresh plugin manager with connectkit's hook specs and no plugins."""
    from connectkit.plugins.manager import new_manager

    return new_manager()


@pytest.fixture
def fake_connector(connectkit_pm: pluggy.PluginManager) -> Iterator[FakeConnector]:
    """A FakeConnector registered into ``connectkit_pm`` (unregistered afterwards)."""
    from connectkit.plugins.manager import register
    from connectkit.testing.fake import FakeConnector

    fake = FakeConnector()
    register(connectkit_pm, fake.name, fake)
    yield fake
    connectkit_pm.unregister(fake)


@pytest.fixture
def connectkit_hooks(connectkit_pm: pluggy.PluginManager, fake_connector: Any) -> Hooks:
    """The typed facade over ``connectkit_pm`` (which holds ``fake_connector``)."""
    from connectkit.plugins.facade import Hooks

    return Hooks(connectkit_pm)


@pytest.fixture
def fake_context(tmp_path: Path) -> ConnectorContext:
    """A context the fake connector accepts: school ``fake-school``, a good Secret token."""
    from connectkit.context import ConnectorContext
    from connectkit.secrets import Secret

    return ConnectorContext(
        integration="test",
        config={"school": "fake-school", "token": Secret(FAKE_TOKEN)},
        state_dir=tmp_path / "connector-state",
    )


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """vcrpy / pytest-recording settings that keep credentials out of cassettes."""
    from connectkit.testing.vcr import vcr_config as build

    return build()
