"""Secrets read from the environment never show in reprs, errors or log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from connectkit.cli.common import setup_logging
from connectkit.config import load_config, resolve_env
from connectkit.errors import ConfigValidationError, SecretMissingError
from connectkit.plugins import Hooks
from connectkit.secrets import Secret

from .conftest import GOOD

TOKEN = "very-secret-acme-token-42"
SMTP = "smtp-password-xyz-99"


@pytest.fixture
def loaded(tmp_path: Path, acme_hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP)
    path = tmp_path / "c.toml"
    path.write_text(GOOD, "utf-8")
    return load_config(path, acme_hooks)


def test_secrets_not_in_repr_or_str(loaded: object) -> None:
    for text in (repr(loaded), str(loaded)):
        assert TOKEN not in text
        assert SMTP not in text
        assert "Secret('***')" in text


def test_secret_in_bad_value_not_in_exception(
    tmp_path: Path, acme_hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = "q7z"  # fails minLength 8 and is too short for the redactor registry
    monkeypatch.setenv("ACME_TOKEN", short)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP)
    path = tmp_path / "c.toml"
    path.write_text(GOOD.replace('"Main Site"', "1"), "utf-8")
    with pytest.raises(ConfigValidationError) as caught:
        load_config(path, acme_hooks)
    text = str(caught.value) + repr(caught.value) + "".join(caught.value.issues)
    assert "integrations[0].connector.token: value is too short" in caught.value.issues
    assert short not in text.replace("is too short", "")


def test_secret_not_in_log_output(loaded: object, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's log handler redacts messages and tracebacks holding a loaded secret."""
    setup_logging("warning")
    logger = logging.getLogger("connectkit.test.secrets")
    logger.warning("token is %s and password %s", TOKEN, SMTP)
    try:
        raise RuntimeError(f"upstream said {TOKEN}")
    except RuntimeError:
        logger.exception("failed")
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert SMTP not in err
    assert "token is *** and password ***" in err
    assert "RuntimeError: upstream said ***" in err


def test_resolve_env_wraps_write_only(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {
        "type": "object",
        "properties": {"token": {"type": "string", "writeOnly": True}, "id": {"type": "string"}},
    }
    monkeypatch.setenv("RE_TOKEN", "resolve-env-token-1")
    value = resolve_env({"token": "${RE_TOKEN}", "id": "x-${RE_TOKEN}"}, schema, "sec")
    assert isinstance(value["token"], Secret)
    assert value["token"].reveal() == "resolve-env-token-1"
    assert value["id"] == "x-resolve-env-token-1"  # not write-only: a plain string
    with pytest.raises(SecretMissingError) as caught:
        resolve_env({"token": "${RE_UNSET_VAR}"}, schema, "integrations[2].connector")
    assert str(caught.value) == (
        "integrations[2].connector.token: environment variable RE_UNSET_VAR is not set"
    )
