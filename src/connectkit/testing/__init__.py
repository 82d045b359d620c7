"""Test helpers for connectkit and its plugins (R8.3).

- :mod:`connectkit.testing.fake`: ``FakeConnector``, an in-memory connector plugin with
  every capability, failure injection and a call history.
- :mod:`connectkit.testing.factories`: deterministic, realistic people, groups, codes, PNGs.
- :mod:`connectkit.testing.contract`: ``ConnectorContract``, the standard connector tests.
- :mod:`connectkit.testing.vcr`: a secret-scrubbing vcrpy config and a cassette checker.
- :mod:`connectkit.testing.template`: ``render(dest, name)``, a new connector project.
- :mod:`connectkit.testing.pytest_plugin`: fixtures, loaded through the ``pytest11`` entry
  point (``connectkit_pm``, ``fake_connector``, ``connectkit_hooks``, ``fake_context``,
  ``vcr_config``).

Nothing is imported here, so importing the package costs nothing.
"""
