"""Fixtures for the csv_mis tests: a connector with a controllable clock, and contexts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectkit.context import ConnectorContext
from connectkit.testing.clock import ManualClock
from connectkit_csv_mis.connector import CsvConnector

Clock = ManualClock


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), step=timedelta(hours=1))


@pytest.fixture
def connector(clock: Clock) -> CsvConnector:
    return CsvConnector(clock=clock)


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[[Mapping[str, Any]], ConnectorContext]:
    def build(config: Mapping[str, Any], name: str = "test") -> ConnectorContext:
        return ConnectorContext(
            integration=name, config=dict(config), state_dir=tmp_path / f"state-{name}"
        )

    return build
