"""The ``record_hash`` of a record's directory values: equal hash, nothing to write."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import orjson


def record_hash(values: Mapping[str, object]) -> str:
    """Hex SHA-256 of ``values`` as canonical JSON (sorted keys); stable across runs."""
    return hashlib.sha256(orjson.dumps(dict(values), option=orjson.OPT_SORT_KEYS)).hexdigest()
