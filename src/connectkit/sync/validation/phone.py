"""The ``phone`` rule: a fast path for plain digit input, phonenumbers otherwise.

Inputs made only of ASCII digits, spaces and hyphens (optionally one leading ``+``) skip the
library's free-text scanning and run the library's own country-code step and its
national-prefix and length steps (:class:`_NationalPrefix`: compiled once per metadata);
validity is decided by a matcher compiled from the library's metadata that mirrors
``is_valid_number`` (per length, one alternation of the type patterns). Extensions, letters,
brackets, Italian leading zeros → library. :func:`check_phone` caches verdicts by the raw
value and region.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import phonenumberutil as _pnu
from phonenumbers import re_util as _pn_re

# Keep the library's compiled metadata patterns (a cache only; verdicts are unchanged).
_pn_re.enable_pattern_cache()

__all__ = ["check_phone", "fast_phone_parse", "library_phone"]

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


class _NationalPrefix:
    """The library's national-prefix step for one metadata, with its patterns compiled once.

    :meth:`strip` is ``_maybe_strip_national_prefix_carrier_code`` followed by the
    ``_test_number_length`` acceptance that ``parse`` applies to its result. Metadata with a
    national-prefix transform rule is handed to the library's own function.
    """

    def __init__(self, metadata: phonenumbers.PhoneMetadata) -> None:
        self._md = metadata
        prefix = metadata.national_prefix_for_parsing
        desc = metadata.general_desc
        general = desc.national_number_pattern if desc is not None else None
        self._library = bool(metadata.national_prefix_transform_rule)
        self._prefix = re.compile(prefix) if prefix else None
        self._general = re.compile(general) if general else None
        self._accepted: dict[int, bool] = {}

    def _viable(self, number: str) -> bool:
        """``_match_national_number(number, general_desc, False)``."""
        return self._general is not None and self._general.fullmatch(number) is not None

    def _accepts(self, length: int) -> bool:
        """``_test_number_length`` of a number this long is neither too short, local-only nor
        an invalid length (the library's answer depends on the length alone)."""
        accepted = self._accepted.get(length)
        if accepted is None:
            result = _pnu._test_number_length("0" * length, self._md)
            accepted = self._accepted[length] = result not in _NOT_ACCEPTED_LENGTH
        return accepted

    def strip(self, national: str) -> str:
        """``national`` without its national prefix when ``parse`` would drop it."""
        if self._library:
            _carrier, potential, _stripped = _pnu._maybe_strip_national_prefix_carrier_code(
                national, self._md
            )
        else:
            match = self._prefix.match(national) if self._prefix and national else None
            if match is None:
                return national  # nothing stripped: the length test cannot change it
            potential = national[match.end() :]
            if self._viable(national) and not self._viable(potential):
                return national
        return potential if self._accepts(len(potential)) else national


class _Region:
    """What reading a number in one region needs, looked up once: its metadata, its
    international (IDD) prefix pattern and its own country calling code."""

    def __init__(self, region: str) -> None:
        self.metadata = _region_metadata(region)
        self.idd = _idd_pattern(region)
        self.own_code = str(self.metadata.country_code)
        self.country_code = int(self.metadata.country_code or 0)


@lru_cache(maxsize=256)
def _idd_pattern(region: str) -> re.Pattern[str] | None:
    prefix = _region_metadata(region).international_prefix
    return re.compile(prefix) if prefix is not None else None


@lru_cache(maxsize=256)
def _region(region: str) -> _Region:
    return _Region(region)


@lru_cache(maxsize=1024)
def _national_prefix(country_code: int, region: str) -> _NationalPrefix | None:
    """The national-prefix step for a number of ``country_code`` (``0``: the region's own)
    read in ``region``, with the metadata ``parse`` would pick; ``None`` if it has none."""
    metadata: phonenumbers.PhoneMetadata | None = _region_metadata(region)
    if country_code != 0:
        number_region = _pnu.region_code_for_country_code(country_code)
        if number_region != region:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, number_region
            )
    return None if metadata is None else _NationalPrefix(metadata)


def _split(digits: str, here: _Region) -> tuple[int, str] | None:
    """The library's ``_maybe_extract_country_code`` for ``[+]digits`` input: ``(cc, rest)``,
    ``(0, digits)`` for a national number, or ``None`` for shapes left to the library
    (an IDD followed by ``0``, a national number starting with the region's own code …)."""
    if digits[0] == "+":
        rest = digits[1:]
    else:
        match = here.idd.match(digits) if here.idd is not None else None
        if match is None:
            if digits.startswith(here.own_code):
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
    and length steps are the library's own (see :class:`_NationalPrefix`).
    """
    if _PHONE_SHAPE.fullmatch(value) is None:
        return None
    here = _region(region)
    split = _split(value.replace(" ", "").replace("-", ""), here)
    if split is None:
        return None
    country_code, national = split
    prefix = _national_prefix(country_code, region)
    if prefix is None or len(national) < _pnu._MIN_LENGTH_FOR_NSN:
        return None
    national = prefix.strip(national)
    if not _pnu._MIN_LENGTH_FOR_NSN <= len(national) <= _pnu._MAX_LENGTH_FOR_NSN:
        return None
    if national[0] == "0":
        return None  # Italian leading zeros: the library's own path handles them
    return country_code or here.country_code, national


def library_phone(value: str, region: str) -> tuple[str | None, str | None]:
    """``(e164, None)`` or ``(None, reason)`` straight from phonenumbers."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        return None, str(exc.args[0]) if exc.args else str(exc)
    if not phonenumbers.is_valid_number(number):
        return None, _NO_SUCH_NUMBER
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@lru_cache(maxsize=8192)
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
