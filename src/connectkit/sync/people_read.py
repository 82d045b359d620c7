"""One role's read of people during an import: which connector, from where, mapped how."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from connectkit.context import ConnectorContext
from connectkit.models import PeoplePage, Role
from connectkit.plugins.facade import Connector
from connectkit.sync.stage import MappedPage, Stager


@dataclass(frozen=True)
class PeopleRead:
    """Read ``role`` with ``connector`` (changed ``since``, resuming after ``cursor``) and
    map each page with ``stager``; the same in this process or in the import worker."""

    connector: Connector
    ctx: ConnectorContext
    stager: Stager
    role: Role
    since: datetime | None
    cursor: str | None

    def pages(self) -> Iterator[PeoplePage]:
        """The connector's pages, from the cursor on."""
        return iter(
            self.connector.fetch_people(self.ctx, self.role, since=self.since, cursor=self.cursor)
        )

    def map(self, conn: sa.Connection, page: PeoplePage) -> MappedPage:
        """The mapping half of staging one page (:meth:`Stager.map_page`)."""
        return self.stager.map_page(conn, self.role, page.people, page.unchanged)
