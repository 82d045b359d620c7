"""Normalised keys (R3.4): Unicode form, case, spaces, emails case-insensitive, phones E.164."""

from __future__ import annotations

# Look-alike characters (fullwidth, dotless i, sigma …) are the point of these tests.
# ruff: noqa: RUF001
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectkit.sync.normalise import email_key, name_key, phone_key, text_key

# Text that exercises the awkward corners: spaces of every kind, invisibles, compatibility
# forms (fullwidth, ligatures, superscripts), combining marks, case-fold expansions.
TRICKY = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(
            list(
                " \t\n\u00a0\u2000\u2007\u202f\u205f\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad"
                "\x1c\x1d\x1e\x1fAaßẞİıǅﬁ①ＡＢｃ\u0301\u0308\u00b4Åå\u212b\u0345ΣσςＯ'’-"
            )
        ),
    ),
    max_size=30,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("  Mary   Ann ", "mary ann"),
        ("MARY\u00a0ANN", "mary ann"),  # no-break space
        ("Mary\u3000Ann", "mary ann"),  # ideographic space
        ("Mary\tAnn\n", "mary ann"),
        ("Ann\u200bMarie", "annmarie"),  # zero-width space is deleted, not a word break
        ("\ufeffZoe\u00ad", "zoe"),  # BOM, soft hyphen
        ("Ｊｏｈｎ", "john"),  # fullwidth (NFKC)
        ("Zoe\u0308", "zoë"),  # combining diaeresis composes (NFKC)
        ("Zoë", "zoë"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ﬁnn", "finn"),  # ligature
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_text_key_examples(raw: str | None, key: str) -> None:
    assert text_key(raw) == key


def test_name_key_separates_first_and_last() -> None:
    assert name_key("Mary Ann", "Smith") != name_key("Mary", "Ann Smith")
    assert name_key(" MARY ", "smith") == name_key("mary", "SMITH")
    # the separator itself is whitespace to text_key, so it cannot be smuggled in
    assert name_key("a\x1fb", "c") == name_key("a b", "c")
    assert name_key(None, "x") == "\x1fx"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Bob.Smith@Example.COM", "bob.smith@example.com"),
        ("  bob@example.com\u00a0", "bob@example.com"),
        ("bob@xn--bcher-kva.de", "bob@bücher.de"),
        ("BOB@BÜCHER.DE", "bob@bücher.de"),
        ("bob@ＥＸＡＭＰＬＥ.com", "bob@example.com"),
        ("", None),
        ("   ", None),
        (None, None),
        ("not an email", "notanemail"),  # keys never raise; invalid ones simply never match
    ],
)
def test_email_key_examples(raw: str | None, key: str | None) -> None:
    assert email_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "region", "key"),
    [
        ("+447911123456", None, "+447911123456"),
        ("+44 7911 123456", None, "+447911123456"),
        ("+44 (0)7911 123456", None, "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("0044 7911 123456", "GB", "+447911123456"),
        ("07911 123456", None, None),  # national number without a region: no key
        ("", "GB", None),
        (None, "GB", None),
        ("hello", "GB", None),
    ],
)
def test_phone_key_examples(raw: str | None, region: str | None, key: str | None) -> None:
    assert phone_key(raw, region=region) == key


@settings(max_examples=400, deadline=None)
@given(TRICKY)
def test_text_key_is_idempotent(raw: str) -> None:
    key = text_key(raw)
    assert text_key(key) == key
    assert key == key.strip()
    assert "  " not in key
    assert "\x1f" not in key


@settings(max_examples=200, deadline=None)
@given(TRICKY, TRICKY)
def test_name_key_is_idempotent_per_part(first: str, last: str) -> None:
    key = name_key(first, last)
    kf, kl = key.split("\x1f")
    assert name_key(kf, kl) == key


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        TRICKY,
        st.builds(lambda a, b: f"{a}@{b}", TRICKY, TRICKY),
        st.emails().map(str.upper),
    )
)
def test_email_key_is_idempotent(raw: str) -> None:
    key = email_key(raw)
    assert key is None or email_key(key) == key


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 +-()", max_size=20), st.sampled_from([None, "GB", "US"]))
def test_phone_key_is_idempotent(raw: str, region: str | None) -> None:
    key = phone_key(raw, region=region)
    assert key is None or (phone_key(key) == key and phone_key(key, region=region) == key)


@settings(max_examples=100, deadline=None)
@given(st.emails())
def test_email_key_ignores_case_of_whole_address(address: str) -> None:
    assert email_key(address.upper()) == email_key(address.lower()) == email_key(address)
