"""pytest plugin registered through the ``pytest11`` entry point (no import side effects)."""

from __future__ import annotations
