"""What this machine offers for running work in child processes (no heavy imports: the
config loader asks too)."""

from __future__ import annotations

import multiprocessing
import os


def fork_available() -> bool:
    """True where child processes can be forked (Linux, macOS, BSDs)."""
    return "fork" in multiprocessing.get_all_start_methods()


def second_core_usable() -> bool:
    """True where a forked child process can run beside this one on another CPU."""
    return (os.cpu_count() or 1) > 1 and fork_available()
