"""Render the connector template: a new connector project in one call (stdlib only).

The template lives in ``connectkit/testing/template_files/connector`` (shipped as package
data). Every file ends in ``.tmpl`` so no tool mistakes it for code; :func:`render`
drops the suffix and replaces these placeholders in file names and contents:

- ``{{name}}``: the connector name (``acme_mis``): entry point, package suffix;
- ``{{dist_name}}``: the name with dashes (``acme-mis``), for the distribution;
- ``{{class_name}}``: ``AcmeMisConnector``;
- ``{{title}}``: ``Acme Mis`` unless given;
- ``{{env_name}}``: ``ACME_MIS``, for environment variable names.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
SUFFIX = ".tmpl"


def placeholders(name: str, title: str | None = None) -> dict[str, str]:
    """The values :func:`render` substitutes for ``name`` (validated)."""
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"connector name {name!r} must match {NAME_PATTERN.pattern} "
            "(lower-case letters, digits and underscores, starting with a letter)"
        )
    words = name.split("_")
    return {
        "name": name,
        "dist_name": name.replace("_", "-"),
        "class_name": "".join(word.capitalize() for word in words) + "Connector",
        "title": title or " ".join(word.capitalize() for word in words if word),
        "env_name": name.upper(),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _files(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """(relative path parts, text) of every template file under ``folder``."""
    found: list[tuple[tuple[str, ...], str]] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            found.extend(_files(entry, (*prefix, entry.name)))
        elif entry.name.endswith(SUFFIX):
            found.append(((*prefix, entry.name), entry.read_text(encoding="utf-8")))
    return found


def template_root() -> Traversable:
    """The installed template folder."""
    return resources.files("connectkit.testing") / "template_files" / "connector"


def render(dest: str | Path, name: str, title: str | None = None) -> Path:
    """Write a new connector project for ``name`` into ``dest`` and return ``dest``.

    ``dest`` must not exist or be an empty folder (nothing is overwritten). Raises
    ValueError for an invalid name and FileExistsError for a non-empty ``dest``.
    """
    values = placeholders(name, title)
    target = Path(dest)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty; render into a new folder")
    files = _files(template_root())
    if not files:
        raise FileNotFoundError("the connector template is missing from this installation")
    for parts, text in files:
        relative = [_fill(part, values) for part in parts]
        relative[-1] = relative[-1].removesuffix(SUFFIX)
        path = target.joinpath(*relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(text, values), encoding="utf-8")
    return target
