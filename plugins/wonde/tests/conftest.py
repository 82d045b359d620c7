"""The Wonde emulator on a free loopback port for the whole session, and helpers.

httpcore is imported here, at collection, so that it is in sys.modules before any pytester
run: pytester restores its sys.modules snapshot afterwards, and an httpcore first imported
inside such a run would be imported again later with new exception classes, which httpx's
cached exception map would then fail to translate (a raw httpcore.ReadTimeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401 - see the module docstring
import pytest

from connectkit.context import ConnectorContext
from connectkit.secrets import Secret
from connectkit_wonde.emulator import (
    DEFAULT_SCHOOL,
    DEFAULT_TOKEN,
    EmulatorState,
    WondeEmulator,
    serve_in_thread,
)

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "wonde"


@pytest.fixture(scope="session")
def emulator_state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture(scope="session")
def emulator_url(emulator_state: EmulatorState) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of the emulator served by uvicorn in a thread."""
    with serve_in_thread(WondeEmulator(emulator_state)) as url:
        yield url


@pytest.fixture
def emulator(emulator_state: EmulatorState, emulator_url: str) -> Iterator[EmulatorState]:
    """The emulator's state, reset (faults, ledger, counters, default school) per test."""
    emulator_state.reset()
    yield emulator_state
    emulator_state.reset()
    for school in list(emulator_state.schools):
        if school != DEFAULT_SCHOOL:
            del emulator_state.schools[school]
    default = emulator_state.schools[DEFAULT_SCHOOL]
    default.access, default.version, default.changes = "approved", 0, {}


def wonde_config(base_url: str, **extra: Any) -> dict[str, Any]:
    """A connector config pointing at ``base_url`` with fast retries."""
    config: dict[str, Any] = {
        "school_id": DEFAULT_SCHOOL,
        "token": Secret(DEFAULT_TOKEN),
        "base_url": f"{base_url}/v1.0",
        "per_page": 25,
        "timeout": 5,
        "max_attempts": 4,
        "max_retry_seconds": 10,
        "retry_base_delay": 0.01,
    }
    config.update(extra)
    return config


@pytest.fixture
def make_ctx(emulator: EmulatorState, emulator_url: str, tmp_path: Path):
    """Build a ConnectorContext against the emulator: ``make_ctx(per_page=10, ...)``."""

    def build(**extra: Any) -> ConnectorContext:
        return ConnectorContext(
            integration="Emulated Academy",
            config=wonde_config(emulator_url, **extra),
            state_dir=tmp_path / "state",
        )

    return build
