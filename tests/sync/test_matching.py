"""Duplicate detection (R3.4) through the indexed key columns."""

from __future__ import annotations

import sqlalchemy as sa

from connectkit.store.tables import users
from connectkit.sync.keys import user_keys
from connectkit.sync.matching import NAME_EMAIL, NAME_PHONE, Match, find_duplicate, find_duplicates


def test_user_keys_normalise_case_space_unicode_and_email() -> None:
    a = user_keys({"first_name": "  ZOE ", "last_name": "o'brien", "email": "Zoe@School.UK",
                   "phone": "+447911123456"})
    b = user_keys({"first_name": "zoe", "last_name": "O'Brien  ", "email": "zoe@school.uk",
                   "phone": "+447911123456"})
    assert a == b
    assert a["name_key"] == "zoe\x1fo'brien"
    # NFKC: a full-width letter and a composed accent key like their plain forms
    c = user_keys({"first_name": "\uff3aoë", "last_name": "X"})
    d = user_keys({"first_name": "zoe\u0308", "last_name": "x"})
    assert c["name_key"] == d["name_key"]
    assert c["email_key"] is None
    assert c["phone_key"] is None


def test_find_duplicate_by_name_and_email_or_phone(world) -> None:
    by_email = world.add_directory_user("Ann", "Lee", email="ann.lee@x.org")
    by_phone = world.add_directory_user("Bob", "Ray", phone="+447911123456")
    world.add_directory_user("Ann", "Lee-Smith", email="ann.lee@x.org")  # other surname
    with world.engine.connect() as conn:
        hit = find_duplicate(conn, world.integration_id,
                             {"first_name": " ANN", "last_name": "lee", "email": "ANN.LEE@X.ORG"})
        assert hit == Match(by_email, NAME_EMAIL)
        hit = find_duplicate(conn, world.integration_id,
                             {"first_name": "bob", "last_name": "ray", "email": "other@x.org",
                              "phone": "+447911123456"})
        assert hit == Match(by_phone, NAME_PHONE)
        # same name, different email and phone: not a duplicate
        assert find_duplicate(conn, world.integration_id,
                              {"first_name": "Ann", "last_name": "Lee", "email": "a@y.org"}) is None
        # same email, different name: not a duplicate
        assert find_duplicate(conn, world.integration_id,
                              {"first_name": "Anne", "last_name": "Lee",
                               "email": "ann.lee@x.org"}) is None
        # a name alone never matches
        assert find_duplicate(conn, world.integration_id,
                              {"first_name": "Ann", "last_name": "Lee"}) is None


def test_users_linked_to_this_integration_are_not_duplicates(world) -> None:
    uid = world.add_directory_user("Cy", "Doe", email="cy@x.org")
    fields = {"first_name": "Cy", "last_name": "Doe", "email": "cy@x.org"}
    with world.engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == uid)
                     .values(integration_id=world.integration_id, mis_id="S1"))
        assert find_duplicate(conn, world.integration_id, fields) is None
        # ... but they are for any other integration
        assert find_duplicate(conn, world.integration_id + 1, fields) == Match(uid, NAME_EMAIL)


def test_batch_lookup_matches_per_record_lookup(world) -> None:
    ids = [world.add_directory_user(f"P{i}", "Q", email=f"p{i}@x.org") for i in range(30)]
    records = [{"first_name": f"p{i}", "last_name": "q", "email": f"P{i}@x.org"}
               for i in range(0, 40, 2)]
    with world.engine.connect() as conn:
        batch = find_duplicates(conn, world.integration_id, [user_keys(r) for r in records])
        single = {i: find_duplicate(conn, world.integration_id, r) for i, r in enumerate(records)}
    assert batch == {i: m for i, m in single.items() if m is not None}
    assert sorted(m.user_id for m in batch.values()) == ids[0:30:2]
