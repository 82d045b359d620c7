"""Micro-benchmark: the Wonde connector's per-record ``map_person`` — not a timed test.

Builds ``--people`` records of the synthetic trust of ``bench/sync_bench.py`` (``Trust``)
as Wonde-shaped pages of ``--page-size`` records (orjson bytes, as the sync benchmark serves
them), then maps every record with ``connectkit_wonde.mapping.map_person``, ``--repeat``
times, with the garbage collector disabled and enabled, in two modes:

* ``all``: every page decoded up front, every result kept until the pass ends (records cold
  in the CPU caches, a growing heap for the collector to walk): the figure issue 3 quotes;
* ``pages``: each page decoded just before it is mapped (decoding not timed) and its results
  dropped after it, as the connector does.

Then the import worker child's per-record stages, page by page (``child_*``), with the
collector tuned as a run tunes it (``connectkit.sync.gc_tuning``; the forked child inherits
it), as on a first sync (nothing vouched for): read the page lazily
(``records.read_page``: each record's bytes and id), fingerprint every record's bytes
(with the not-permitted paths every Wonde pass has, ``scopes.ALWAYS``), decode each
record, ``map_person`` it with that fingerprint, ``PopulationMap.apply`` the sync
benchmark's mapping to it, pickle the mapped page; each stage timed on its own (freeing
the previous page's objects falls in the stage that replaces them, as in the child).

Figures are medians of the repeats, in µs per record.

Run: ``.venv/bin/python bench/wonde_mapping_bench.py [--people 10000] [--repeat 7] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine
from sync_bench import Trust, _mapping, page_bytes, valid_mobile_prefixes


class _DistinctStamps(Trust):
    """The trust with a different ``updated_at`` for every person (the bench trust's are all
    equal, so every record after the first hits ``parse_datetime``'s cache)."""

    def updated_at(self, i: int) -> datetime:
        return super().updated_at(i) + timedelta(seconds=i * 61, microseconds=i * 7 % 999_983)


def pages(
    people: int, seed: int, page_size: int, distinct_stamps: bool = False
) -> list[tuple[bytes, str]]:
    """(page bytes, role) for each page of each role of the synthetic trust."""
    kind = _DistinctStamps if distinct_stamps else Trust
    trust = kind(people, seed, valid_mobile_prefixes())
    out: list[tuple[bytes, str]] = []
    for role in ("student", "staff"):
        indexes = list(trust.indexes(role))
        for start in range(0, len(indexes), page_size):
            chunk = indexes[start : start + page_size]
            out.append((page_bytes(trust, chunk, role, start // page_size + 1, page_size), role))
    return out


def _decoded(source: Sequence[tuple[bytes, Any]]) -> list[tuple[list[dict[str, Any]], Any]]:
    return [(orjson.loads(page)["data"], role) for page, role in source]


def pass_all(source: Sequence[tuple[bytes, Any]]) -> float:
    """Seconds to map every record of pages decoded beforehand, keeping every result."""
    from connectkit_wonde.mapping import map_person

    decoded = _decoded(source)
    start = time.perf_counter()
    out = [map_person(raw, role) for rows, role in decoded for raw in rows]
    elapsed = time.perf_counter() - start
    del out
    return elapsed


def pass_pages(source: Sequence[tuple[bytes, Any]]) -> float:
    """Seconds to map every record, each page decoded (untimed) just before it is mapped."""
    from connectkit_wonde.mapping import map_person

    elapsed = 0.0
    for page, role in source:
        rows = orjson.loads(page)["data"]
        start = time.perf_counter()
        out = [map_person(raw, role) for raw in rows]
        elapsed += time.perf_counter() - start
        del out
    return elapsed


CHILD_STAGES = ("read", "fingerprint", "decode", "map_person", "apply", "pickle")


def pass_child(source: Sequence[tuple[bytes, Any]]) -> list[float]:
    """Seconds spent in each of :data:`CHILD_STAGES` over every page, as the import
    worker runs them on a first sync (nothing vouched for): the connector's lazy page
    read, fingerprints from each record's bytes, decoding and mapping each record, the
    mapping rules, pickling the page for the writer."""
    from connectkit.sync.mapper import compile_mapping
    from connectkit_wonde.mapping import fingerprinter, map_person
    from connectkit_wonde.records import read_page
    from connectkit_wonde.scopes import ALWAYS

    populations = compile_mapping(_mapping())
    denied = frozenset(ALWAYS)
    clock = time.perf_counter
    spent = [0.0] * len(CHILD_STAGES)
    rows: list[Any] = []
    people: list[Any] = []
    mapped: list[Any] = []
    for page, role in source:
        start = clock()
        rows = read_page(page)["data"]
        read = clock()
        of = fingerprinter(role, denied)
        prints = [of(row.source) for row in rows]
        printed = clock()
        raws = [row.decoded() for row in rows]
        decoded = clock()
        pairs = zip(raws, prints, strict=True)
        people = [map_person(raw, role, denied, print_) for raw, print_ in pairs]
        built = clock()
        population = populations[role]
        mapped = [population.apply(person) for person in people if person is not None]
        applied = clock()
        pickle.dumps(mapped, protocol=pickle.HIGHEST_PROTOCOL)
        done = clock()
        laps = (read - start, printed - read, decoded - printed, built - decoded,
                applied - built, done - applied)  # fmt: skip
        for i, lap in enumerate(laps):
            spent[i] += lap
    del rows, people, mapped
    return spent


def timed(one_pass: Any, source: Sequence[tuple[bytes, Any]], *, gc_on: bool) -> float:
    """``one_pass(source)`` with the collector enabled or disabled."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        return float(one_pass(source))
    finally:
        gc.enable()


def measure(
    people: int, seed: int, repeat: int, page_size: int, distinct_stamps: bool = False
) -> dict[str, Any]:
    """Median µs per record over ``repeat`` passes, per mode, GC off and on."""
    from connectkit.models import Role

    source = [(page, Role(role)) for page, role in pages(people, seed, page_size, distinct_stamps)]
    timed(pass_pages, source[:2], gc_on=True)  # warm caches and imports
    figures: dict[str, Any] = {
        "people": people,
        "page_size": page_size,
        "repeat": repeat,
        "distinct_stamps": distinct_stamps,
    }
    for mode, one_pass in (("all", pass_all), ("pages", pass_pages)):
        for label, gc_on in (("gc_off", False), ("gc_on", True)):
            runs = [timed(one_pass, source, gc_on=gc_on) / people * 1e6 for _ in range(repeat)]
            figures[f"{mode}_{label}_us_per_record"] = round(statistics.median(runs), 2)
            figures[f"{mode}_{label}_runs_us"] = [round(r, 2) for r in runs]
    from connectkit.sync.gc_tuning import streaming_gc

    with streaming_gc():
        child = [pass_child(source) for _ in range(repeat)]
    for i, stage in enumerate(CHILD_STAGES):
        runs = [spent[i] / people * 1e6 for spent in child]
        figures[f"child_{stage}_us_per_record"] = round(statistics.median(runs), 2)
    totals = [sum(spent) / people * 1e6 for spent in child]
    figures["child_total_us_per_record"] = round(statistics.median(totals), 2)
    figures["child_total_runs_us"] = [round(r, 2) for r in totals]
    figures["machine"] = machine()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=200, help="Wonde per_page (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--distinct-stamps", action="store_true", help="a different updated_at for everyone"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = measure(args.people, args.seed, args.repeat, args.page_size, args.distinct_stamps)
    emit(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
