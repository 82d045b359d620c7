"""The :class:`Validator`: runs every rule on one record, or on a batch (optionally split
with the worker pool)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import astuple

from connectkit.sync.validation.email import check_email
from connectkit.sync.validation.issues import Issue, Validated, _shown
from connectkit.sync.validation.names import _LABELS, REQUIRED_FIELDS, clean_name
from connectkit.sync.validation.phone import _region_metadata, check_phone
from connectkit.sync.validation.pool import _default_workers, _main_hidden, _pool, _pool_failed

__all__ = ["Validator"]

_IssueRow = tuple[str, str, str | None, str]
_Row = tuple[dict[str, str | None], tuple[_IssueRow, ...]]


def _validate_rows(region: str, chunk: Sequence[Mapping[str, str | None]]) -> list[_Row]:
    """Worker side of :meth:`Validator.validate_many`: plain tuples pickle fastest."""
    validate = Validator(region, workers=0).validate
    rows: list[_Row] = []
    for fields in chunk:
        result = validate(fields)
        rows.append((result.fields, tuple(astuple(issue) for issue in result.issues)))
    return rows


def _from_row(row: _Row) -> Validated:
    return Validated(row[0], tuple(Issue(*issue) for issue in row[1]))


class Validator:
    """Validates records' directory fields for one integration (its ``phone_region``).

    ``workers`` extra processes share large batches in :meth:`validate_many` (default:
    ``CONNECTKIT_VALIDATE_WORKERS``, else none); batches smaller than ``pool_threshold``
    are always validated in this process.
    """

    def __init__(
        self, phone_region: str = "GB", *, workers: int | None = None, pool_threshold: int = 200
    ) -> None:
        _region_metadata(phone_region)  # unknown region: ValueError now, not per record
        self.phone_region = phone_region.upper()
        self.workers = _default_workers() if workers is None else workers
        self.pool_threshold = pool_threshold

    def validate(self, fields: Mapping[str, str | None]) -> Validated:
        """Clean ``fields`` and list every issue (all rules run; none stops the others)."""
        cleaned: dict[str, str | None] = dict(fields)
        issues: list[Issue] = []
        for name in REQUIRED_FIELDS:
            raw = fields.get(name)
            value = cleaned[name] = clean_name(raw)
            if value is None:
                issues.append(_required(name, raw))
        raw = fields.get("email")
        if raw is not None:
            value = raw.strip()
            if not value:
                cleaned["email"] = None
            else:
                good, reason = check_email(value)
                cleaned["email"] = value if good is None else good
                if reason is not None:
                    issues.append(_email_issue(value, reason))
        raw = fields.get("phone")
        if raw is not None:
            value = raw.strip()
            if not value:
                cleaned["phone"] = None
            else:
                good, reason = check_phone(value, self.phone_region)
                cleaned["phone"] = value if good is None else good
                if reason is not None:
                    issues.append(self._phone_issue(value, reason))
        return Validated(cleaned, tuple(issues))

    def validate_many(self, batch: Sequence[Mapping[str, str | None]]) -> list[Validated]:
        """``[self.validate(f) for f in batch]`` (same verdicts, same order); a batch of at
        least ``pool_threshold`` records is split with the worker processes."""
        if self.workers <= 0 or len(batch) < self.pool_threshold:
            validate = self.validate
            return [validate(fields) for fields in batch]
        parts = self.workers + 1
        size = -(-len(batch) // parts)
        chunks = [list(batch[i : i + size]) for i in range(0, len(batch), size)]
        validate = self.validate
        try:
            pool = _pool(self.workers)
            with _main_hidden():
                futures = [pool.submit(_validate_rows, self.phone_region, c) for c in chunks[1:]]
        except (RuntimeError, OSError, BrokenProcessPool) as exc:
            _pool_failed(self.workers, exc)
            return [validate(fields) for fields in batch]
        results = [validate(fields) for fields in chunks[0]]
        for chunk, future in zip(chunks[1:], futures, strict=True):
            try:
                results.extend(_from_row(row) for row in future.result())
            except (RuntimeError, OSError, BrokenProcessPool) as exc:
                _pool_failed(self.workers, exc)
                results.extend(validate(fields) for fields in chunk)
        return results

    def _phone_issue(self, value: str, reason: str) -> Issue:
        message = (
            f"phone: {_shown(value)} is not a phone number (read in region "
            f"{self.phone_region}): {reason}"
        )
        return Issue("phone", "phone", value, message)


def _required(name: str, raw: str | None) -> Issue:
    label = _LABELS[name]
    if raw is None:
        return Issue(name, "required", None, f"{name}: missing; a {label} is required")
    message = f"{name}: {_shown(raw)} is empty; a {label} is required"
    return Issue(name, "required", raw, message)


def _email_issue(value: str, reason: str) -> Issue:
    message = f"email: {_shown(value)} is not an email address: {reason}"
    return Issue("email", "email", value, message)
