"""A Wonde-compatible emulator: an ASGI app serving deterministic synthetic schools.

Run it with ``python -m connectkit_wonde.emulator --port 8765`` or
``connectkit-wonde-emulator``; use it in tests with :func:`serve_in_thread`.
"""

from __future__ import annotations

from connectkit_wonde.emulator.app import WondeEmulator
from connectkit_wonde.emulator.data import School
from connectkit_wonde.emulator.server import serve_in_thread
from connectkit_wonde.emulator.state import DEFAULT_SCHOOL, DEFAULT_TOKEN, EmulatorState, Faults

__all__ = [
    "DEFAULT_SCHOOL",
    "DEFAULT_TOKEN",
    "EmulatorState",
    "Faults",
    "School",
    "WondeEmulator",
    "serve_in_thread",
]
