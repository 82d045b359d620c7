"""``python -m connectkit``: the same as the ``connectkit`` command."""

from __future__ import annotations

from connectkit.cli import main

main(prog_name="connectkit")
