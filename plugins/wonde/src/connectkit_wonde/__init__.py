"""connectkit-wonde: the Wonde connector plugin, its emulator and cassette recorder."""

from __future__ import annotations

from connectkit_wonde.connector import VERSION, WondeConnector

__version__ = VERSION
__all__ = ["WondeConnector", "__version__"]
