"""Draft and resume (item 8, R3.8, R9.2): SIGKILL a real worker process at several
points of the first sync; ``continue`` in a new process finishes it, and the directory
equals that of an uninterrupted run: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectkit.store.engine import make_engine
from connectkit.store.tables import integrations, user_types, users
from connectkit.sync import service
from connectkit.sync.killpoint import ENV

from . import kill_worker

WORKER = Path(__file__).with_name("kill_worker.py")


def worker(tmp: Path, action: str, kill_at: str | None = None,
           offset: float = 0.0, import_worker: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if kill_at:
        env[ENV] = kill_at
    env[kill_worker.IMPORT_WORKER_ENV] = "1" if import_worker else "0"
    return subprocess.run(
        [sys.executable, str(WORKER), str(tmp / "store.sqlite"), str(tmp / "state"), action,
         str(offset)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def directory(tmp: Path) -> tuple[list[tuple[object, ...]], str]:
    engine = make_engine(f"sqlite:///{tmp / 'store.sqlite'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(users.c.mis_id, users.c.first_name, users.c.last_name, users.c.email,
                          users.c.active, users.c.person_id, users.c.record_hash,
                          users.c.name_key, user_types.c.name)
                .select_from(users.join(user_types, user_types.c.id == users.c.user_type_id))
                .order_by(users.c.mis_id)
            ).all()
            status = conn.execute(sa.select(integrations.c.status)).scalar_one()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows], status


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, ...]]:
    """The directory after an uninterrupted first sync (run in this process)."""
    tmp = tmp_path_factory.mktemp("baseline")
    rt = kill_worker.runtime(tmp / "store.sqlite", tmp / "state", 0.0)
    kill_worker.setup(rt)
    res = service.start_run(rt, kill_worker.NAME)
    assert service.confirm(rt, kill_worker.NAME, res.run_id).status == "committed"
    rt.engine.dispose()
    rows, status = directory(tmp)
    assert status == "active"
    assert len(rows) == kill_worker.STUDENTS + kill_worker.STAFF
    return rows


@pytest.mark.parametrize("import_worker", [False, True], ids=["in-process", "import-worker"])
def test_first_sync_killed_at_every_phase_continues_to_the_same_directory(
    tmp_path: Path, baseline: list[tuple[object, ...]], import_worker: bool
) -> None:
    """One first sync, killed six times in a row (each resume is killed again later on),
    then finished by a seventh process; importing in-process and through the forked
    import worker (whose child must not outlive or outwrite its killed parent)."""
    rt = kill_worker.runtime(tmp_path / "store.sqlite", tmp_path / "state", 0.0)
    kill_worker.setup(rt)
    rt.engine.dispose()
    chain = [
        ("start", "import:3"),     # after the 3rd page was staged and checkpointed
        ("continue", "stage:4"),   # inside the staging transaction of its 4th page
        ("continue", "plan:1"),    # inside the plan transaction
        ("continue", "plan:2"),    # inside confirm's plan, revising the first one
        ("continue", "commit:2"),  # inside the 2nd commit batch, after confirm
        ("continue", "commit:3"),  # a resumed commit, killed again
    ]
    for step, (action, kill_at) in enumerate(chain):
        killed = worker(tmp_path, action, kill_at, offset=60.0 * step,
                        import_worker=import_worker)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stdout, killed.stderr)
        rows, status = directory(tmp_path)
        assert status == "draft", kill_at
        if kill_at.startswith("commit"):
            assert 0 < len(rows) < len(baseline)  # part-committed: batches, not records
        else:
            assert rows == []
    finished = worker(tmp_path, "continue", offset=60.0 * len(chain),
                      import_worker=import_worker)
    assert finished.returncode == 0, finished.stderr
    rows, status = directory(tmp_path)
    assert status == "active"
    assert rows == baseline
    assert len({r[0] for r in rows}) == len(rows)
