"""What a connector operation is told about the integration it serves."""

from __future__ import annotations

from collections.abc import Mapping
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
    """

    integration: str
    config: Mapping[str, Any]
    state_dir: Path
    transport: httpx.BaseTransport | None = field(default=None, compare=False)
