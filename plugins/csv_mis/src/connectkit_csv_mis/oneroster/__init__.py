"""OneRoster 1.1 / 1.2 CSV bundles: manifest, bundle access, headers, index, users."""

from __future__ import annotations
