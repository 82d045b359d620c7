"""Benchmark the csv_mis connector on a generated students file (default 1,000,000 rows).

Two figures, over the same file:

- raw parse: the connector's streaming reader alone (encoding + dialect detection, size
  guards, header checks, every row as a list of strings);
- people pages: a full ``connectkit_fetch_people`` pass through the connector (column
  mapping, validated ``MISPerson`` records, snapshot hashes in SQLite, resumable pages).

Rates are given per wall-clock second and per CPU second of this process (the second is
the fair figure on a busy machine). Peak RSS is the process high-water mark
(``ru_maxrss``); run with ``--rows 100000`` and the default to see that it does not grow
with the file.

Usage: python bench/csv_bench.py [--rows N] [--page-size N] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.models import Role
from connectkit_csv_mis.connector import CsvConnector
from connectkit_csv_mis.reader import Source, open_csv

HEADER = (
    "Student ID",
    "Forename",
    "Surname",
    "Email",
    "Mobile",
    "Date of Birth",
    "Year Group",
    "Reg Group",
    "House",
)


def generate(path: Path, rows: int) -> None:
    """Write ``rows`` synthetic students, streaming (no row list in memory)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for n in range(rows):
            year = 7 + n % 7
            writer.writerow(
                (
                    f"S{n:07d}",
                    f"Given{n % 997}",
                    f"Family{n % 1009}",
                    f"s{n}@students.school.example",
                    f"07700 900{n % 1000:03d}",
                    f"20{12 - n % 7:02d}-0{1 + n % 9}-1{n % 10}",
                    f"Year {year}",
                    f"{year}{'ABCDEF'[n % 6]}",
                    ("North", "South")[n % 2],
                )
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def csv_module(path: Path) -> float:
    """Seconds for the bare stdlib csv.reader over the file: the floor to compare with."""
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - start


def raw_parse(path: Path) -> tuple[int, float, float]:
    """Rows read, wall seconds, CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    with open_csv(Source.from_path(path)) as csv_file:
        for _ in csv_file.rows():
            count += 1
    return count, time.perf_counter() - start, time.process_time() - cpu


def people_pages(path: Path, state: Path, page_size: int) -> tuple[int, int, float, float]:
    """People read, pages, wall seconds, CPU seconds (SQLite's fsyncs are not CPU)."""
    config = {
        "root": str(path.parent),
        "students": path.name,
        "staff": path.name,
        "page_size": page_size,
        "columns": {
            role: {
                "mis_id": "Student ID",
                "first_name": "Forename",
                "last_name": "Surname",
                "email": "Email",
                "phone": "Mobile",
                "date_of_birth": "Date of Birth",
                "year_group": "Year Group",
                "registration_group": "Reg Group",
                "house": "House",
            }
            for role in ("students", "staff")
        },
    }
    ctx = ConnectorContext(integration="bench", config=config, state_dir=state)
    start, cpu = time.perf_counter(), time.process_time()
    count = pages = 0
    for page in CsvConnector().connectkit_fetch_people(
        ctx=ctx, role=Role.STUDENT, since=None, cursor=None
    ):
        count += len(page.people)
        pages += 1
    return count, pages, time.perf_counter() - start, time.process_time() - cpu


def run(rows: int, page_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="csv_bench_") as tmp:
        path = Path(tmp) / "students.csv"
        generate(path, rows)
        size_mb = path.stat().st_size / 1_048_576
        bare_s = csv_module(path)
        parsed, raw_s, raw_cpu = raw_parse(path)
        people, pages, pages_s, pages_cpu = people_pages(path, Path(tmp) / "state", page_size)
    assert parsed == people == rows, (parsed, people, rows)
    return {
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "raw_parse_s": round(raw_s, 2),
        "raw_parse_rows_per_s": round(rows / raw_s),
        "raw_parse_rows_per_cpu_s": round(rows / raw_cpu),
        "csv_module_rows_per_s": round(rows / bare_s),
        "pages": pages,
        "pages_s": round(pages_s, 2),
        "rows_per_s": round(rows / pages_s),
        "rows_per_cpu_s": round(rows / pages_cpu),
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.rows, args.page_size)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['rows']:,} rows, {result['file_mb']} MB file")
    print(f"raw parse:    {result['raw_parse_rows_per_s']:>10,} rows/s ({result['raw_parse_s']} s)")
    print(
        f"people pages: {result['rows_per_s']:>10,} rows/s ({result['pages_s']} s, "
        f"{result['pages']} pages)"
    )
    print(
        f"per CPU second: raw parse {result['raw_parse_rows_per_cpu_s']:,}, people pages "
        f"{result['rows_per_cpu_s']:,} (load average {result['load_average']})"
    )
    print(f"peak RSS:     {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
