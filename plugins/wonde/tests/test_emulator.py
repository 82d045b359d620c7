"""The emulator itself, over real HTTP: envelope, paging, auth, laziness, determinism."""

from __future__ import annotations

import time

import httpx

from connectkit_wonde.emulator import DEFAULT_SCHOOL, DEFAULT_TOKEN, School
from connectkit_wonde.emulator.data import png

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
HTTP = httpx.Client(timeout=10)  # one client: building an SSL context per call is slow


def _get(url: str, **params: str) -> httpx.Response:
    return HTTP.get(url, params=params, headers=AUTH)


def test_envelope_and_next_paging(emulator, emulator_url) -> None:
    body = _get(
        f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}/students", per_page="25", include="year"
    ).json()
    pagination = body["meta"]["pagination"]
    assert pagination["more"] is True
    assert pagination["current_page"] == 1
    assert "include=year" in pagination["next"]
    assert "page=2" in pagination["next"]
    assert body["data"][0]["year"]["data"]["type"] == "YEAR"
    assert "contact_details" not in body["data"][0]


def test_small_lists_have_no_pagination_and_leavers_send_per_page_as_text(
    emulator, emulator_url
) -> None:
    groups = _get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}/groups", per_page="200").json()
    assert "pagination" not in groups["meta"]
    leavers = _get(
        f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}/students-leaver", per_page="4"
    ).json()
    assert leavers["meta"]["pagination"]["per_page"] == "4"


def test_auth_access_and_unknown_school(emulator, emulator_url) -> None:
    assert HTTP.get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}").status_code == 401
    basic = HTTP.get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}", auth=(DEFAULT_TOKEN, ""))
    assert basic.status_code == 200
    assert _get(f"{emulator_url}/v1.0/schools/A0000000404").status_code == 404
    emulator.add_school(School(id="A5550000001", name="Pending", access="pending"))
    assert _get(f"{emulator_url}/v1.0/schools/A5550000001/students").status_code == 403


def test_huge_school_pages_lazily_and_deterministically(emulator, emulator_url) -> None:
    emulator.add_school(School(id="A7770000001", name="Huge", seed=3, students=5_000_000))
    url = f"{emulator_url}/v1.0/schools/A7770000001/students"
    started = time.monotonic()
    last = _get(url, per_page="200", page="24000", include="contact_details").json()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # the page is computed, not looked up in a built school
    assert last["meta"]["pagination"]["more"] is True
    again = _get(url, per_page="200", page="24000", include="contact_details").json()
    assert again["data"] == last["data"]
    assert len({row["id"] for row in last["data"]}) == len(last["data"]) > 190


def test_updated_after_filters_and_advance_changes(emulator, emulator_url) -> None:
    url = f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}/students"
    changed = emulator.schools[DEFAULT_SCHOOL].advance(3)
    rows = _get(url, per_page="500", updated_after="2024-06-03 08:30:00").json()["data"]
    assert {row["id"] for row in rows} == set(changed)


def test_faults_rate_limit_and_truncation(emulator, emulator_url) -> None:
    emulator.set_faults({"rate_limit_every": 2, "retry_after": "3"})
    first = _get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}")
    second = _get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}")
    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["retry-after"] == "3"
    emulator.set_faults({"rate_limit_every": 0, "truncate_every": 1})
    page = _get(f"{emulator_url}/v1.0/schools/{DEFAULT_SCHOOL}/groups")
    assert page.status_code == 200
    assert not page.text.rstrip().endswith("}")


def test_admin_endpoints(emulator, emulator_url) -> None:
    admin = f"{emulator_url}/_emulator"
    assert HTTP.post(f"{admin}/faults", json={"delay_ms": 1}).json()["delay_ms"] == 1
    assert HTTP.post(f"{admin}/faults", json={"nope": 1}).status_code == 422
    created = HTTP.post(
        f"{admin}/schools", json={"id": "A8880000001", "name": "New", "access": "pending"}
    )
    assert created.json()["access"] == "pending"
    assert (
        HTTP.post(f"{admin}/schools/A8880000001/access", json={"state": "approved"}).json()[
            "access"
        ]
        == "approved"
    )
    assert HTTP.get(f"{admin}/ledger").json()["duplicates"] == 0
    assert HTTP.get(f"{admin}/state").json()["faults"]["delay_ms"] == 1


def test_photos_are_real_pngs() -> None:
    data = png(5)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert png(5) == data
    assert png(6) != data


def test_command_line_serves_on_the_given_port() -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "connectkit_wonde.emulator",
        "--port",
        str(port),
        "--students",
        "12",
        "--school-id",
        "A1234500001",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                body = HTTP.get(
                    f"http://127.0.0.1:{port}/v1.0/schools/A1234500001/students", headers=AUTH
                ).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator command did not start"
                time.sleep(0.1)
        assert len(body["data"]) == 12
        assert "pagination" not in body["meta"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
