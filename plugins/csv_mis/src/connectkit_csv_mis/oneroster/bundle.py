"""A OneRoster bundle: a folder, or a .zip with ``manifest.csv`` at its root.

Members are streamed (never extracted); only the fixed spec file names are opened, so a
hostile member name cannot escape anywhere.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO, cast

from connectkit.errors import BadResponseError, NotFoundError
from connectkit_csv_mis.reader import Source


class Bundle:
    """Opens the CSV files of one bundle; close it when done (zip handle)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise BadResponseError(f"{path.name}: not a zip file or a folder") from None
        elif not path.is_dir():
            raise NotFoundError(f"csv_mis: OneRoster bundle {path.name!r} not found")
        if not self.has("manifest.csv"):
            raise NotFoundError(f"{path.name}: no manifest.csv at the bundle root")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._zip.namelist()
        return (self.path / name).is_file()

    def source(self, name: str) -> Source:
        if not self.has(name):
            raise BadResponseError(f"{self.path.name}: {name} is missing from the bundle")
        label = f"{self.path.name}/{name}"
        if self._zip is not None:
            archive = self._zip
            return Source(label, lambda: _member(archive, name))
        return Source.from_path(self.path / name, label)

    def signature(self) -> str:
        """Changes whenever any file of the bundle changes (size and mtime)."""
        if self._zip is not None:
            stat = self.path.stat()
            return f"zip:{stat.st_size}:{stat.st_mtime_ns}"
        parts = [
            f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
            for p in sorted(self.path.glob("*.csv"))
        ]
        return "|".join(parts)


def _member(archive: zipfile.ZipFile, name: str) -> BinaryIO:
    return cast(BinaryIO, archive.open(name))
