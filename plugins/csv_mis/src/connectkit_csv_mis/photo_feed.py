"""The photos feed: which file is whose photo, skipping photos the directory already has."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from connectkit.errors import ConfigError
from connectkit.models import MISPhoto, Role
from connectkit_csv_mis.pages import scan
from connectkit_csv_mis.paths import resolve_inside
from connectkit_csv_mis.photos import find_in_folder, photo_record
from connectkit_csv_mis.settings import Settings
from connectkit_csv_mis.sources import PeopleSource

log = logging.getLogger(__name__)


def photo_files(
    settings: Settings, source: PeopleSource, folder: Path
) -> Iterator[tuple[str, Path]]:
    """``(mis_id, path)`` pairs: from a mapped ``photo`` column, else ``<mis_id>.<ext>``.

    A file name in the column that leaves the photos folder is refused for that person.
    """
    roles = [role for role in Role if "photo" in settings.columns.get(role, {})]
    if settings.mode != "generic" or not roles:
        yield from find_in_folder(folder)
        return
    for role in roles:
        header = settings.columns[role]["photo"]
        for mapped in scan(source.open(role)):
            name = str(mapped.person.extras.get(header, "")).strip() if mapped.person else ""
            if not name:
                continue
            try:
                path = resolve_inside(folder, name, f"photo of record {mapped.mis_id}")
            except ConfigError as exc:
                log.warning("%s; photo skipped", exc)
                continue
            if path.is_file():
                yield mapped.mis_id, path


def photos_of(
    settings: Settings, source: PeopleSource, folder: Path, known_hashes: dict[str, str]
) -> Iterator[MISPhoto]:
    """Photos whose content hash differs from ``known_hashes``; read at most limit + 1 bytes."""
    for mis_id, path in photo_files(settings, source, folder):
        photo = photo_record(mis_id, path, settings.photo_max_bytes)
        if known_hashes.get(mis_id) != photo.content_hash:
            yield photo
