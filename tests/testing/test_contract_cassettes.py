"""R8.3: a connector runs the contract kit against its own recorded cassettes.

A small HTTP connector talks to a real server on 127.0.0.1. The kit is run once recording
cassettes (vcr_config, record_mode=once), the server is shut down, and the kit is run
again replaying them: every check passes offline and no cassette holds the token.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

# Imported here so pytester's sys.modules snapshot keeps one copy of each module the
# nested runs use (a re-imported yaml / pydantic model class breaks the second run).
import vcr  # noqa: F401

import connectkit.testing.contract  # noqa: F401
from connectkit.testing.vcr import assert_cassette_clean

importlib.import_module("yaml")  # untyped; imported for the snapshot only

pytest_plugins = ["pytester"]
# Nested runs skip plugins they do not need (hypothesis alone costs seconds per run).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:xdist")

GOOD = "cassette-good-token-5f1e"
BAD = "cassette-bad-token-0c2d"
PEOPLE = {
    "student": [{"id": f"S{n}", "first": "Zoë", "last": f"Ng{n}"} for n in range(1, 6)],
    "staff": [{"id": "T1", "first": "Seán", "last": "Ó Briain"}],
}


class School(BaseHTTPRequestHandler):
    """A tiny MIS API: bearer auth, a school, groups, and people two per page."""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {GOOD}":
            return self._send(401, {"error": "unauthenticated"})
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/schools/S1":
            return self._send(200, {"id": "S1", "name": "St Cassette's"})
        if url.path == "/groups":
            return self._send(200, {"data": [{"id": "yr-1", "name": "Year 1", "kind": "year"}]})
        if url.path == "/people":
            rows = PEOPLE[query["role"]]
            page = int(query.get("page", "1"))
            more = page * 2 < len(rows)
            body = {"data": rows[(page - 1) * 2 : page * 2], "next": page + 1 if more else None}
            return self._send(200, body)
        return self._send(404, {"error": "no such resource"})

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


CONNECTOR_TESTS = '''
from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import vcr

from connectkit.errors import InvalidCredentialsError
from connectkit.hookspecs import hookimpl
from connectkit.models import (
    Capabilities, ConnectorInfo, GroupKind, MISGroup, MISPerson, PeoplePage, Role, SchoolInfo,
)
from connectkit.testing.contract import ConnectorContract
from connectkit.testing.vcr import vcr_config

CASSETTES = Path(os.environ["CK_CASSETTES"])


class HttpDemo:
    @hookimpl
    def connectkit_connector_info(self):
        return ConnectorInfo(name="http_demo", title="HTTP demo", version="1",
                             capabilities=Capabilities())

    @hookimpl
    def connectkit_config_schema(self):
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"base_url": {"type": "string"}, "school": {"type": "string"},
                           "token": {"type": "string", "writeOnly": True}},
            "required": ["base_url", "school", "token"],
        }

    def _get(self, ctx, path, **params):
        headers = {"Authorization": f"Bearer {ctx.config['token'].reveal()}"}
        with httpx.Client(base_url=ctx.config["base_url"], headers=headers) as client:
            response = client.get(path, params=params)
        if response.status_code == 401:
            raise InvalidCredentialsError(f"{ctx.integration}: the MIS refused the token")
        response.raise_for_status()
        return response.json()

    @hookimpl
    def connectkit_check_credentials(self, ctx):
        body = self._get(ctx, f"/schools/{ctx.config['school']}")
        return SchoolInfo(id=body["id"], name=body["name"])

    @hookimpl
    def connectkit_fetch_groups(self, ctx):
        for row in self._get(ctx, "/groups")["data"]:
            yield MISGroup(id=row["id"], name=row["name"], kind=GroupKind(row["kind"]))

    @hookimpl
    def connectkit_fetch_people(self, ctx, role, since, cursor):
        page = int(cursor or 1)
        while page:
            body = self._get(ctx, "/people", role=role.value, page=page)
            page = body["next"]
            people = tuple(MISPerson(mis_id=r["id"], role=role, first_name=r["first"],
                                     last_name=r["last"]) for r in body["data"])
            yield PeoplePage(people=people, cursor=str(page) if page else None)


class TestHttpDemoContract(ConnectorContract):
    plugin = HttpDemo

    @pytest.fixture
    def contract_config(self):
        return {"base_url": os.environ["CK_BASE_URL"], "school": "S1",
                "token": os.environ["CK_GOOD"]}

    @pytest.fixture
    def bad_credentials_config(self):
        return {"base_url": os.environ["CK_BASE_URL"], "school": "S1",
                "token": os.environ["CK_BAD"]}

    @pytest.fixture(autouse=True)
    def cassette(self, request):
        recorder = vcr.VCR(**vcr_config(record_mode=os.environ["CK_RECORD"]))
        with recorder.use_cassette(str(CASSETTES / f"{request.node.name}.yaml")):
            yield
'''


@pytest.fixture
def school() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), School)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def run_kit(pytester: pytest.Pytester) -> dict[str, int]:
    result = pytester.runpytest_inprocess(*QUIET, "test_http_demo.py")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()[-4000:]
    assert outcomes.get("errors", 0) == 0, result.stdout.str()[-4000:]
    return outcomes


def test_kit_records_then_replays_offline_with_clean_cassettes(
    pytester: pytest.Pytester,
    school: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    pytester.makepyfile(test_http_demo=CONNECTOR_TESTS)
    monkeypatch.setenv("CK_BASE_URL", f"http://127.0.0.1:{school.server_address[1]}")
    monkeypatch.setenv("CK_CASSETTES", str(cassettes))
    monkeypatch.setenv("CK_GOOD", GOOD)
    monkeypatch.setenv("CK_BAD", BAD)

    monkeypatch.setenv("CK_RECORD", "once")
    recorded = run_kit(pytester)
    files = sorted(cassettes.glob("*.yaml"))
    assert len(files) >= 6  # credentials x2, groups, people/resume per role ...
    for path in files:
        assert_cassette_clean(path, secrets=[GOOD, BAD])

    school.shutdown()
    school.server_close()  # from here on, any real request would fail to connect
    monkeypatch.setenv("CK_RECORD", "none")
    replayed = run_kit(pytester)
    assert replayed == recorded
    assert replayed["passed"] >= 10
