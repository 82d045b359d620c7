"""``connectkit config check FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke

BAD = """
[store]
url = "mysql://nope"
[plugins]
enabled = "wonde"
[[integrations]]
name = "X"
[integrations.connector]
type = "not_installed"
[integrations.settings]
sites = ["Main"]
sync = "sometimes"
"""


def test_every_error_printed_exit_2(tmp_path: Path, invoke: Invoke) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD, "utf-8")
    result = invoke("config", "check", str(path))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "4 problem(s):"
    assert any(
        line.strip().startswith("store.url: 'mysql://nope' does not match") for line in lines
    )
    assert "  plugins.enabled: 'wonde' is not of type 'array'" in lines
    assert any(
        line.strip().startswith("integrations[0].settings.sync: 'sometimes' is not one of")
        for line in lines
    )
    assert any(
        line.strip().startswith(
            "integrations[0].connector.type: no connector named 'not_installed'"
        )
        for line in lines
    )


def test_json_output(tmp_path: Path, invoke: Invoke) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD, "utf-8")
    result = invoke("config", "check", str(path), "--json")
    assert result.exit_code == 2
    assert len(json.loads(result.output)["problems"]) == 4


def test_ok_file_and_missing_env(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(
        '[notifications.email]\nhost = "127.0.0.1"\nsender = "ck@school.example"\n'
        'password = "${CK_TEST_SMTP_PW}"\n',
        "utf-8",
    )
    monkeypatch.delenv("CK_TEST_SMTP_PW", raising=False)
    missing = invoke("config", "check", str(path))
    assert missing.exit_code == 2
    assert (
        "notifications.email.password: environment variable CK_TEST_SMTP_PW is not set"
        in missing.output
    )
    assert invoke("config", "check", str(path), "--allow-missing-env").exit_code == 0
    monkeypatch.setenv("CK_TEST_SMTP_PW", "a-password-for-smtp")
    ok = invoke("config", "check", str(path))
    assert ok.exit_code == 0
    assert "ok (0 integration(s): none)" in ok.output
    assert "a-password-for-smtp" not in ok.output


def test_missing_file_is_a_usage_error(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("config", "check", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "no such config file" in result.output
