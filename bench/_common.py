"""Helpers shared by the benchmarks: timing, memory figures, output.

Import from a benchmark script run as ``python bench/<name>.py`` (the script's folder is on
``sys.path``): ``from _common import Stopwatch, peak_rss_mb``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def children_peak_rss_mb() -> float:
    """Largest peak RSS of any waited-for child process (e.g. a worker pool), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def rss_mb() -> float:
    """Current resident set size of this process in MiB (0.0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024), 1)


@dataclass
class Stopwatch:
    """Named wall-clock laps: ``with watch.lap("staging"): ...`` then ``watch.laps``."""

    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def lap(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.laps[name] = round(time.perf_counter() - start, 4)


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def per_second(count: int, seconds: float | None) -> float | None:
    """``count / seconds`` rounded, or None when there is no (positive) time."""
    if seconds is None or seconds <= 0:
        return None
    return round(count / seconds, 1)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return round(numerator / denominator, 3)


def emit(figures: Mapping[str, Any], as_json: bool) -> None:
    """Print ``figures``: one JSON object, or aligned ``name: value`` lines."""
    if as_json:
        print(json.dumps(figures, default=str, sort_keys=False))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        if isinstance(value, Mapping):
            print(f"{key}:")
            for sub, item in value.items():
                print(f"  {sub:<{width}}  {item}")
        else:
            print(f"{key:<{width}}  {value}")
