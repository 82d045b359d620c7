"""The connectkit contract kit, run against the generic and the OneRoster modes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectkit.testing.contract import ConnectorContract
from connectkit_csv_mis.connector import CsvConnector

from .builders import generic_export, oneroster_bundle, oneroster_users

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


class TestGenericContract(ConnectorContract):
    plugin = CsvConnector
    changed_since = datetime(2026, 1, 15, tzinfo=UTC)

    @pytest.fixture
    def contract_config(self, tmp_path: Path) -> dict[str, Any]:
        config = generic_export(tmp_path / "export")
        config["photos"] = "photos"
        return config

    @pytest.fixture
    def bad_credentials_config(self, tmp_path: Path) -> dict[str, Any]:
        return {"root": str(tmp_path / "nowhere"), "students": "students.csv", "staff": "staff.csv"}


class TestOneRosterDeltaContract(ConnectorContract):
    plugin = CsvConnector
    changed_since = datetime(2026, 1, 15, tzinfo=UTC)

    @pytest.fixture
    def contract_config(self, tmp_path: Path) -> dict[str, Any]:
        oneroster_bundle(tmp_path / "bundle", oneroster_users(40, delta=True), mode="delta")
        return {"mode": "oneroster", "root": str(tmp_path), "bundle": "bundle", "page_size": 6}

    @pytest.fixture
    def bad_credentials_config(self, tmp_path: Path) -> dict[str, Any]:
        return {"mode": "oneroster", "root": str(tmp_path), "bundle": "missing.zip"}


class TestOneRosterSampleContract(ConnectorContract):
    """The committed OneRoster 1.2 sample school (bulk), as the demo would read it."""

    plugin = CsvConnector

    @pytest.fixture
    def contract_config(self) -> dict[str, Any]:
        return {
            "mode": "oneroster",
            "root": str(EXAMPLES),
            "bundle": "sample-school-oneroster",
            "page_size": 100,
        }

    @pytest.fixture
    def bad_credentials_config(self, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "empty").mkdir()
        return {"mode": "oneroster", "root": str(tmp_path), "bundle": "empty"}
