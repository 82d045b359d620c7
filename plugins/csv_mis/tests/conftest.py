"""Fixtures for the csv_mis tests: a connector with a controllable clock, and contexts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectkit.context import ConnectorContext
from connectkit_csv_mis.connector import CsvConnector


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 60) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


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
