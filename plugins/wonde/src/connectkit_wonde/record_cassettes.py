"""Record the Wonde cassettes (``cassettes/wonde/*.yaml``) with vcrpy.

Against the bundled emulator (the default: a small deterministic school served on a
loopback port)::

    python -m connectkit_wonde.record_cassettes

Against the real Wonde API with a real token (the token is read from the environment
and scrubbed from every cassette; check the result before committing it, since real
data would be recorded)::

    WONDE_TOKEN=... python -m connectkit_wonde.record_cassettes \\
        --base-url https://api.wonde.com/v1.0 --school-id A1930499544

Each scenario replays exactly the calls the replay tests make: ``contract.yaml`` (the
contract kit's reads), ``bad_credentials.yaml`` (a refused token) and ``writeback.yaml``
(one session write-back and its status).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.models import AttendanceMark, Role
from connectkit.secrets import Secret
from connectkit.testing.vcr import assert_cassette_clean, vcr_config
from connectkit_wonde.connector import WondeConnector

DEFAULT_DIR = Path(__file__).resolve().parents[4] / "cassettes" / "wonde"
MATCH_ON = ("method", "path", "query")
BAD_TOKEN = "0000000000000000000000000000000000000bad"  # noqa: S105 - refused on purpose

CONTRACT_OPTIONS = {"per_page": 4, "photo_per_page": 10, "include_leavers": True}
WRITEBACK_DATE = date(2024, 6, 3)


def replay_config(**overrides: Any) -> dict[str, Any]:
    """``vcr.VCR`` kwargs for replaying (and recording) these cassettes: scrubbed,
    matched on method, path and query only (the emulator's port does not matter).
    Use the cassettes with ``use_cassette(path, allow_playback_repeats=True)``."""
    return vcr_config(match_on=MATCH_ON, **overrides)


def contract_config(base_url: str, school_id: str, token: str | Secret) -> dict[str, Any]:
    """The connector config the contract cassettes were recorded with."""
    return {"school_id": school_id, "token": token, "base_url": base_url, **CONTRACT_OPTIONS}


def contract_calls(connector: WondeConnector, ctx: ConnectorContext) -> None:
    """Every read the contract kit makes (people passes, delta, groups, codes, …)."""
    connector.connectkit_check_credentials(ctx=ctx)
    list(connector.connectkit_fetch_groups(ctx=ctx))
    for role in Role:
        pages = list(connector.connectkit_fetch_people(ctx=ctx, role=role, since=None, cursor=None))
        stamps = [p.updated_at for page in pages for p in page.people if p.updated_at]
        since = max(stamps)
        list(connector.connectkit_fetch_people(ctx=ctx, role=role, since=since, cursor=None))
    list(connector.connectkit_fetch_deletions(ctx=ctx, since=None))
    list(connector.connectkit_fetch_attendance_codes(ctx=ctx))
    list(connector.connectkit_fetch_photos(ctx=ctx, known_hashes={}))


def writeback_calls(connector: WondeConnector, ctx: ConnectorContext, student_id: str) -> None:
    """One session mark written back, then its status read."""
    mark = AttendanceMark(
        key=f"{student_id}:{WRITEBACK_DATE}:AM",
        student_mis_id=student_id,
        date=WRITEBACK_DATE,
        session="AM",
        code="/",
    )
    receipts = connector.connectkit_write_back(ctx=ctx, marks=[mark])
    for receipt in receipts:
        connector.connectkit_write_back_status(ctx=ctx, receipt=receipt)


def _record(path: Path, calls: Callable[[], object], allow_errors: bool = False) -> None:
    import vcr

    path.unlink(missing_ok=True)
    recorder = vcr.VCR(**replay_config(record_mode="all"))
    with recorder.use_cassette(str(path), allow_playback_repeats=True):
        try:
            calls()
        except Exception:
            if not allow_errors:
                raise


@contextmanager
def _emulator(port: int) -> Iterator[tuple[str, str, str]]:
    from connectkit_wonde.emulator import (
        DEFAULT_TOKEN,
        EmulatorState,
        School,
        WondeEmulator,
        serve_in_thread,
    )

    state = EmulatorState()
    state.schools.clear()
    school = School(
        id="A1930499544", name="Emulated Academy", students=30, staff=6, leavers=3, seed=11
    )
    state.add_school(school)
    with serve_in_thread(WondeEmulator(state), port=port) as url:
        yield f"{url}/v1.0", "A1930499544", DEFAULT_TOKEN


def record_all(base_url: str, school_id: str, token: str, folder: Path) -> list[Path]:
    """Record every cassette into ``folder``; returns their paths (all checked clean)."""
    folder.mkdir(parents=True, exist_ok=True)
    connector = WondeConnector()
    with tempfile.TemporaryDirectory() as state:

        def ctx(config: Mapping[str, Any], name: str) -> ConnectorContext:
            return ConnectorContext(integration=name, config=config, state_dir=Path(state) / name)

        good = contract_config(base_url, school_id, Secret(token))
        bad = contract_config(base_url, school_id, Secret(BAD_TOKEN))
        paths = [
            folder / "contract.yaml",
            folder / "bad_credentials.yaml",
            folder / "writeback.yaml",
        ]
        _record(paths[0], lambda: contract_calls(connector, ctx(good, "contract")))
        _record(
            paths[1],
            lambda: connector.connectkit_check_credentials(ctx=ctx(bad, "bad")),
            allow_errors=True,
        )
        first = (
            next(
                iter(
                    connector.connectkit_fetch_people(
                        ctx=ctx(good, "probe"), role=Role.STUDENT, since=None, cursor=None
                    )
                )
            )
            .people[0]
            .mis_id
        )
        _record(paths[2], lambda: writeback_calls(connector, ctx(good, "writeback"), first))
    for path in paths:
        assert_cassette_clean(path, secrets=[token, BAD_TOKEN])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the Wonde connector's cassettes.")
    parser.add_argument("--base-url", help="a real API root; default: the bundled emulator")
    parser.add_argument("--school-id", default="A1930499544")
    parser.add_argument("--token-env", default="WONDE_TOKEN")
    parser.add_argument("--port", type=int, default=8765, help="emulator port (0: any)")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    source: AbstractContextManager[tuple[str, str, str]]
    if args.base_url:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"set {args.token_env} to a Wonde token", file=sys.stderr)
            return 2
        source = nullcontext((args.base_url.rstrip("/"), args.school_id, token))
    else:
        source = _emulator(args.port)
    with source as (base_url, school_id, token):
        for path in record_all(base_url, school_id, token, args.out):
            print(f"recorded {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
