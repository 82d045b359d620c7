"""Validate a config document against the core schema and each connector's schema.

:func:`validate_document` returns every problem at once, one string per problem, each
starting with the exact key path (``integrations[0].connector.school_id: ...``). A value
at a ``writeOnly`` (secret) position is never quoted in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from connectkit.config.paths import Path, format_path, sort_key, starts_with
from connectkit.config.schema import Schema, core_schema, write_only_paths
from connectkit.errors import ConnectkitError

if TYPE_CHECKING:
    from connectkit.plugins import Hooks

CONNECTOR_KEY = "type"


def _extra_keys(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    props = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        str(key)
        for key in instance
        if key not in props and not any(re.search(p, str(key)) for p in patterns)
    ]


def _safe_message(error: ValidationError, secret: bool) -> str:
    message = error.message
    if secret or isinstance(error.instance, dict | list):
        shown = repr(error.instance)
        message = "value" + message[len(shown) :] if message.startswith(shown) else (
            f"value fails '{error.validator}'"
        )
    return message


def format_error(error: ValidationError, prefix: Path, secrets: Iterable[Path]) -> list[str]:
    """Turn one jsonschema error into messages with absolute key paths."""
    path: Path = (*prefix, *error.absolute_path)
    if error.validator == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        name = match.group(1) if match else "?"
        return [f"{format_path((*path, name))}: is required"]
    if error.validator == "additionalProperties" and error.validator_value is False:
        keys = _extra_keys(error)
        if keys:
            return [f"{format_path((*path, key))}: unknown key" for key in keys]
    secret = any(starts_with(path, s) for s in secrets)
    return [f"{format_path(path)}: {_safe_message(error, secret)}"]


def _errors(validator: Any, instance: Any) -> Iterator[ValidationError]:
    errors = validator.iter_errors(instance)
    yield from sorted(errors, key=lambda e: sort_key(e.absolute_path))


def _validator(schema: Schema) -> Any:
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_issues(
    instance: Any, schema: Schema, prefix: Path = (), skip: Iterable[Path] = ()
) -> list[str]:
    """Every violation of ``schema`` by ``instance``; errors under ``skip`` are dropped."""
    skipped = list(skip)
    secrets = [(*prefix, *p) for p in write_only_paths(instance, schema)]
    issues: list[str] = []
    for error in _errors(_validator(schema), instance):
        where: Path = (*prefix, *error.absolute_path)
        if not any(starts_with(where, s) for s in skipped):
            issues.extend(format_error(error, prefix, secrets))
    return issues


def connector_schema_for(hooks: Hooks, type_name: str) -> Schema:
    """The connector's config schema (raises NotSupportedError when not installed)."""
    return hooks.connector(type_name).config_schema()


def _connector_issues(
    doc: dict[str, Any], hooks: Hooks, skip: Iterable[Path]
) -> list[str]:
    issues: list[str] = []
    for index, item in enumerate(doc.get("integrations") or []):
        section = item.get("connector") if isinstance(item, dict) else None
        if not isinstance(section, dict) or not isinstance(section.get(CONNECTOR_KEY), str):
            continue  # the core schema already reported it
        prefix: Path = ("integrations", index, "connector")
        try:
            schema = connector_schema_for(hooks, section[CONNECTOR_KEY])
        except ConnectkitError as exc:
            issues.append(f"{format_path((*prefix, CONNECTOR_KEY))}: {exc}")
            continue
        body = {k: v for k, v in section.items() if k != CONNECTOR_KEY}
        try:
            issues.extend(schema_issues(body, schema, prefix, skip))
        except SchemaError as exc:
            issues.append(
                f"{format_path(prefix)}: connector {section[CONNECTOR_KEY]!r} ships an invalid"
                f" config schema: {exc.message}"
            )
    return issues


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _notify_issues(at: Path, settings: dict[str, Any], channels: set[str]) -> list[str]:
    issues: list[str] = []
    for pos, channel in enumerate(_list(settings.get("notify"))):
        if isinstance(channel, str) and channel not in channels:
            issues.append(
                f"{format_path((*at, 'settings', 'notify', pos))}: channel {channel!r}"
                f" is not configured under [notifications.{channel}]"
            )
    if _list(settings.get("notify")) and not _list(settings.get("notify_to")):
        issues.append(f"{format_path((*at, 'settings', 'notify_to'))}: needs a recipient")
    return issues


def _field_map_issues(at: Path, mapping: dict[str, Any]) -> list[str]:
    issues: list[str] = []
    for role in ("students", "staff"):
        owners: dict[str, str] = {}
        for source, target in _dict(_dict(mapping.get(role)).get("fields")).items():
            if not isinstance(target, str):
                continue
            if target in owners:
                issues.append(
                    f"{format_path((*at, 'mapping', role, 'fields', source))}: {target!r} is"
                    f" already mapped from {owners[target]!r}; one MIS field per directory field"
                )
            owners.setdefault(target, source)
    return issues


def _semantic_issues(doc: dict[str, Any]) -> list[str]:
    """Cross-field rules JSON Schema cannot say: unique names, configured channels,
    one MIS field per directory field (R2.2)."""
    issues: list[str] = []
    seen: dict[str, int] = {}
    channels = set(_dict(doc.get("notifications")))
    for index, item in enumerate(_list(doc.get("integrations"))):
        item = _dict(item)
        at: Path = ("integrations", index)
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            issues.append(
                f"{format_path((*at, 'name'))}: {name!r} is already used by"
                f" integrations[{seen[name]}]"
            )
        if isinstance(name, str):
            seen.setdefault(name, index)
        issues.extend(_notify_issues(at, _dict(item.get("settings")), channels))
        issues.extend(_field_map_issues(at, _dict(item.get("mapping"))))
    return issues


def validate_document(
    doc: Any, hooks: Hooks | None, skip: Iterable[Path] = ()
) -> list[str]:
    """Every problem in the config document ``doc`` (already parsed), in path order.

    Checks the core schema, then each integration's connector section (without its
    ``type``) against that connector's schema from ``hooks`` (skipped when ``hooks`` is
    None), then cross-field rules. An unknown connector is reported at
    ``integrations[i].connector.type``. Problems at or under a path in ``skip`` are left
    out. Returns an empty list when the document is valid.
    """
    skipped = list(skip)
    issues = schema_issues(doc, core_schema(), (), skipped)
    if not isinstance(doc, dict):
        return issues
    if hooks is not None:
        issues.extend(_connector_issues(doc, hooks, skipped))
    issues.extend(_semantic_issues(doc))
    return issues
