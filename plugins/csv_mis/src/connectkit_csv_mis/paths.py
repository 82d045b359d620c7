"""Resolve configured paths inside the export root; anything that escapes it is refused."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from connectkit.errors import ConfigError, NotFoundError


def resolve_root(root: str) -> Path:
    """The export folder as an absolute path (relative paths are taken from the cwd)."""
    return Path(root).expanduser().absolute()


def resolve_inside(root: Path, relative: str, what: str) -> Path:
    """Return ``root / relative`` after refusing traversal out of ``root``.

    Refused with ConfigError naming ``what``: absolute paths, drive letters, ``..``
    segments, NUL bytes, and symlinks whose target lies outside ``root``.
    """
    if "\x00" in relative:
        raise ConfigError(f"csv_mis config: {what}: path contains a NUL byte")
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        raise ConfigError(f"csv_mis config: {what}: {relative!r} must be relative to root")
    if ".." in posix.parts or ".." in windows.parts:
        raise ConfigError(f"csv_mis config: {what}: {relative!r} leaves the export folder")
    candidate = root / relative
    real_root = root.resolve()
    if not candidate.resolve().is_relative_to(real_root):
        raise ConfigError(f"csv_mis config: {what}: {relative!r} points outside the export folder")
    return candidate


def existing_file(root: Path, relative: str, what: str) -> Path:
    """Like :func:`resolve_inside`, and the file must exist (else NotFoundError)."""
    if not root.is_dir():
        raise NotFoundError(f"csv_mis: export folder {root} does not exist")
    path = resolve_inside(root, relative, what)
    if not path.exists():
        raise NotFoundError(f"csv_mis: {what} file {relative!r} not found in {root}")
    return path
