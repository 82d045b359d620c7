"""Replay tests from cassettes/wonde/ (no network, no emulator) and the cassette check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import vcr

from connectkit.context import ConnectorContext
from connectkit.errors import InvalidCredentialsError
from connectkit.models import AttendanceMark, Role, WriteBackState
from connectkit.secrets import Secret
from connectkit.testing.vcr import assert_cassette_clean
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import DEFAULT_TOKEN
from connectkit_wonde.record_cassettes import (
    BAD_TOKEN,
    WRITEBACK_DATE,
    contract_config,
    replay_config,
)

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "wonde"
OFFLINE = "http://127.0.0.1:9/v1.0"
WONDE = WondeConnector()


def _ctx(tmp_path: Path, token: str = DEFAULT_TOKEN) -> ConnectorContext:
    return ConnectorContext(
        "replay", contract_config(OFFLINE, "A1930499544", Secret(token)), tmp_path
    )


def _cassette(name: str):
    return vcr.VCR(**replay_config()).use_cassette(
        str(CASSETTES / name), allow_playback_repeats=True
    )


def test_every_cassette_is_clean() -> None:
    found = sorted(CASSETTES.glob("*.yaml"))
    assert {p.name for p in found} >= {"contract.yaml", "bad_credentials.yaml", "writeback.yaml"}
    for path in found:
        assert_cassette_clean(path, secrets=[DEFAULT_TOKEN, BAD_TOKEN])
        assert "authorization" not in path.read_text().lower()


def test_the_check_catches_a_leaked_token(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(
        (CASSETTES / "bad_credentials.yaml")
        .read_text()
        .replace(
            "user-agent:", f"authorization:\n      - Bearer {DEFAULT_TOKEN}\n      user-agent:"
        )
    )
    with pytest.raises(AssertionError, match=r"(?i)authorization"):
        assert_cassette_clean(leaky, secrets=[DEFAULT_TOKEN])


def test_replayed_people_pass(tmp_path: Path) -> None:
    with _cassette("contract.yaml") as cassette:
        pages = list(
            WONDE.connectkit_fetch_people(
                ctx=_ctx(tmp_path), role=Role.STUDENT, since=None, cursor=None
            )
        )
    people = [p for page in pages for p in page.people]
    assert len(people) == len({p.mis_id for p in people}) == 30 + 3  # 30 current, 3 leavers
    assert all(p.first_name and p.last_name for p in people)
    assert cassette.play_count > 0


def test_replayed_bad_credentials(tmp_path: Path) -> None:
    with _cassette("bad_credentials.yaml"), pytest.raises(InvalidCredentialsError):
        WONDE.connectkit_check_credentials(ctx=_ctx(tmp_path, BAD_TOKEN))


def test_replayed_writeback(tmp_path: Path) -> None:
    with _cassette("contract.yaml"):
        first = (
            next(
                iter(
                    WONDE.connectkit_fetch_people(
                        ctx=_ctx(tmp_path / "a"), role=Role.STUDENT, since=None, cursor=None
                    )
                )
            )
            .people[0]
            .mis_id
        )
    mark = AttendanceMark(
        key=f"{first}:{WRITEBACK_DATE}:AM",
        student_mis_id=first,
        date=WRITEBACK_DATE,
        session="AM",
        code="/",
    )
    with _cassette("writeback.yaml"):
        [receipt] = WONDE.connectkit_write_back(ctx=_ctx(tmp_path / "b"), marks=[mark])
        assert receipt.state is WriteBackState.ACCEPTED
        assert receipt.remote_id
        assert (
            WONDE.connectkit_write_back_status(ctx=_ctx(tmp_path / "b"), receipt=receipt).state
            is WriteBackState.DONE
        )
    assert date(2024, 6, 3) == WRITEBACK_DATE
