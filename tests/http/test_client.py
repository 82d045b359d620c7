from __future__ import annotations

import base64
import logging

import httpx
import pytest

from connectkit.http import make_client, safe_url
from connectkit.http.client import USER_AGENT
from connectkit.secrets import Secret

TOKEN = "f00dfeedcafe0123456789abcdef0123456789ab"


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"headers": dict(request.headers)})


def test_bearer_header_and_user_agent_are_sent() -> None:
    client = make_client(
        "https://mis.test/v1.0/", auth=Secret(TOKEN), transport=httpx.MockTransport(_echo)
    )
    sent = client.get("schools").json()["headers"]
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("connectkit/")


def test_basic_scheme_uses_token_as_username_with_empty_password() -> None:
    client = make_client(
        "https://mis.test/",
        auth=Secret(TOKEN),
        auth_scheme="Basic",
        transport=httpx.MockTransport(_echo),
    )
    value = client.get("x").json()["headers"]["authorization"]
    assert base64.b64decode(value.split()[1]).decode() == f"{TOKEN}:"


def test_no_auth_means_no_header() -> None:
    client = make_client("https://mis.test/", auth=None, transport=httpx.MockTransport(_echo))
    assert "authorization" not in client.get("x").json()["headers"]


def test_event_hooks_log_redacted_url_and_never_the_token(caplog: pytest.LogCaptureFixture) -> None:
    Secret("sekrit-query-value")
    client = make_client(
        "https://mis.test/", auth=Secret(TOKEN), transport=httpx.MockTransport(_echo)
    )
    with caplog.at_level(logging.DEBUG, logger="connectkit.http"):
        client.get("students", params={"api_key": "sekrit-query-value", "page": "2"})
    text = caplog.text
    assert "GET https://mis.test/students?api_key=***&page=2" in text
    assert "-> 200" in text
    assert TOKEN not in text
    assert "sekrit-query-value" not in text


def test_safe_url_drops_userinfo() -> None:
    assert safe_url("https://user:pw@mis.test/a?token=abc123456") == "https://mis.test/a?token=***"


def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://elsewhere.test/"})

    client = make_client(
        "https://mis.test/", auth=Secret(TOKEN), transport=httpx.MockTransport(handler)
    )
    assert client.get("x").status_code == 302


def test_timeout_is_applied() -> None:
    client = make_client("https://mis.test/", auth=None, timeout=2.5)
    assert client.timeout.read == 2.5
