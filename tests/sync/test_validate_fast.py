"""The per-record shortcuts of validation and match keys equal the general paths exactly.

Each shortcut is compared with the code it stands in for: the library's national-prefix and
length steps, the special-use domain loop, the general ``clean_name`` / ``email_key`` /
``phone_key`` paths, and the record-level rules of :meth:`Validator.validate`.
"""

from __future__ import annotations

from collections.abc import Mapping

import email_validator
import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import phonenumberutil as pnu

from connectkit.sync import normalise
from connectkit.sync.normalise import email_key, phone_key, text_key
from connectkit.sync.validate import (
    Issue,
    Validated,
    Validator,
    check_phone,
    clean_name,
    fast_email,
    fast_phone_parse,
    library_email,
    library_phone,
)
from connectkit.sync.validation.phone import _national_prefix, _NationalPrefix
from connectkit.sync.validation.validator import _email_issue, _required

# --- phone: national prefix and length steps ----------------------------------------------

_REJECTED = (
    pnu.ValidationResult.TOO_SHORT,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pnu.ValidationResult.INVALID_LENGTH,
)
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
NON_GEO = sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)


def _metadata(key: str | int) -> phonenumbers.PhoneMetadata:
    if isinstance(key, int):
        md = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(key)
    else:
        md = phonenumbers.PhoneMetadata.metadata_for_region(key)
    assert md is not None
    return md


def _library_strip(national: str, md: phonenumbers.PhoneMetadata) -> str:
    """What ``phonenumbers.parse`` does with a national number after the country code."""
    _carrier, potential, _stripped = pnu._maybe_strip_national_prefix_carrier_code(national, md)
    return potential if pnu._test_number_length(potential, md) not in _REJECTED else national


def _nationals(key: str | int) -> list[str]:
    """Digit strings of this metadata: example numbers with and without national prefixes."""
    md = _metadata(key)
    prefixes = {"", "0", "1", "8", md.national_prefix or ""}
    out: list[str] = []
    for kind in range(11):
        number = (
            phonenumbers.example_number_for_non_geo_entity(key)
            if isinstance(key, int)
            else phonenumbers.example_number_for_type(key, kind)
        )
        if number is None:
            continue
        nsn = phonenumbers.national_significant_number(number)
        out.extend(prefix + nsn for prefix in prefixes)
        out.extend(prefix + nsn[:-2] for prefix in prefixes)
    return out


@pytest.mark.parametrize("key", REGIONS + NON_GEO)
def test_national_prefix_strip_equals_the_library_for_every_region(key: str | int) -> None:
    md = _metadata(key)
    strip = _NationalPrefix(md).strip
    for national in ["", "0", "01", "00", "0000000000", *_nationals(key)]:
        assert strip(national) == _library_strip(national, md), national


@pytest.mark.parametrize(
    ("region", "national", "branch"),
    [
        ("GB", "07911123456", "stripped"),
        ("GB", "2079460000", "no prefix"),
        ("GB", "01", "length rejected"),
        ("RU", "8001234567", "original viable, rest not"),
        ("KZ", "8001234567", "original viable, rest not"),
        ("LT", "80012345", "original viable, rest not"),
        ("US", "12015550123", "stripped"),
        ("JE", "07797712345", "library (transform rule)"),
        ("AR", "0111512345678", "library (transform rule)"),
        ("BR", "0211234567890", "library (transform rule)"),
        ("JP", "0312345678", "library (transform rule)"),
    ],
)
def test_national_prefix_branches(region: str, national: str, branch: str) -> None:
    md = _metadata(region)
    prefix = _NationalPrefix(md)
    assert prefix._library == (branch == "library (transform rule)")
    if branch == "original viable, rest not":
        match = prefix._prefix.match(national) if prefix._prefix else None
        assert match is not None
        assert prefix._viable(national)
        assert not prefix._viable(national[match.end() :])
    assert prefix.strip(national) == _library_strip(national, md)
    # and end to end, read as a national number of that region
    assert check_phone(national, region) == library_phone(national, region)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(REGIONS + NON_GEO),
    st.sampled_from(["", "0", "00", "1", "8", "180020", "9"]),
    st.text(alphabet="0123456789", max_size=14),
)
@example("RU", "8", "001234567")
@example("GB", "0", "1")
def test_national_prefix_strip_equals_the_library(key: str | int, head: str, tail: str) -> None:
    md = _metadata(key)
    assert _NationalPrefix(md).strip(head + tail) == _library_strip(head + tail, md)


def test_number_metadata_is_the_one_parse_uses() -> None:
    """Country code 0 reads in the region; another code uses its main region (or the
    non-geographic entity)."""
    assert _national_prefix(0, "GB")._md is _metadata("GB")  # type: ignore[union-attr]
    assert _national_prefix(44, "JE")._md is _metadata("GB")  # type: ignore[union-attr]
    assert _national_prefix(1, "GB")._md is _metadata("US")  # type: ignore[union-attr]
    assert _national_prefix(800, "GB")._md is _metadata(800)  # type: ignore[union-attr]


def _formatted(region: str) -> list[str]:
    out: list[str] = []
    for kind in range(11):
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for fmt in (phonenumbers.PhoneNumberFormat.NATIONAL,
                    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                    phonenumbers.PhoneNumberFormat.E164):  # fmt: skip
            text = phonenumbers.format_number(number, fmt)
            out.extend([text, text[:-1] + "9", text[:-3]])
    return out


@pytest.mark.parametrize("region", REGIONS)
def test_example_numbers_of_every_region_match_the_library(region: str) -> None:
    for read_in in (region, "GB"):
        for number in _formatted(region):
            assert check_phone.__wrapped__(number, read_in) == library_phone(number, read_in)
            fast = fast_phone_parse(number, read_in)
            if fast is not None:
                parsed = phonenumbers.parse(number, read_in)
                assert fast == (parsed.country_code, str(parsed.national_number))


# --- email: special-use domains -----------------------------------------------------------


def _special_by_loop(domain: str) -> bool:
    return any(
        domain == special or domain.endswith("." + special)
        for special in email_validator.SPECIAL_USE_DOMAIN_NAMES
    )


@pytest.mark.parametrize(
    "domain",
    [
        "test",
        "x.test",
        "a.b.localhost",
        "localhost",
        "onion",
        "x.onion",
        "arpa",
        "in-addr.arpa",
        "x.invalid",
        "local",
        "x.local",
        "atest",
        "test.com",
        "xtest.co",
        "localhost.com",
        "notonion",
        "x.tests",
        "example.com",
        "TEST",
        "X.Local",
    ],
)
def test_special_use_domains_are_left_to_the_library(domain: str) -> None:
    address = "bob@" + domain
    fast = fast_email(address)
    assert (fast is None) or not _special_by_loop(domain.lower())
    if _special_by_loop(domain.lower()):
        assert fast is None
    if fast is not None:
        assert library_email(address) == (fast, None)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abcxyzABC019-.", min_size=1, max_size=12),
    st.sampled_from(
        [
            "",
            ".test",
            ".local",
            ".localhost",
            ".onion",
            ".arpa",
            ".invalid",
            "test",
            "local",
            ".com",
            ".tes",
            ".xtest",
        ]
    ),
)
def test_fast_email_special_use_check_equals_the_loop(head: str, tail: str) -> None:
    address = "info@" + head + tail
    fast = fast_email(address)
    if fast is not None:
        assert not _special_by_loop(fast.rpartition("@")[2])
        assert library_email(address) == (fast, None)


# --- names ---------------------------------------------------------------------------------

ASCII = st.text(alphabet=st.characters(max_codepoint=127), max_size=16)


def _clean_name_general(value: str | None) -> str | None:
    """``clean_name`` as first defined: collapse, then ``None`` when the key is empty."""
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned if text_key(cleaned) else None


@settings(max_examples=400, deadline=None)
@given(st.one_of(ASCII, st.text(alphabet=" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1fAb", max_size=8)))
@example("")
@example(" \x1f ")
@example("  Mary   Ann ")
def test_clean_name_ascii_equals_the_general_rule(value: str) -> None:
    assert clean_name(value) == _clean_name_general(value)


# --- keys ----------------------------------------------------------------------------------

EMAILISH = st.one_of(
    ASCII,
    st.text(alphabet="abXN-n@. \t\x1c\x1f", max_size=16),
    st.emails(),
    st.emails().map(str.upper),
    st.sampled_from(
        [
            "bob@xn--bcher-kva.de",
            "BOB@XN--BCHER-KVA.DE",
            "bob@xn -- bcher-kva.de",
            "x n--@a.com",
            "a@xn--",
            "",
            " ",
            "zoë@example.com",
            "BOB@Bücher.de",
        ]
    ),
)


@settings(max_examples=500, deadline=None)
@given(EMAILISH)
def test_email_key_equals_the_general_path(value: str) -> None:
    assert email_key(value) == normalise._email_key.__wrapped__(value)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789 +-()", max_size=16),
        st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True),
        st.sampled_from(
            [
                "+447911123456",
                " +447911123456",
                "+447911123456\n",
                "+4\u0664\u0667\u0669",
                "+44",
                "+0123",
                "+1234567890123456",
                "07911 123456",
            ]
        ),
    ),
    st.sampled_from([None, "GB", "US"]),
)
def test_phone_key_equals_the_general_path(value: str, region: str | None) -> None:
    assert phone_key(value, region) == normalise._phone_key.__wrapped__(value, region)


# --- the record ------------------------------------------------------------------------------


def _validate_general(validator: Validator, fields: Mapping[str, str | None]) -> Validated:
    """The record rules as first written, with the libraries' own verdicts."""
    cleaned: dict[str, str | None] = dict(fields)
    issues: list[Issue] = []
    for name in ("first_name", "last_name"):
        raw = fields.get(name)
        value = _clean_name_general(raw) if raw is None or raw.isascii() else clean_name(raw)
        cleaned[name] = value
        if value is None:
            issues.append(_required(name, raw))
    raw = cleaned.get("email")
    if raw is not None:
        value = raw.strip()
        good, reason = library_email(value) if value else (None, None)
        cleaned["email"] = good if good is not None or not value else value
        if reason is not None:
            issues.append(_email_issue(value, reason))
    raw = cleaned.get("phone")
    if raw is not None:
        value = raw.strip()
        good, reason = library_phone(value, validator.phone_region) if value else (None, None)
        cleaned["phone"] = good if good is not None or not value else value
        if reason is not None:
            issues.append(validator._phone_issue(value, reason))
    return Validated(cleaned, tuple(issues))


records = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "email", "phone", "mis_code"]),
    st.one_of(
        st.none(),
        st.sampled_from(
            [
                "",
                "  ",
                "\u200b",
                "Zoë",
                " Ann  Lee ",
                "bob@example.com",
                " Info@Example.COM ",
                "bob@",
                "07911 123456",
                "+44 7911 123456",
                "0791 12",
                "12",
            ]
        ),
        st.text(max_size=10),
        st.emails(),
        st.text(alphabet="0123456789 +-", max_size=16),
    ),
)


@settings(max_examples=300, deadline=None)
@given(records, st.sampled_from(["GB", "US", "JE"]))
def test_validate_equals_the_general_rules(record: dict[str, str | None], region: str) -> None:
    validator = Validator(region, workers=0)
    assert validator.validate(record) == _validate_general(validator, record)
