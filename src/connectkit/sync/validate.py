"""Validation of mapped directory fields (R3.2): required names, email syntax, phone numbers.

:class:`Validator` turns one record's directory fields (``first_name``, ``last_name``,
``email``, ``phone``; any other key passes through untouched) into a :class:`Validated`:
cleaned values plus every :class:`Issue` found. Rules:

* ``required`` — ``first_name`` / ``last_name`` missing, or nothing left once whitespace and
  invisible characters are removed (``text_key`` is empty).
* ``email`` — the address, stripped of surrounding whitespace, must pass
  ``email_validator.validate_email(value, check_deliverability=False)`` (syntax only, no DNS,
  library defaults). The cleaned value is the library's ``normalized`` form. A blank or
  missing email is not an error (email is optional).
* ``phone`` — the number, stripped, must parse with ``phonenumbers.parse(value, region)`` and
  pass ``phonenumbers.is_valid_number`` (a number in the numbering plan, not merely of a
  possible length: ``is_possible_number`` accepts e.g. ``01632 96`` + any digits of the right
  length, which would be stored and later fail to dial). The cleaned value is E.164. Blank or
  missing is not an error.

Verdicts and cleaned values are *exactly* those of the two libraries. Speed comes from
(a) an ``lru_cache`` keyed by the raw value, (b) fast paths that only ever answer for inputs
whose library verdict they reproduce, and fall back to the library otherwise:

* email: a strict ASCII dot-atom / hostname regex plus the library's own length, special-use
  and RFC 2142 rules; anything else (Unicode, IDN, quotes, ``--`` in the domain …) goes to
  the library, which is also the only source of error messages;
* phone: inputs made only of ASCII digits, spaces and hyphens (optionally one leading ``+``)
  skip the library's free-text scanning and run the library's own country-code and
  national-prefix steps; validity is decided by a matcher compiled from the library's
  metadata that mirrors ``is_valid_number`` (per length, one alternation of the type
  patterns). Extensions, letters, brackets, Italian leading zeros → library.

``tests/sync/test_validate_agree.py`` checks with hypothesis that fast paths and library
agree on verdict and cleaned value.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
import types
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from functools import lru_cache

import email_validator
import phonenumbers
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers import phonenumberutil as _pnu
from phonenumbers import re_util as _pn_re

from connectkit.sync.normalise import text_key

# Keep the library's compiled metadata patterns (a cache only; verdicts are unchanged).
_pn_re.enable_pattern_cache()

__all__ = ["Issue", "Validated", "Validator"]

log = logging.getLogger("connectkit.sync.validate")

REQUIRED_FIELDS = ("first_name", "last_name")
_LABELS = {"first_name": "first name", "last_name": "last name"}
_SHOWN_MAX = 80


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one field: which ``field``, which ``rule`` (``required`` | ``email`` |
    ``phone`` | ``groups``), the offending ``value`` and a message for a human."""

    field: str
    rule: str
    value: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Validated:
    """The cleaned ``fields`` of a record and every issue found (``ok`` when none).

    Valid emails are the library's normalised form and valid phones are E.164; an invalid
    value is kept as given (stripped) so the admin sees what to correct.
    """

    fields: dict[str, str | None]
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return not self.issues


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"
    return repr(text)


# --- names -------------------------------------------------------------------------------

# Invisible characters that are never meaningful inside a name and are dropped from the
# cleaned value: zero-width space, word joiner, BOM / zero-width no-break space, soft hyphen.
# (ZWJ / ZWNJ are kept: they matter in some scripts. Keys drop every Cf character anyway.)
_STRAY_INVISIBLES = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


def clean_name(value: str | None) -> str | None:
    """A name with whitespace collapsed, ends stripped, NFC, stray invisibles removed;
    ``None`` when nothing comparable is left (its ``text_key`` is empty)."""
    if value is None:
        return None
    if value.isascii():
        cleaned = " ".join(value.split())
    else:
        cleaned = " ".join(
            unicodedata.normalize("NFC", value).translate(_STRAY_INVISIBLES).split()
        )
    return cleaned if text_key(cleaned) else None


# --- email -------------------------------------------------------------------------------

_ATEXT = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
_FAST_EMAIL = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+{_TLD})")
_SPECIAL_USE = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def fast_email(value: str) -> str | None:
    """The library's normalised address for a plain ASCII address, or ``None`` (= ask the
    library). Never returns a value for an address the library rejects."""
    if len(value) > email_validator.rfc_constants.EMAIL_MAX_LENGTH:
        return None
    match = _FAST_EMAIL.fullmatch(value)
    if match is None:
        return None
    local, domain = match.groups()
    if len(domain) > email_validator.rfc_constants.DOMAIN_MAX_LENGTH or "--" in domain:
        return None
    domain = domain.lower()
    for special in _SPECIAL_USE:
        if domain == special or domain.endswith("." + special):
            return None
    if local.lower() in _MAILBOX_NAMES:
        local = local.lower()
    return local + "@" + domain


def library_email(value: str) -> tuple[str | None, str | None]:
    """``(normalized, None)`` or ``(None, reason)`` straight from email-validator."""
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return None, str(exc)
    return result.normalized, None


@lru_cache(maxsize=65536)
def check_email(value: str) -> tuple[str | None, str | None]:
    """``(normalized, None)`` if ``value`` is an email address, else ``(None, reason)``."""
    fast = fast_email(value)
    if fast is not None:
        return fast, None
    return library_email(value)


# --- phone -------------------------------------------------------------------------------

_NO_SUCH_NUMBER = "it is not a valid number (no such number range)"
_PHONE_SHAPE = re.compile(r"\+?[0-9][0-9 \-]{4,40}[0-9]")
_NOT_ACCEPTED_LENGTH = (
    _pnu.ValidationResult.TOO_SHORT,
    _pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _pnu.ValidationResult.INVALID_LENGTH,
)


def _desc_pattern(desc: phonenumbers.PhoneNumberDesc | None, length: int) -> str | None:
    """The desc's pattern if a number of ``length`` could match it (as the library decides)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return desc.national_number_pattern


class _TypeMatcher:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` as two compiled regexes per length."""

    def __init__(self, metadata: phonenumbers.PhoneMetadata) -> None:
        self._md = metadata
        descs = [
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
            metadata.fixed_line,
        ]
        if not metadata.same_mobile_and_fixed_line_pattern:
            descs.append(metadata.mobile)
        self._descs = descs
        self._by_length: dict[int, tuple[re.Pattern[str], re.Pattern[str]] | None] = {}

    def _build(self, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
        general = _desc_pattern(self._md.general_desc, length)
        parts = [p for p in (_desc_pattern(d, length) for d in self._descs) if p is not None]
        if general is None or not parts:
            return None
        return re.compile(general), re.compile("|".join(f"(?:{p})" for p in parts))

    def known(self, nsn: str) -> bool:
        length = len(nsn)
        if length not in self._by_length:
            self._by_length[length] = self._build(length)
        pair = self._by_length[length]
        return (
            pair is not None
            and pair[0].fullmatch(nsn) is not None
            and pair[1].fullmatch(nsn) is not None
        )


class _CountryValidity:
    """``is_valid_number`` for numbers of one country calling code without leading zeros."""

    def __init__(self, country_code: int) -> None:
        self._regions: list[tuple[re.Pattern[str] | None, _TypeMatcher]] = []
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
        self._single = len(regions) == 1
        for region in regions:
            md = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, region
            )
            if md is None:
                continue
            leading = re.compile(md.leading_digits) if md.leading_digits is not None else None
            self._regions.append((leading, _TypeMatcher(md)))

    def valid(self, nsn: str) -> bool:
        if self._single:
            return bool(self._regions) and self._regions[0][1].known(nsn)
        for leading, matcher in self._regions:
            if leading is not None:
                if leading.match(nsn):
                    return matcher.known(nsn)
            elif matcher.known(nsn):
                return True
        return False


@lru_cache(maxsize=512)
def _country_validity(country_code: int) -> _CountryValidity:
    return _CountryValidity(country_code)


@lru_cache(maxsize=256)
def _region_metadata(region: str) -> phonenumbers.PhoneMetadata:
    md = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
    if md is None:
        raise ValueError(f"phone_region: {region!r} is not a region phonenumbers knows")
    return md


@lru_cache(maxsize=256)
def _idd_pattern(region: str) -> re.Pattern[str] | None:
    prefix = _region_metadata(region).international_prefix
    return re.compile(prefix) if prefix is not None else None


def _split_country_code(digits: str, region: str) -> tuple[int, str] | None:
    """The library's ``_maybe_extract_country_code`` for ``[+]digits`` input: ``(cc, rest)``,
    ``(0, digits)`` for a national number, or ``None`` for shapes left to the library
    (an IDD followed by ``0``, a national number starting with the region's own code …)."""
    if digits[0] == "+":
        rest = digits[1:]
    else:
        idd = _idd_pattern(region)
        match = idd.match(digits) if idd is not None else None
        if match is None:
            if digits.startswith(str(_region_metadata(region).country_code)):
                return None
            return 0, digits
        rest = digits[match.end() :]
        if not rest or rest[0] == "0":
            return None
    if len(rest) <= _pnu._MIN_LENGTH_FOR_NSN:
        return None
    country_code, national = _pnu._extract_country_code(rest)
    return (country_code, national) if country_code else None


def fast_phone_parse(value: str, region: str) -> tuple[int, str] | None:
    """``(country_code, national_significant_number)`` exactly as ``phonenumbers.parse``
    would give for plain digit/space/hyphen input, or ``None`` (= ask the library).

    The front of ``parse`` (free-text scanning, extensions, letter conversion) is a no-op
    on such input; the country-code split mirrors the library's and the national-prefix
    and length steps are the library's own functions.
    """
    if _PHONE_SHAPE.fullmatch(value) is None:
        return None
    digits = value.replace(" ", "").replace("-", "")
    split = _split_country_code(digits, region)
    if split is None:
        return None
    country_code, national = split
    metadata = _region_metadata(region)
    number_md: phonenumbers.PhoneMetadata | None = metadata
    if country_code == 0:
        country_code = int(metadata.country_code or 0)
    else:
        number_region = _pnu.region_code_for_country_code(country_code)
        number_md = (
            metadata
            if number_region == region
            else phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, number_region
            )
        )
    if number_md is None or len(national) < _pnu._MIN_LENGTH_FOR_NSN:
        return None
    _carrier, potential, _stripped = _pnu._maybe_strip_national_prefix_carrier_code(
        national, number_md
    )
    if _pnu._test_number_length(potential, number_md) not in _NOT_ACCEPTED_LENGTH:
        national = potential
    if not _pnu._MIN_LENGTH_FOR_NSN <= len(national) <= _pnu._MAX_LENGTH_FOR_NSN:
        return None
    if national[0] == "0":
        return None  # Italian leading zeros: the library's own path handles them
    return country_code, national


def library_phone(value: str, region: str) -> tuple[str | None, str | None]:
    """``(e164, None)`` or ``(None, reason)`` straight from phonenumbers."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        return None, str(exc.args[0]) if exc.args else str(exc)
    if not phonenumbers.is_valid_number(number):
        return None, _NO_SUCH_NUMBER
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@lru_cache(maxsize=65536)
def check_phone(value: str, region: str) -> tuple[str | None, str | None]:
    """``(e164, None)`` if ``value`` is a valid number read in ``region``, else
    ``(None, reason)``."""
    parsed = fast_phone_parse(value, region)
    if parsed is None:
        return library_phone(value, region)
    country_code, national = parsed
    if _country_validity(country_code).valid(national):
        return f"+{country_code}{national}", None
    return None, _NO_SUCH_NUMBER  # what library_phone says when parse works, validity not


# --- the validator -----------------------------------------------------------------------

_IssueRow = tuple[str, str, str | None, str]
_Row = tuple[dict[str, str | None], tuple[_IssueRow, ...]]
_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool shared by every Validator of this process (forkserver: safe next to
    threads and open database connections); shut down at interpreter exit."""
    pool = _POOLS.get(workers)
    if pool is None:
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _POOLS[workers] = pool
    return pool


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Hide ``__main__`` while workers may start (``submit`` starts them lazily).

    Workers need nothing from the caller's script; without this, multiprocessing would
    re-run a script that lacks an ``if __name__ == "__main__":`` guard in the forkserver
    and in every worker — running its sync a second time.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _pool_failed(workers: int, exc: BaseException) -> None:
    """A pool that cannot start or died: forget it and validate in this process (the
    verdicts are the same; only the second core is lost). A later batch tries anew."""
    pool = _POOLS.pop(workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    log.warning("validator worker pool unavailable (%s); validating in-process", exc)


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


def _default_workers() -> int:
    """Worker processes for large batches: ``CONNECTKIT_VALIDATE_WORKERS``, default 0.

    Measured (docs/performance.md): a worker halves the parent's validation CPU, but on a
    two-core machine whose second core is busy (the database, other workers) the engine
    staged no faster with it, so it is opt-in.
    """
    configured = os.environ.get("CONNECTKIT_VALIDATE_WORKERS")
    return max(0, int(configured)) if configured else 0


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
            value = clean_name(raw)
            cleaned[name] = value
            if value is None:
                issues.append(_required(name, raw))
        raw = cleaned.get("email")
        if raw is not None:
            value = raw.strip()
            good, reason = check_email(value) if value else (None, None)
            cleaned["email"] = good if good is not None or not value else value
            if reason is not None:
                issues.append(_email_issue(value, reason))
        raw = cleaned.get("phone")
        if raw is not None:
            value = raw.strip()
            good, reason = check_phone(value, self.phone_region) if value else (None, None)
            cleaned["phone"] = good if good is not None or not value else value
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
