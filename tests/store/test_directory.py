"""connectkit.directory: user types, sites and areas on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from connectkit import directory
from connectkit.errors import RuleError


def test_get_or_create_is_idempotent(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        first = directory.ensure_user_types(conn, ["Student", "Staff", "Student"])
        again = directory.ensure_user_types(conn, [" Student ", "Visitor"])
        assert set(first) == {"Student", "Staff"}
        assert again["Student"] == first["Student"]
        assert [t.name for t in directory.list_user_types(conn)] == ["Staff", "Student", "Visitor"]
        area = directory.ensure_area(conn, "Student Entrance", "Main Site")
        assert directory.ensure_area(conn, "Student Entrance", "Main Site") == area
        (listed,) = directory.list_areas(conn, "Main Site")
        assert (listed.id, listed.site) == (area, "Main Site")
        assert directory.ensure_user_types(conn, []) == {}


def test_add_refuses_duplicates_and_bad_names(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        site = directory.add_site(conn, "Annex")
        assert directory.site_id(conn, "Annex") == site.id
        with pytest.raises(RuleError, match="site 'Annex' already exists"):
            directory.add_site(conn, "Annex")
        with pytest.raises(RuleError, match="longer than 120"):
            directory.add_user_type(conn, "x" * 121)
        directory.add_area(conn, "Hall", "Annex")
        with pytest.raises(RuleError, match="area 'Hall' already exists at site 'Annex'"):
            directory.add_area(conn, "Hall", "Annex")
        other = directory.add_site(conn, "Main")
        hall = directory.add_area(conn, "Hall", "Main")  # same name, other site: fine
        assert hall.site_id == other.id
