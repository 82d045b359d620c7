"""The core JSON Schema and small walkers over (schema, instance) pairs.

The core schema (``core.schema.json``, draft 2020-12) describes a deployment's config
file; each connector plugin supplies the schema of its ``[integrations.connector]``
section. The walkers follow ``properties`` / ``patternProperties`` /
``additionalProperties`` / ``prefixItems`` / ``items``, local ``$ref`` and the
``allOf`` / ``anyOf`` / ``oneOf`` / ``then`` / ``else`` branches, so they find
``writeOnly`` values and ``default`` s wherever a schema puts them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from connectkit.config.paths import Path

Schema = dict[str, Any]
_BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")


@cache
def _core_text() -> str:
    return resources.files("connectkit.config").joinpath("core.schema.json").read_text("utf-8")


def core_schema() -> Schema:
    """A fresh copy of the core config schema (callers may not mutate a shared one)."""
    schema: Schema = json.loads(_core_text())
    return schema


def _resolve_ref(ref: str, root: Schema) -> Schema | None:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for token in ref[1:].split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node if isinstance(node, dict) else None


def expand(schema: Any, root: Schema, depth: int = 0) -> Iterator[Schema]:
    """``schema`` and every subschema that applies to the same instance."""
    if not isinstance(schema, dict) or depth > 32:
        return
    yield schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        yield from expand(_resolve_ref(ref, root), root, depth + 1)
    for keyword in _BRANCHES:
        branch = schema.get(keyword)
        for sub in branch if isinstance(branch, list) else [branch]:
            yield from expand(sub, root, depth + 1)


def child_schemas(schemas: list[Schema], key: str | int) -> list[Schema]:
    """The subschemas that govern ``instance[key]`` under any of ``schemas``."""
    found: list[Any] = []
    for schema in schemas:
        if isinstance(key, int):
            prefix = schema.get("prefixItems")
            if isinstance(prefix, list) and key < len(prefix):
                found.append(prefix[key])
            else:
                found.append(schema.get("items"))
            continue
        props = schema.get("properties") or {}
        if key in props:
            found.append(props[key])
            continue
        patterns = schema.get("patternProperties") or {}
        matched = [sub for pattern, sub in patterns.items() if re.search(pattern, key)]
        found.extend(matched or [schema.get("additionalProperties")])
    return [s for s in found if isinstance(s, dict)]


def write_only_paths(instance: Any, schema: Schema, root: Schema | None = None) -> list[Path]:
    """Paths of every value in ``instance`` whose schema says ``"writeOnly": true``."""
    root = root if root is not None else schema
    out: list[Path] = []

    def walk(value: Any, schemas: list[Schema], path: Path) -> None:
        expanded = [s for sch in schemas for s in expand(sch, root)]
        if any(s.get("writeOnly") is True for s in expanded):
            out.append(path)
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, child_schemas(expanded, str(key)), (*path, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, child_schemas(expanded, index), (*path, index))

    walk(instance, [schema], ())
    return out


def with_defaults(instance: Any, schema: Schema, root: Schema | None = None) -> Any:
    """A copy of ``instance`` where every missing property that has a ``default`` gets it."""
    root = root if root is not None else schema

    def fill(value: Any, schemas: list[Schema]) -> Any:
        expanded = [s for sch in schemas for s in expand(sch, root)]
        if isinstance(value, dict):
            result = dict(value)
            for sch in expanded:
                for key, sub in (sch.get("properties") or {}).items():
                    if key not in result and isinstance(sub, dict) and "default" in sub:
                        result[key] = copy.deepcopy(sub["default"])
            return {k: fill(v, child_schemas(expanded, str(k))) for k, v in result.items()}
        if isinstance(value, list):
            return [fill(v, child_schemas(expanded, i)) for i, v in enumerate(value)]
        return value

    return fill(instance, [schema])


def get_at(instance: Any, path: Path) -> Any:
    """The value at ``path`` (KeyError / IndexError / TypeError when absent)."""
    for part in path:
        instance = instance[part]
    return instance


def replace_at(instance: Any, path: Path, value: Any) -> Any:
    """A copy of ``instance`` (dicts and lists along ``path`` copied) with ``value`` at ``path``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(instance, dict):
        copied_dict = dict(instance)
        copied_dict[head] = replace_at(instance[head], rest, value)
        return copied_dict
    copied = list(instance)
    assert isinstance(head, int)
    copied[head] = replace_at(instance[head], rest, value)
    return copied
