"""Test helpers for connectkit and its plugins (fake connector, contract kit, vcr config)."""
