"""A sync worker for the kill test, run as a real subprocess (not a test module).

Usage: ``python kill_worker.py DB_FILE STATE_DIR setup|start|continue [CLOCK_OFFSET_S]``

The MIS is a deterministic in-memory fake connector registered in this process (same
people every time). ``start`` begins the first sync and confirms it when it is clean;
``continue`` takes the run over (its clock is ``CLOCK_OFFSET_S`` ahead, so the dead
worker's lease has expired) and confirms it if it reached review. The test sets
``CONNECTKIT_TEST_KILL_AT`` to make this process SIGKILL itself mid-run, and
``CONNECTKIT_TEST_IMPORT_WORKER=1`` to import through a forked import worker.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.models import Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.engine import make_engine
from connectkit.store.tables import integrations, metadata
from connectkit.sync import service
from connectkit.sync.runtime import Runtime
from connectkit.testing import factories
from connectkit.testing.fake import FakeConnector

NAME = "Kill Academy"
IMPORT_WORKER_ENV = "CONNECTKIT_TEST_IMPORT_WORKER"
STUDENTS, STAFF, PAGE = 60, 9, 7
MAPPING = {
    "students": {
        "area": "Student Entrance",
        "fields": {"first_name": "first_name", "last_name": "last_name",
                   "emails.primary": "email"},
        "groups": {f"yr-{n}": "Student" for n in range(1, 7)},
    },
    "staff": {
        "fields": {"first_name": "first_name", "last_name": "last_name"},
        "groups": {"st-teaching": "Staff", "st-support": "Staff", "st-office": "Staff",
                   "st-leadership": "Staff"},
    },
}


def runtime(db: Path, state: Path, offset: float) -> Runtime:
    fake = FakeConnector(page_size=PAGE)
    fake.add_groups(factories.school_groups())
    fake.add_people(Role.STUDENT, factories.iter_people(Role.STUDENT, STUDENTS, seed=7))
    fake.add_people(Role.STAFF, factories.iter_people(Role.STAFF, STAFF, seed=7))
    pm = new_manager()
    register(pm, "fake", fake)
    env = lifecycle.Environment(Hooks(pm), state, environ={"FAKE_TOKEN": "kill-test-token"})
    engine = make_engine(f"sqlite:///{db}")
    return Runtime(engine=engine, env=env, lease_seconds=30, batch=10, actor="kill-test",
                   clock=lambda: datetime.now(UTC) + timedelta(seconds=offset),
                   import_worker=os.environ.get(IMPORT_WORKER_ENV) == "1",
                   import_group=1)  # one checkpoint per page: the kill points count pages


def setup(rt: Runtime) -> None:
    metadata.create_all(rt.engine)
    with rt.engine.begin() as conn:
        row, _ = lifecycle.create(
            conn, rt.env, name=NAME, connector="fake",
            config={"school": "k1", "token": "${FAKE_TOKEN}"},
            settings={"sites": ["Main Site"]}, actor="kill-test",
        )
        conn.execute(sa.update(integrations).where(integrations.c.id == row.id)
                     .values(mapping=MAPPING))


def main(argv: list[str]) -> int:
    db, state, action = Path(argv[1]), Path(argv[2]), argv[3]
    offset = float(argv[4]) if len(argv) > 4 else 0.0
    rt = runtime(db, state, offset)
    if action == "setup":
        setup(rt)
        return 0
    res = service.start_run(rt, NAME) if action == "start" else service.continue_run(rt, NAME)
    if res.status == "awaiting_review" and not (res.errors or res.duplicates):
        res = service.confirm(rt, NAME, res.run_id)
    print(res.status, res.counts["created"])
    return 0 if res.status == "committed" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
