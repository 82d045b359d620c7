"""What a connector operation is told about the integration it serves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class ConnectorContext:
    """The one argument every connector operation receives.

    - ``integration``: the integration's name (for messages and state keys).
    - ``config``: the integration's connector section, validated against the connector's
      JSON Schema; secret values arrive as :class:`connectkit.secrets.Secret` and must
      only be revealed where they are sent.
    - ``state_dir``: a private, persistent folder for this integration's connector state
      (e.g. the previous CSV snapshot); created on demand by the core.
    - ``transport``: an httpx transport to use instead of the network (tests, emulator);
      None means the real network.
    - ``vouch``: set by the engine while a full import reads people (see
      :meth:`unchanged`); None elsewhere.
    """

    integration: str
    config: Mapping[str, Any]
    state_dir: Path
    transport: httpx.BaseTransport | None = field(default=None, compare=False)
    vouch: Callable[[Mapping[str, str]], frozenset[str]] | None = field(
        default=None, compare=False
    )

    def unchanged(self, fingerprints: Mapping[str, str]) -> frozenset[str]:
        """Which of these records (MIS id -> the record's fingerprint) the directory
        already holds exactly as mapped from the same source. A connector with the
        ``fingerprints`` capability asks once per page, before mapping, and lists the
        answer in ``PeoplePage.unchanged`` instead of mapping those records. Outside a
        full import (or when the engine cannot vouch) the answer is empty."""
        if self.vouch is None or not fingerprints:
            return frozenset()
        return self.vouch(fingerprints)
