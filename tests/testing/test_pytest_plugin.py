"""The fixtures connectkit's pytest11 plugin offers to every test suite."""

from __future__ import annotations

import sys
from typing import Any

import pluggy

from connectkit.context import ConnectorContext
from connectkit.plugins.facade import Hooks
from connectkit.secrets import Secret
from connectkit.testing.fake import FakeConnector


def test_connectkit_pm_is_fresh_with_specs_only(connectkit_pm: pluggy.PluginManager) -> None:
    assert connectkit_pm.get_plugins() == set()
    assert hasattr(connectkit_pm.hook, "connectkit_fetch_people")
    assert connectkit_pm.hook.connectkit_fetch_people.spec is not None


def test_fake_connector_is_registered_and_served_by_the_hooks(
    connectkit_pm: pluggy.PluginManager,
    fake_connector: FakeConnector,
    connectkit_hooks: Hooks,
    fake_context: ConnectorContext,
) -> None:
    assert connectkit_pm.get_plugin("fake") is fake_connector
    assert list(connectkit_hooks.connectors()) == ["fake"]
    assert isinstance(fake_context.config["token"], Secret)
    school = connectkit_hooks.connector("fake").check_credentials(fake_context)
    assert school.id == "fake-school"
    assert [call.hook for call in fake_connector.history] == ["connectkit_check_credentials"]


def test_vcr_config_fixture_scrubs_authorization(vcr_config: dict[str, Any]) -> None:
    assert ("authorization", None) in vcr_config["filter_headers"]
    assert vcr_config["record_mode"] == "none"


def test_plugin_module_imports_nothing_heavy() -> None:
    """Importing the pytest11 module must not pull in the engine, pluggy specs or vcr."""
    import subprocess

    code = (
        "import sys, connectkit.testing.pytest_plugin as p; "
        "heavy = [m for m in ('connectkit.hookspecs', 'connectkit.plugins.manager', "
        "'vcr', 'sqlalchemy', 'connectkit.testing.fake') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
