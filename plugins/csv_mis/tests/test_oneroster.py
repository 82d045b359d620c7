"""OneRoster 1.1 and 1.2 bundles: bulk, delta, manifest checks, dialect drift, zip."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from connectkit.errors import BadResponseError, InvalidCredentialsError, NotFoundError
from connectkit.models import GroupKind, GroupMembership, Role

from .builders import USERS_12, oneroster_bundle, oneroster_users


def config(root, bundle="bundle", **extra):  # type: ignore[no-untyped-def]
    return {"mode": "oneroster", "root": str(root), "bundle": bundle, **extra}


def fetch(connector, ctx, role, since=None):  # type: ignore[no-untyped-def]
    pages = connector.connectkit_fetch_people(ctx=ctx, role=role, since=since, cursor=None)
    return [p for page in pages for p in page.people]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_bulk_bundle_people_roles_groups_and_birth_dates(
    tmp_path, connector, make_ctx, version, as_zip
):  # type: ignore[no-untyped-def]
    path = oneroster_bundle(
        tmp_path / "bundle", oneroster_users(10), version=version, as_zip=as_zip
    )
    ctx = make_ctx(config(tmp_path, path.name, grade_labels={"08": "Year 8"}))
    kids = fetch(connector, ctx, Role.STUDENT)
    adults = fetch(connector, ctx, Role.STAFF)
    assert [p.mis_id for p in adults] == ["u005", "u010"]
    assert len(kids) == 8
    u001 = kids[0]
    assert (u001.first_name, u001.last_name) == ("Given1", "Family1")
    assert u001.emails == {"primary": "u1@school.example"}
    assert u001.date_of_birth == date(2011, 2, 3)
    assert u001.groups == (
        GroupMembership(group_id="Year 8", kind=GroupKind.YEAR),
        GroupMembership(group_id="hr-7A", kind=GroupKind.REGISTRATION),
    )
    assert adults[0].groups == (GroupMembership(group_id="teacher", kind=GroupKind.STAFF),)
    assert "password" not in u001.extras
    assert "hunter2-not-real" not in repr(u001)
    school = connector.connectkit_check_credentials(ctx=ctx)
    assert (school.id, school.name) == ("org1", "Test School")


def test_groups_of_a_bundle(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    oneroster_bundle(tmp_path / "bundle", oneroster_users(10))
    groups = {g.id: g for g in connector.connectkit_fetch_groups(ctx=make_ctx(config(tmp_path)))}
    assert groups["hr-7A"].name == "Form 7A"
    assert groups["hr-7A"].kind is GroupKind.REGISTRATION
    assert groups["08"].kind is GroupKind.YEAR
    assert groups["teacher"].role is Role.STAFF


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_delta_tobedeleted_becomes_a_deletion_and_dates_drive_changed_since(  # type: ignore[no-untyped-def]
    tmp_path, connector, make_ctx, version
):
    oneroster_bundle(
        tmp_path / "bundle", oneroster_users(30, delta=True), version=version, mode="delta"
    )
    ctx = make_ctx(config(tmp_path))
    everyone = fetch(connector, ctx, Role.STUDENT)
    assert "u003" not in {p.mis_id for p in everyone}
    since = datetime(2026, 1, 20, tzinfo=UTC)
    recent = fetch(connector, ctx, Role.STUDENT, since)
    assert recent
    assert {p.mis_id for p in recent} == {
        p.mis_id for p in everyone if p.updated_at and p.updated_at >= since
    }
    deletions = list(connector.connectkit_fetch_deletions(ctx=ctx, since=None))
    assert [(d.mis_id, d.role, d.deleted_at) for d in deletions] == [
        ("u003", Role.STUDENT, datetime(2026, 1, 4, 9, tzinfo=UTC))
    ]


def test_a_delta_file_does_not_turn_absent_people_into_deletions(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    oneroster_bundle(tmp_path / "bundle", oneroster_users(10))
    ctx = make_ctx(config(tmp_path))
    fetch(connector, ctx, Role.STUDENT)
    oneroster_bundle(tmp_path / "bundle", oneroster_users(2, delta=True), mode="delta")
    fetch(connector, ctx, Role.STUDENT)
    assert list(connector.connectkit_fetch_deletions(ctx=ctx, since=None)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("manifest_version", "2.0", "manifest.version '2.0' is not supported (expected '1.0')"),
        ("version", "1.0", "oneroster.version '1.0' is not supported (expected one of 1.1, 1.2)"),
    ],
)
def test_wrong_manifest_versions_are_refused_clearly(
    tmp_path, connector, make_ctx, field, value, message
):  # type: ignore[no-untyped-def]
    kwargs = {field: value}
    if field == "version":
        kwargs["users_header"] = USERS_12
    oneroster_bundle(tmp_path / "bundle", oneroster_users(3), **kwargs)
    ctx = make_ctx(config(tmp_path))
    with pytest.raises(BadResponseError) as err:
        fetch(connector, ctx, Role.STUDENT)
    assert "bundle/manifest.csv: line" in str(err.value)
    assert message in str(err.value)
    with pytest.raises(InvalidCredentialsError, match="expected shape"):
        connector.connectkit_check_credentials(ctx=ctx)


def test_excel_rewritten_manifest_version_is_accepted_with_a_warning(
    tmp_path, connector, make_ctx, caplog
):  # type: ignore[no-untyped-def]
    oneroster_bundle(tmp_path / "bundle", oneroster_users(3), manifest_version="1")
    with caplog.at_level(logging.WARNING):
        assert fetch(connector, make_ctx(config(tmp_path)), Role.STUDENT)
    assert "manifest.version is '1'" in caplog.text


def test_dialect_drift_is_tolerated_with_warnings(tmp_path, connector, make_ctx, caplog):  # type: ignore[no-untyped-def]
    drifted = [
        c if c != "dateLastModified" else "dateModified"
        for c in USERS_12
        if c != "resourceSourcedIds"
    ] + ["metadata.managebac.house", "favouriteColour"]
    oneroster_bundle(
        tmp_path / "bundle", oneroster_users(8, delta=True), mode="delta", users_header=drifted
    )
    with caplog.at_level(logging.WARNING):
        kids = fetch(connector, make_ctx(config(tmp_path)), Role.STUDENT)
    assert kids[0].updated_at == datetime(2026, 1, 2, 9, tzinfo=UTC)
    assert kids[0].extras["metadata"] == {"managebac": {"house": ""}}
    text = caplog.text
    assert "column 'dateModified' used for 'dateLastModified'" in text
    assert "spec column(s) absent: resourceSourcedIds" in text
    assert "unknown column(s) kept in extras: favouriteColour" in text
    assert "metadata.managebac.house" not in text


def test_missing_required_column_is_an_error(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    header = [c for c in USERS_12 if c != "familyName"]
    oneroster_bundle(tmp_path / "bundle", oneroster_users(3), users_header=header)
    with pytest.raises(
        BadResponseError, match=r"required OneRoster 1\.2 column\(s\) missing: familyName"
    ):
        fetch(connector, make_ctx(config(tmp_path)), Role.STUDENT)


def test_a_bundle_without_manifest_or_missing_is_not_found(tmp_path, connector, make_ctx):  # type: ignore[no-untyped-def]
    (tmp_path / "bundle").mkdir()
    with pytest.raises(NotFoundError, match=r"no manifest\.csv"):
        connector.connectkit_check_credentials(ctx=make_ctx(config(tmp_path)))
    with pytest.raises(NotFoundError, match="not found"):
        connector.connectkit_check_credentials(ctx=make_ctx(config(tmp_path, "gone.zip")))
    (tmp_path / "fake.zip").write_bytes(b"PK not really")
    with pytest.raises(InvalidCredentialsError, match=r"fake\.zip: not a zip file or a folder"):
        connector.connectkit_check_credentials(ctx=make_ctx(config(tmp_path, "fake.zip")))


def test_role_resolution_prefers_primary_and_active_roles() -> None:
    from connectkit_csv_mis.oneroster.users import _live_roles, role_of

    assert role_of([("guardian", "secondary"), ("teacher", "primary")]) is Role.STAFF
    assert role_of([("student", "secondary"), ("aide", "primary")]) is Role.STAFF
    assert role_of([("parent", "primary")]) is None
    changed = [("teacher", "primary", "org1", "tobedeleted"), ("student", "primary", "org1", "")]
    assert role_of(_live_roles(changed)) is Role.STUDENT
    gone = [("student", "primary", "org1", "tobedeleted")]
    assert role_of(_live_roles(gone)) is Role.STUDENT
