"""A throwaway third-party distribution with broken plugins, installed on a PYTHONPATH entry.

``broken_site`` is a folder holding modules plus a ``ck_thirdparty-0.3.dist-info`` whose
``entry_points.txt`` declares four ``connectkit.plugins``: one that raises on import, one
implementing an unknown ``connectkit_*`` hook, one with a wrong argument name, and one
good plugin (so "the others still load" covers third parties too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

BROKEN_IMPORT = "raise RuntimeError('ck_broken_import exploded on import')\n"

PLUGINS = """
from connectkit.hookspecs import hookimpl


class UnknownHook:
    @hookimpl
    def connectkit_no_such_hook(self):
        return 1


class WrongArgs:
    @hookimpl
    def connectkit_check_access(self, context):
        return None


class Good:
    @hookimpl
    def connectkit_run_finished(self, report):
        return None
"""

ENTRY_POINTS = """[connectkit.plugins]
broken_import = ck_broken_import:Plugin
unknown_hook = ck_thirdparty:UnknownHook
wrong_args = ck_thirdparty:WrongArgs
good_extra = ck_thirdparty:Good
"""


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "ck_broken_import.py").write_text(BROKEN_IMPORT)
    (site / "ck_thirdparty.py").write_text(PLUGINS)
    info = site / "ck_thirdparty-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ck-thirdparty\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (info / "top_level.txt").write_text("ck_thirdparty\nck_broken_import\n")
    return site
