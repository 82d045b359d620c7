"""The fast paths agree exactly with email-validator and phonenumbers (verdict and value)."""

from __future__ import annotations

# Look-alike characters (fullwidth, dotless i, sigma …) are the point of these tests.
# ruff: noqa: RUF001
import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectkit.sync.validate import (
    check_email,
    check_phone,
    fast_email,
    fast_phone_parse,
    library_email,
    library_phone,
)

# --- email -------------------------------------------------------------------------------

ATEXT = "abcxyzABCXYZ0189_!#$%&'*+-/=?^`{|}~"
LOCAL_CHARS = ATEXT + '."\\ @<>()[],;:é\u00a0\u200bÅ\u0301ＡΣ'
DOMAIN_CHARS = "abczABCZ0189-.-.é\u00e9ÜＥ。．\u200b_ [:]"
SPECIAL_TAILS = ["", "", "", ".com", ".co.uk", ".sch.uk", ".test", ".local", ".invalid",
                 ".arpa", ".onion", ".localhost", ".9", ".c0m", ".xn--p1ai", ".a--b"]

locals_ = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(alphabet=LOCAL_CHARS, min_size=0, max_size=20),
    st.sampled_from(["Info", "SUPPORT", "postMaster", "abuse", "bob", '"bob"', '"b b"',
                     '"a\\"b"', "a..b", ".a", "a.", "x" * 64, "x" * 65]),
)
domains = st.one_of(
    st.builds(
        lambda labels, tail: ".".join(labels) + tail,
        st.lists(st.text(alphabet="abcXYZ019-", min_size=0, max_size=64), min_size=1,
                 max_size=4),
        st.sampled_from(SPECIAL_TAILS),
    ),
    st.text(alphabet=DOMAIN_CHARS, min_size=0, max_size=30),
    st.sampled_from(["example.com", "EXAMPLE.COM", "xn--bcher-kva.de", "bücher.de",
                     "[127.0.0.1]", "localhost", "a.b", "a-.com", "-a.com", "ab--c.com",
                     "a" * 63 + ".com", "a" * 64 + ".com", ("a" * 60 + ".") * 5 + "com"]),
)
addresses = st.one_of(
    st.builds(lambda lp, d: f"{lp}@{d}", locals_, domains),
    st.emails(),
    st.emails().map(str.upper),
    st.text(max_size=40),
)


@settings(max_examples=700, deadline=None)
@given(addresses)
@example("bob@example.com")
@example("Info@Example.COM")
@example("bob@xn--bcher-kva.de")
@example("bob@localhost.localdomain.test")
@example("a@b.c1")
@example("Bob <bob@example.com>")
@example('"quoted"@example.com')
@example("bob@example.com.")
@example("x" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".com")
def test_email_verdict_and_value_match_the_library(address: str) -> None:
    assert check_email(address) == library_email(address)
    fast = fast_email(address)
    if fast is not None:
        assert library_email(address) == (fast, None)


@pytest.mark.parametrize(
    ("address", "normalized"),
    [
        ("bob@example.com", "bob@example.com"),
        ("Bob.Smith+tag@Sub.Example.CO.UK", "Bob.Smith+tag@sub.example.co.uk"),
        ("Info@Example.com", "info@example.com"),  # RFC 2142 mailbox names are lowercased
    ],
)
def test_fast_email_answers_for_plain_addresses(address: str, normalized: str) -> None:
    assert fast_email(address) == normalized


@pytest.mark.parametrize(
    "address",
    ["bob@xn--bcher-kva.de", "zoë@example.com", "bob@test", "bob@x.test", '"a"@b.com',
     "bob@ab--cd.com", "bob@example.c1"],
)
def test_fast_email_defers_to_the_library(address: str) -> None:
    assert fast_email(address) is None


# --- phone -------------------------------------------------------------------------------

REGIONS = ["GB", "US", "DE", "FR", "IT", "JE", "IM", "IE", "AU", "BR", "AR", "MX", "IN", "SG"]
PREFIXES = ["", "", "0", "00", "+", "+44", "0044", "+44 0", "+1", "011", "+39", "+390", "+49",
            "0049", "+353", "+0", "00 0", "44", "1", "+800", "+979"]


def _join(groups: list[str], separators: list[str]) -> str:
    out = ""
    for i, group in enumerate(groups):
        out += group + (separators[i % len(separators)] if i < len(groups) - 1 else "")
    return out


digit_groups = st.lists(st.text(alphabet="0123456789", min_size=1, max_size=6), min_size=1,
                        max_size=5)
separators = st.lists(st.sampled_from([" ", "-", "", "  ", " - ", "--"]), min_size=1, max_size=3)
shaped_numbers = st.builds(
    lambda prefix, sep, groups, tail_sep: (prefix + tail_sep + _join(groups, sep)).strip(),
    st.sampled_from(PREFIXES),
    separators,
    digit_groups,
    st.sampled_from(["", " ", "-"]),
)


def _realistic(region: str, kind: int, fmt: int, tail: str) -> str:
    """A real-looking number of ``region``: its example number with the last digits varied."""
    example_number = phonenumbers.example_number_for_type(region, kind)
    if example_number is None:
        return tail
    text = phonenumbers.format_number(example_number, fmt)
    return text[: len(text) - len(tail)] + tail if len(tail) < len(text) else text


realistic_numbers = st.builds(
    _realistic,
    st.sampled_from(["GB", "US", "DE", "FR", "IT", "JE", "IM", "IE", "AU"]),
    st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE]),
    st.sampled_from([phonenumbers.PhoneNumberFormat.NATIONAL,
                     phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                     phonenumbers.PhoneNumberFormat.E164]),
    st.text(alphabet="0123456789", min_size=1, max_size=4),
)
tricky_numbers = st.one_of(
    st.text(alphabet="0123456789 +-()./x#;,ext", max_size=25),
    st.sampled_from([
        "+44 (0)7911 123456", "07911 123456 ext. 12", "07911 123456 x12", "07911123456#",
        "0800 FLOWERS", "tel:+44-7911-123456", "+44 7911 123456;ext=9", "０７９１１ １２３４５６",
        "+44 7911 123456", "07911-123-456", "020 7946 0000", "0044 20 7946 0000",
        "+1 650 253 0000", "011 44 20 7946 0000", "3 00 11", "+39 06 6982 0000",
        "+390669820000", "06 6982 0000", "0",
    ]),
)


@settings(max_examples=1200, deadline=None)
@given(st.one_of(shaped_numbers, realistic_numbers, tricky_numbers), st.sampled_from(REGIONS))
@example("07911 123456", "GB")
@example("+44 7911 123456", "GB")
@example("0044 7911 123456", "GB")
@example("+44 07911 123456", "GB")
@example("01624 612345", "IM")
@example("07624 312345", "GB")
@example("+39 06 6982 0000", "GB")
@example("06 6982 0000", "IT")
@example("447911123456", "GB")
def test_phone_verdict_and_value_match_the_library(number: str, region: str) -> None:
    assert check_phone(number, region) == library_phone(number, region)
    fast = fast_phone_parse(number, region)
    if fast is not None:
        parsed = phonenumbers.parse(number, region)
        assert (parsed.country_code, str(parsed.national_number)) == fast
        assert not parsed.italian_leading_zero


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("07911 123456", "GB", (44, "7911123456")),
        ("07911-123-456", "GB", (44, "7911123456")),
        ("+44 7911 123456", "GB", (44, "7911123456")),
        ("0044 7911 123456", "GB", (44, "7911123456")),
        ("+44 07911 123456", "GB", (44, "7911123456")),
        ("020 7946 0000", "GB", (44, "2079460000")),
        ("+1 650 253 0000", "GB", (1, "6502530000")),
    ],
)
def test_fast_phone_parse_answers_for_common_shapes(
    number: str, region: str, expected: tuple[int, str]
) -> None:
    assert fast_phone_parse(number, region) == expected


@pytest.mark.parametrize(
    "number", ["+44 (0)7911 123456", "07911 123456 ext 5", "447911123456", "0800 FLOWERS"]
)
def test_fast_phone_parse_defers_to_the_library(number: str) -> None:
    assert fast_phone_parse(number, "GB") is None
