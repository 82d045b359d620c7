"""The connector contract kit, replayed from cassettes/wonde/ (no network, no emulator)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import vcr

from connectkit.context import ConnectorContext
from connectkit.testing.contract import ConnectorContract, make_context
from connectkit_wonde import WondeConnector
from connectkit_wonde.record_cassettes import BAD_TOKEN, contract_config, replay_config

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "wonde"
OFFLINE = "http://127.0.0.1:9/v1.0"  # nothing listens there: only the cassette answers
EMULATOR_TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00emulated"


def _replay(name: str, ctx: ConnectorContext) -> Iterator[ConnectorContext]:
    with vcr.VCR(**replay_config()).use_cassette(
        str(CASSETTES / name), allow_playback_repeats=True
    ):
        yield ctx


class TestWondeContract(ConnectorContract):
    plugin = WondeConnector

    @pytest.fixture
    def contract_config(self) -> dict[str, Any]:
        return contract_config(OFFLINE, "A1930499544", EMULATOR_TOKEN)

    @pytest.fixture
    def bad_credentials_config(self) -> dict[str, Any]:
        return contract_config(OFFLINE, "A1930499544", BAD_TOKEN)

    @pytest.fixture
    def contract_context(
        self, tmp_path: Path, contract_config: Mapping[str, Any], contract_schema: dict[str, Any]
    ) -> Iterator[ConnectorContext]:
        yield from _replay(
            "contract.yaml", make_context(tmp_path, contract_config, contract_schema, None)
        )

    @pytest.fixture
    def bad_credentials_context(
        self,
        tmp_path: Path,
        bad_credentials_config: Mapping[str, Any],
        contract_schema: dict[str, Any],
    ) -> Iterator[ConnectorContext]:
        ctx = make_context(tmp_path, bad_credentials_config, contract_schema, None, "bad")
        yield from _replay("bad_credentials.yaml", ctx)
