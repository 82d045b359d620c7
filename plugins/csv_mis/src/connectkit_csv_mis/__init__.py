"""connectkit connector for MIS CSV exports and OneRoster 1.1 / 1.2 CSV bundles.

Module map (one job each):

- ``schema``: the config JSON Schema; ``settings``: typed view of a validated config.
- ``paths``: resolving configured paths inside the export root (no traversal).
- ``encoding`` / ``dialect``: detecting the text encoding and the delimiter.
- ``reader``: streaming rows with file / line / column errors and size guards.
- ``generic``: a row of a plain export -> ``MISPerson`` through the column map.
- ``oneroster``: manifest, bundle index and user rows of a OneRoster bundle.
- ``snapshot``: the previous export's row hashes (changes and deletions).
- ``photos``, ``codes``, ``outbox``, ``escape``, ``access``: the other operations.
- ``connector``: the plugin class whose ``@hookimpl`` methods are the operations.
"""

from __future__ import annotations

__version__ = "0.1.0"
