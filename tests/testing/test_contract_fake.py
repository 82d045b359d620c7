"""The contract kit, run against FakeConnector: the three-line enablement a plugin uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectkit.models import Role
from connectkit.secrets import Secret
from connectkit.testing import factories
from connectkit.testing.contract import ConnectorContract
from connectkit.testing.fake import BAD_TOKEN, FakeConnector


def seeded_fake() -> FakeConnector:
    """A small school served three people a page, with every capability."""
    fake = FakeConnector(page_size=3)
    fake.add_groups(factories.school_groups())
    fake.add_people(Role.STUDENT, factories.make_people(Role.STUDENT, 11, seed=7))
    fake.add_people(Role.STAFF, factories.make_people(Role.STAFF, 7, seed=7))
    fake.add_attendance_codes(factories.attendance_codes())
    for index, person in enumerate(list(fake.people[Role.STUDENT].values())[:4]):
        fake.set_photo(Role.STUDENT, person.mis_id, factories.png_bytes(index), "image/png")
    fake.remove_person(Role.STAFF, "T000006")
    return fake


class TestFakeConnectorContract(ConnectorContract):
    plugin = seeded_fake()
    changed_since = factories.EPOCH + timedelta(minutes=5)

    @pytest.fixture
    def contract_config(self) -> dict[str, Any]:
        return {"school": "fake-school", "token": Secret("fake-contract-token-1")}

    @pytest.fixture
    def bad_credentials_config(self) -> dict[str, Any]:
        return {"school": "fake-school", "token": BAD_TOKEN}


def test_changed_since_stamp_is_inside_the_seeded_data() -> None:
    """Guards the strict-subset check above: the stamp splits the students."""
    stamps = [p.updated_at for p in TestFakeConnectorContract.plugin.people[Role.STUDENT].values()]
    since = TestFakeConnectorContract.changed_since
    assert since is not None
    assert min(s for s in stamps if s) < since <= max(s for s in stamps if s)
