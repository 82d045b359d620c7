"""Benchmark: a Wonde people pass from the emulator on loopback, against a raw floor.

Starts the bundled emulator in its own process (``python -m connectkit_wonde.emulator``),
then measures, for a school of ``--people`` students:

- the connector's full student pass (``connectkit_fetch_people``: paging, retries layer,
  mapping into MISPerson) in records per second;
- the floor: plain ``httpx`` GETs of the very same pages (following ``next``) plus
  ``orjson.loads``, nothing else; ``floor_ratio`` = connector time / floor time
  (target <= 1.3);
- peak RSS of a fresh process doing the connector pass, for each of ``--rss-sizes``
  (memory must stay flat as the school grows: pages are streamed).

Usage: ``python bench/wonde_bench.py [--people 100000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00emulated"  # the emulator's fake token
SCHOOL = "A1930499544"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(people: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "connectkit_wonde.emulator",
        "--port",
        str(port),
        "--students",
        str(people),
        "--staff",
        "10",
        "--deleted-every",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/ledger", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the emulator did not start")


def add_school(url: str, school_id: str, people: int) -> None:
    body = {
        "id": school_id,
        "name": f"Bench {people}",
        "students": people,
        "staff": 10,
        "deleted_every": 0,
        "seed": 5,
    }
    httpx.post(f"{url}/_emulator/schools", json=body, timeout=10).raise_for_status()


def config(url: str, school_id: str, per_page: int) -> dict[str, Any]:
    return {"school_id": school_id, "token": TOKEN, "base_url": f"{url}/v1.0", "per_page": per_page}


def connector_pass(url: str, school_id: str, per_page: int) -> tuple[int, float]:
    """(people, seconds) of one full student pass through the real connector."""
    from connectkit.context import ConnectorContext
    from connectkit.models import Role
    from connectkit_wonde import WondeConnector

    with tempfile.TemporaryDirectory() as state:
        ctx = ConnectorContext("bench", config(url, school_id, per_page), Path(state))
        started = time.perf_counter()
        count = 0
        for page in WondeConnector().connectkit_fetch_people(
            ctx=ctx, role=Role.STUDENT, since=None, cursor=None
        ):
            count += len(page.people)
        return count, time.perf_counter() - started


def floor_pass(url: str, school_id: str, per_page: int) -> tuple[int, float]:
    """(records, seconds) of raw GETs + orjson decode of the same pages."""
    from connectkit_wonde.people import STUDENT_INCLUDES

    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    count = 0
    with httpx.Client(headers=headers, timeout=60) as client:
        next_url: str | None = (
            f"{url}/v1.0/schools/{school_id}/students"
            f"?include={STUDENT_INCLUDES}&per_page={per_page}"
        )
        while next_url:
            payload = orjson.loads(client.get(next_url).content)
            count += len(payload["data"])
            pagination = payload.get("meta", {}).get("pagination") or {}
            next_url = pagination.get("next") if pagination.get("more") else None
    return count, time.perf_counter() - started


def child_rss(url: str, school_id: str, per_page: int) -> dict[str, Any]:
    """Run one connector pass in a fresh process; its people, seconds and peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, school_id, str(per_page)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def child_main(url: str, school_id: str, per_page: int) -> None:
    people, seconds = connector_pass(url, school_id, per_page)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"people": people, "seconds": seconds, "peak_rss_mb": peak_kb / 1024}))


def run(args: argparse.Namespace) -> dict[str, Any]:
    proc, url = start_emulator(args.people)
    try:
        floor_pass(url, SCHOOL, args.per_page)  # warm up both sides
        floors, passes = [], []
        for _ in range(args.rounds):
            floors.append(floor_pass(url, SCHOOL, args.per_page))
            passes.append(connector_pass(url, SCHOOL, args.per_page))
        people, best = min(passes, key=lambda item: item[1])
        _, floor = min(floors, key=lambda item: item[1])
        rss = {}
        for size in args.rss_sizes:
            school_id = f"A9{size:09d}"
            add_school(url, school_id, size)
            rss[size] = child_rss(url, school_id, args.per_page)["peak_rss_mb"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "people": people,
        "per_page": args.per_page,
        "seconds": round(best, 3),
        "records_per_s": round(people / best),
        "floor_seconds": round(floor, 3),
        "floor_records_per_s": round(people / floor),
        "floor_ratio": round(best / floor, 3),
        "peak_rss_mb": round(max(rss.values()), 1),
        "peak_rss_mb_by_size": {str(k): round(v, 1) for k, v in rss.items()},
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_main(argv[1], argv[2], int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rss-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"people fetched      {result['people']}")
        print(f"connector           {result['records_per_s']} records/s ({result['seconds']} s)")
        floor = f"{result['floor_records_per_s']} records/s ({result['floor_seconds']} s)"
        print(f"floor (httpx+orjson) {floor}")
        print(f"floor ratio         {result['floor_ratio']} (target <= 1.3)")
        print(f"peak RSS by size    {result['peak_rss_mb_by_size']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
