"""Cassettes without credentials: a scrubbing vcrpy config and a cassette checker.

:func:`vcr_config` returns keyword arguments for ``vcr.VCR(...)`` (or the ``vcr_config``
fixture of pytest-recording) that, before anything is written to a cassette:

- drop credential headers (``Authorization``, ``X-Api-Key``, cookies …);
- replace token-like query parameters and form / JSON body fields with ``***``;
- pass request and response bodies through :func:`connectkit.secrets.redact`, so any
  registered :class:`~connectkit.secrets.Secret` and any bearer-looking value is masked.

:func:`assert_cassette_clean` is the check every cassette must pass: it fails when a
cassette holds an ``Authorization`` header or any of the given secrets, and its message
never repeats the secret it found.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from connectkit.secrets import MASK, Secret, redact

SECRET_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-auth-token",
    "cookie",
    "set-cookie",
)
SECRET_PARAMETERS: tuple[str, ...] = (
    "access_token",
    "token",
    "api_key",
    "apikey",
    "password",
    "client_secret",
    "refresh_token",
)
_QUERY_PATTERN = re.compile(
    r"(?i)[?&](?:" + "|".join(SECRET_PARAMETERS) + r")=(?!(?:\*\*\*|%2A%2A%2A)(?:&|$|\s))[^&\s]+"
)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _scrub_body(body: Any) -> Any:
    """Redact a body (str or bytes), keeping its type; undecodable bytes pass unchanged."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        cleaned = redact(text)
        return body if cleaned == text else cleaned.encode("utf-8")
    if isinstance(body, str):
        return redact(body)
    return body


def _scrub_request(request: Any) -> Any:
    request.body = _scrub_body(request.body)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    body = response.get("body")
    if isinstance(body, dict) and "string" in body:
        body["string"] = _scrub_body(body["string"])
    return response


def vcr_config(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR`` that keep credentials out of cassettes.

    ``record_mode`` defaults to ``"none"`` (replay only: a test never reaches the
    network by accident); pass ``record_mode="once"`` (or pytest-recording's
    ``--record-mode``) to record. ``overrides`` replace any key.
    """
    config: dict[str, Any] = {
        "filter_headers": [(name, None) for name in SECRET_HEADERS],
        "filter_query_parameters": [(name, MASK) for name in SECRET_PARAMETERS],
        "filter_post_data_parameters": [(name, MASK) for name in SECRET_PARAMETERS],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
        "record_mode": "none",
    }
    config.update(overrides)
    return config


def _secret_values(secrets: Iterable[str | Secret]) -> list[str]:
    values = [s.reveal() if isinstance(s, Secret) else s for s in secrets]
    return [value for value in values if value]


def _interactions(path: Path) -> list[Mapping[str, Any]]:
    yaml = importlib.import_module("yaml")  # vcrpy's own dependency; untyped
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    interactions = data.get("interactions", []) if isinstance(data, dict) else []
    return [item for item in interactions if isinstance(item, Mapping)]


def _parts(interaction: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """(where, text) for every string of an interaction that could hold a credential."""
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    yield "request uri", _text(request.get("uri"))
    yield "request body", _text(request.get("body"))
    for name, values in (request.get("headers") or {}).items():
        yield f"request header {name}", _text(values)
    for name, values in (response.get("headers") or {}).items():
        yield f"response header {name}", _text(values)
    body = response.get("body") or {}
    yield "response body", _text(body.get("string") if isinstance(body, Mapping) else body)


def cassette_problems(path: str | Path, secrets: Iterable[str | Secret] = ()) -> list[str]:
    """Every credential leak in the cassette at ``path``, described without the secret."""
    cassette = Path(path)
    values = _secret_values(secrets)
    raw = cassette.read_text(encoding="utf-8")
    problems = [
        f"{cassette.name}: file text contains secret #{n}"
        for n, value in enumerate(values, start=1)
        if value in raw
    ]
    for index, interaction in enumerate(_interactions(cassette)):
        request = interaction.get("request") or {}
        for name in request.get("headers") or {}:
            if str(name).lower() in SECRET_HEADERS:
                problems.append(f"{cassette.name}: interaction {index} keeps header {name}")
        for where, text in _parts(interaction):
            problems.extend(
                f"{cassette.name}: interaction {index} {where} contains secret #{n}"
                for n, value in enumerate(values, start=1)
                if value in text
            )
            if _QUERY_PATTERN.search(text) and where == "request uri":
                problems.append(f"{cassette.name}: interaction {index} has a token in its query")
    return problems


def assert_cassette_clean(path: str | Path, secrets: Iterable[str | Secret] = ()) -> None:
    """Fail (AssertionError) when the cassette keeps an Authorization header or a secret.

    ``secrets`` are the clear values (or :class:`Secret` objects) that must not appear
    anywhere in the file: in a URI, a header, a request or a response body.
    """
    problems = cassette_problems(path, secrets)
    if problems:
        raise AssertionError("cassette is not clean:\n" + "\n".join(f"  - {p}" for p in problems))

