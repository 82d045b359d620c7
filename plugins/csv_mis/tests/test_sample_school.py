"""The committed sample school: reproducible, the right size, problems planted, config valid."""

from __future__ import annotations

import filecmp
import runpy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connectkit.models import GroupKind, Role
from connectkit_csv_mis.schema import config_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SCHOOL = EXAMPLES / "sample-school"


def _connector_config() -> dict[str, Any]:
    with (SCHOOL / "connectkit.toml").open("rb") as handle:
        config = tomllib.load(handle)
    section = dict(config["integrations"][0]["connector"])
    assert section.pop("type") == "csv_mis"
    section["root"] = str(EXAMPLES.parent / section["root"])
    return section


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    generator = runpy.run_path(str(EXAMPLES / "generate_sample_school.py"))
    generator["main"](["--out", str(tmp_path)])
    for name in ("sample-school", "sample-school-oneroster"):
        compared = filecmp.dircmp(tmp_path / name, EXAMPLES / name)
        assert compared.diff_files == [], f"{name}: regenerate with the generator"
        assert compared.left_only == []
    photos = filecmp.dircmp(tmp_path / "sample-school" / "photos", SCHOOL / "photos")
    assert photos.diff_files == []
    assert photos.left_only == []
    assert photos.right_only == []


def test_the_sample_config_validates_against_the_plugin_schema() -> None:
    errors = list(Draft202012Validator(config_schema()).iter_errors(_connector_config()))
    assert errors == []


def test_the_sample_deployment_loads_with_the_core_config_loader() -> None:
    from connectkit.config.loader import load_config

    config = load_config(SCHOOL / "connectkit.toml")
    (integration,) = config.integrations
    assert integration.connector_type == "csv_mis"
    assert integration.connector["root"] == "examples/sample-school"
    assert Path(config.store.state_dir).resolve() == (EXAMPLES.parent / "var" / "state").resolve()


@pytest.fixture(scope="module")
def everyone(tmp_path_factory: pytest.TempPathFactory) -> dict[Role, list[Any]]:
    from connectkit.context import ConnectorContext
    from connectkit_csv_mis.connector import CsvConnector

    ctx = ConnectorContext("sample", _connector_config(), tmp_path_factory.mktemp("state"))
    connector = CsvConnector()
    return {
        role: [
            p
            for page in connector.connectkit_fetch_people(
                ctx=ctx, role=role, since=None, cursor=None
            )
            for p in page.people
        ]
        for role in Role
    }


def test_size_and_groups(everyone: dict[Role, list[Any]]) -> None:
    kids, adults = everyone[Role.STUDENT], everyone[Role.STAFF]
    assert len(kids) == 1100
    assert len(adults) == 130
    years = {g.group_id for p in kids for g in p.groups if g.kind is GroupKind.YEAR}
    assert years == {f"Year {n}" for n in range(7, 14)}
    assert all(any(g.kind is GroupKind.REGISTRATION for g in p.groups) for p in kids)
    staff_groups = {g.group_id for p in adults for g in p.groups}
    assert staff_groups == {"Teaching", "Support", "Leadership", "Office"}
    mapping = tomllib.loads((SCHOOL / "connectkit.toml").read_text())["integrations"][0]["mapping"]
    assert set(mapping["students"]["groups"]) == years
    assert set(mapping["staff"]["groups"]) == staff_groups


def test_planted_problems_are_there(everyone: dict[Role, list[Any]]) -> None:
    kids, adults = everyone[Role.STUDENT], everyone[Role.STAFF]
    assert sum(1 for p in kids + adults if not p.last_name) == 4
    bad_emails = [
        p
        for p in kids + adults
        if (p.emails and p.emails["primary"].count("@") != 1)
        or (p.emails and p.emails["primary"].endswith("@"))
    ]
    assert len(bad_emails) == 4
    two_years = [p for p in kids if sum(g.kind is GroupKind.YEAR for g in p.groups) > 1]
    assert len(two_years) == 1
    bad_phones = [
        p.phones["primary"]
        for p in kids
        if p.phones and len(p.phones["primary"].replace(" ", "")) != 11
    ]
    assert sorted(bad_phones) == ["0113 496 01", "ring the office"]
    assert (SCHOOL / "photos" / f"{kids[3].mis_id}.jpg").read_bytes().startswith(b"this is not")


def test_directory_seed_duplicates_mis_people(everyone: dict[Role, list[Any]]) -> None:
    import csv

    with (SCHOOL / "directory_seed.csv").open(newline="", encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    names = {
        (p.first_name.lower(), (p.last_name or "").lower()): p
        for role in Role
        for p in everyone[role]
    }
    by_email = [
        s
        for s in seed
        if s["email"]
        and names.get((s["first_name"].strip().lower(), s["last_name"].lower()))
        and names[(s["first_name"].strip().lower(), s["last_name"].lower())]
        .emails.get("primary", "")
        .lower()
        == s["email"].lower()
    ]
    by_phone = [
        s
        for s in seed
        if s["phone"].startswith("+44")
        and (s["first_name"].strip().lower(), s["last_name"].lower()) in names
    ]
    assert len(by_email) == 4
    assert len(by_phone) == 3
    assert any(s["user_type"] == "Visitor" for s in seed)
