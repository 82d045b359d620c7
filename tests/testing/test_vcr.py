"""Cassettes recorded over real HTTP on 127.0.0.1 keep no credential (connectkit.testing.vcr)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import vcr

from connectkit.secrets import Secret
from connectkit.testing.vcr import assert_cassette_clean, cassette_problems, vcr_config

TOKEN = "tok-9f8e7d6c5b4a-vcr-test"


class Echo(BaseHTTPRequestHandler):
    """Answers with what it received, credentials included (the worst case)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = json.dumps(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"session={TOKEN}")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def talk(base: str, token: Secret) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token.reveal()}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        return [
            client.get("/people", params={"token": token.reveal(), "page": "2"}),
            client.post("/marks", json={"token": token.reveal(), "code": "/"}),
        ]


def test_scrubbing_config_records_a_clean_cassette_that_replays(
    server: str, tmp_path: Path
) -> None:
    token = Secret(TOKEN)
    cassette = tmp_path / "clean.yaml"
    with vcr.VCR(**vcr_config(record_mode="once")).use_cassette(str(cassette)):
        live = talk(server, token)
    assert TOKEN in live[0].text  # the server really echoed it: the scrubbing is what saves us
    assert_cassette_clean(cassette, secrets=[token])
    text = cassette.read_text()
    assert "page=2" in text
    assert "***" in text
    with vcr.VCR(**vcr_config()).use_cassette(str(cassette)):  # replay only, no network
        replayed = talk(server, token)
    assert [r.status_code for r in replayed] == [200, 200]
    assert replayed[1].json()["path"] == "/marks"
    assert TOKEN not in replayed[0].text


def test_unscrubbed_cassette_is_caught_without_repeating_the_secret(
    server: str, tmp_path: Path
) -> None:
    cassette = tmp_path / "leaky.yaml"
    with vcr.VCR(record_mode="once").use_cassette(str(cassette)):
        talk(server, Secret(TOKEN))
    problems = cassette_problems(cassette, [TOKEN])
    assert any("keeps header authorization" in p.lower() for p in problems), problems
    assert any("token in its query" in p for p in problems), problems
    assert any("response body contains secret #1" in p for p in problems), problems
    with pytest.raises(AssertionError, match="cassette is not clean") as failed:
        assert_cassette_clean(cassette, secrets=[Secret(TOKEN)])
    assert TOKEN not in str(failed.value)


def test_a_header_alone_fails_the_check(tmp_path: Path) -> None:
    cassette = tmp_path / "header.yaml"
    cassette.write_text(
        "interactions:\n"
        "- request:\n"
        "    method: GET\n"
        "    uri: https://api.example.test/v1.0/schools\n"
        "    body: null\n"
        "    headers:\n"
        "      Authorization: ['***']\n"
        "  response:\n"
        "    status: {code: 200, message: OK}\n"
        "    headers: {}\n"
        "    body: {string: '{}'}\n"
        "version: 1\n"
    )
    assert cassette_problems(cassette) == ["header.yaml: interaction 0 keeps header Authorization"]
