"""Validator rules (R3.2): required names, email syntax, phone numbers; cleaned values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectkit.sync.validate import Issue, Validated, Validator


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(phone_region="GB")


def test_clean_record_is_ok_and_cleaned(validator: Validator) -> None:
    result = validator.validate(
        {
            "first_name": "  Mary\u00a0 Ann ",
            "last_name": "O\u2019Brien\u200b",
            "email": " Mary.OBrien@School.SCH.UK ",
            "phone": "07911 123456",
            "mis_code": "  kept as is ",
        }
    )
    assert result.ok
    assert result.issues == ()
    assert result.fields == {
        "first_name": "Mary Ann",
        "last_name": "O\u2019Brien",
        "email": "Mary.OBrien@school.sch.uk",
        "phone": "+447911123456",
        "mis_code": "  kept as is ",
    }


def test_every_problem_is_reported_at_once(validator: Validator) -> None:
    result = validator.validate(
        {"first_name": "   ", "last_name": None, "email": "bob@", "phone": "12"}
    )
    assert not result.ok
    assert [(i.field, i.rule, i.value) for i in result.issues] == [
        ("first_name", "required", "   "),
        ("last_name", "required", None),
        ("email", "email", "bob@"),
        ("phone", "phone", "12"),
    ]
    messages = [i.message for i in result.issues]
    assert messages[0] == "first_name: '   ' is empty; a first name is required"
    assert messages[1] == "last_name: missing; a last name is required"
    assert messages[2] == (
        "email: 'bob@' is not an email address: There must be something after the @-sign."
    )
    assert messages[3].startswith("phone: '12' is not a phone number (read in region GB): ")
    # invalid values are kept (stripped) so the admin sees what to fix
    assert result.fields["email"] == "bob@"
    assert result.fields["phone"] == "12"


def test_missing_name_keys_are_required(validator: Validator) -> None:
    result = validator.validate({"email": "a@b.com"})
    assert [(i.field, i.rule) for i in result.issues] == [
        ("first_name", "required"),
        ("last_name", "required"),
    ]
    assert result.fields["first_name"] is None


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff \u00a0", "\u3000", "\t\n"])
def test_invisible_or_blank_name_is_empty(validator: Validator, blank: str) -> None:
    result = validator.validate({"first_name": blank, "last_name": "Smith"})
    assert [(i.field, i.rule, i.value) for i in result.issues] == [
        ("first_name", "required", blank)
    ]


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_email_and_phone_are_optional(validator: Validator, blank: str | None) -> None:
    result = validator.validate(
        {"first_name": "A", "last_name": "B", "email": blank, "phone": blank}
    )
    assert result.ok
    assert result.fields["email"] is None
    assert result.fields["phone"] is None


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("bob", "An email address must have an @-sign."),
        ("bob@localhost", "It should have a period."),
        ("bob@example.test", "special-use or reserved name"),
        ("bob smith@example.com", "invalid characters before the @-sign"),
        ("bob@@example.com", "after the @-sign contains invalid characters"),
        ('"bob"@example.com', "Quoting the part before the @-sign is not allowed here."),
    ],
)
def test_email_rule_uses_the_library_reason(
    validator: Validator, email: str, reason: str
) -> None:
    (issue,) = validator.validate({"first_name": "A", "last_name": "B", "email": email}).issues
    assert issue.field == "email"
    assert issue.rule == "email"
    assert issue.value == email
    assert issue.message.startswith(f"email: {email!r} is not an email address: ")
    assert reason in issue.message


@pytest.mark.parametrize(
    ("email", "cleaned"),
    [
        ("Zoë@Bücher.DE", "Zoë@bücher.de"),
        ("bob@xn--bcher-kva.de", "bob@bücher.de"),
        ("Support@EXAMPLE.org", "support@example.org"),
    ],
)
def test_email_is_normalised(validator: Validator, email: str, cleaned: str) -> None:
    result = validator.validate({"first_name": "A", "last_name": "B", "email": email})
    assert result.ok
    assert result.fields["email"] == cleaned


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("+44 (0)7911 123456", "GB", "+447911123456"),
        ("0044 20 7946 0000", "GB", "+442079460000"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("650-253-0000", "US", "+16502530000"),
        ("+44 7911 123456", "US", "+447911123456"),
    ],
)
def test_phone_is_e164_in_the_integration_region(phone: str, region: str, e164: str) -> None:
    result = Validator(phone_region=region).validate(
        {"first_name": "A", "last_name": "B", "phone": phone}
    )
    assert result.ok, result.issues
    assert result.fields["phone"] == e164


@pytest.mark.parametrize(
    "phone", ["07911 12345", "07700 900123", "not a number", "+999 1234 5678", "0"]
)
def test_unusable_phone_is_an_issue(validator: Validator, phone: str) -> None:
    (issue,) = validator.validate({"first_name": "A", "last_name": "B", "phone": phone}).issues
    assert (issue.field, issue.rule, issue.value) == ("phone", "phone", phone)
    assert issue.message.startswith(f"phone: {phone!r} is not a phone number (read in region GB)")


def test_long_values_are_shortened_in_messages(validator: Validator) -> None:
    long = "x" * 300
    (issue,) = validator.validate({"first_name": "A", "last_name": "B", "email": long}).issues
    assert issue.value == long
    assert len(issue.message) < 250
    assert "…" in issue.message


def test_unknown_region_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="phone_region: 'XX'"):
        Validator(phone_region="XX")


def test_lower_case_region_is_accepted() -> None:
    result = Validator(phone_region="gb").validate(
        {"first_name": "A", "last_name": "B", "phone": "07911 123456"}
    )
    assert result.fields["phone"] == "+447911123456"


def test_issue_and_validated_are_frozen() -> None:
    issue = Issue("email", "email", "x", "m")
    with pytest.raises(AttributeError):
        issue.rule = "other"  # type: ignore[misc]
    result = Validated({"first_name": "A"}, ())
    assert result.ok
    with pytest.raises(AttributeError):
        result.issues = (issue,)  # type: ignore[misc]


records = st.fixed_dictionaries(
    {
        "first_name": st.one_of(st.none(), st.text(max_size=8)),
        "last_name": st.one_of(st.none(), st.text(max_size=8)),
        "email": st.one_of(st.none(), st.emails(), st.text(max_size=12)),
        "phone": st.one_of(
            st.none(), st.text(alphabet="0123456789 +-", max_size=16), st.text(max_size=6)
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(records, max_size=20))
def test_validate_many_equals_validate_one_by_one(batch: list[dict[str, str | None]]) -> None:
    validator = Validator("GB")
    assert validator.validate_many(batch) == [validator.validate(r) for r in batch]


@settings(max_examples=150, deadline=None)
@given(records)
def test_cleaned_record_validates_to_itself(record: dict[str, str | None]) -> None:
    validator = Validator("GB")
    first = validator.validate(record)
    if first.ok:
        again = validator.validate(first.fields)
        assert again.ok
        assert again.fields == first.fields


def test_worker_pool_gives_the_same_verdicts_in_order() -> None:
    batch: list[dict[str, str | None]] = [
        {"first_name": f"P{i}", "last_name": "Lee" if i % 7 else " ",
         "email": f"p{i}@school.sch.uk" if i % 5 else f"p{i} at school",
         "phone": f"07911 {i:06d}" if i % 3 else "0791 12", "mis_code": str(i)}
        for i in range(60)
    ]
    local = Validator("GB", workers=0).validate_many(batch)
    pooled = Validator("GB", workers=1, pool_threshold=10).validate_many(batch)
    assert pooled == local
    assert sum(not v.ok for v in pooled) > 10  # the batch really mixes good and bad records


def test_small_batches_stay_in_process() -> None:
    from connectkit.sync import validate as module

    validator = Validator("GB", workers=5, pool_threshold=100)
    assert len(validator.validate_many([{"first_name": "A", "last_name": "B"}] * 99)) == 99
    assert 5 not in module._POOLS  # no pool of 5 workers was ever started


def test_workers_default_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTKIT_VALIDATE_WORKERS", "0")
    assert Validator("GB").workers == 0
    monkeypatch.setenv("CONNECTKIT_VALIDATE_WORKERS", "3")
    assert Validator("GB").workers == 3


def test_pool_never_reruns_an_unguarded_script(tmp_path) -> None:
    """A caller's script without a ``__main__`` guard runs once, not once per worker."""
    import subprocess
    import sys
    import textwrap

    marker = tmp_path / "runs.txt"
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from connectkit.sync.validate import Validator
        with open({str(marker)!r}, "a") as out:
            out.write("ran\\n")
        batch = [{{"first_name": "A", "last_name": "B", "email": f"a{{i}}@b.com"}}
                 for i in range(40)]
        results = Validator("GB", workers=1, pool_threshold=10).validate_many(batch)
        print(sum(r.ok for r in results))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "40"
    assert "Traceback" not in done.stderr
    assert marker.read_text() == "ran\n"


def test_no_worker_processes_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTKIT_VALIDATE_WORKERS", raising=False)
    assert Validator("GB").workers == 0
