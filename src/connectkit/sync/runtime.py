"""What the engine needs from its host: store, plugins, clock, worker identity."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from connectkit.integrations import Environment
from connectkit.plugins.facade import Hooks


def utcnow() -> datetime:
    """The real clock (tests pass their own to :class:`Runtime`)."""
    return datetime.now(UTC)


def default_worker() -> str:
    """This process's lease owner id: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Runtime:
    """Everything a sync run uses besides the integration itself.

    - ``engine``: the store; ``env``: plugins, connector state folders, the environment
      that ``${VAR}`` secrets resolve from, and an optional HTTP transport.
    - ``worker``: this process's lease owner id; ``lease_seconds``: lease length, renewed
      on every page and commit batch.
    - ``clock``: returns aware UTC now (tests mock it; nothing else is mocked).
    - ``actor``: who acts, for the integration event log.
    - ``batch``: planned lines executed per commit transaction (10000: on SQLite each
      commit rewrites every index page its rows touched, so fewer, larger batches write
      less. Plain creates never enter Python (:mod:`connectkit.sync.commit_creates`), so
      a batch holds only its other lines in memory, and ends after
      :data:`~connectkit.sync.commit.DETAIL_LINES` of those; at 100k people 2500-line
      batches took ~1.3x as long, 25000-line ones no less).
    - ``import_worker``: on full runs, fetch and map pages in a forked child process
      while this one checks and writes them (:mod:`connectkit.sync.import_worker`): two
      cores instead of one. The
      CLI turns it on where the machine has more than one CPU; tests of in-memory
      connector state keep it off (the child's copy of the connector is not theirs).
    - ``import_group``: most of the import worker's ready pages written in one
      transaction, with one checkpoint (a crash rolls back at most that many pages).
    - ``skip_unchanged``: let records whose source digest equals their user's skip
      validation, matching and staging (:mod:`connectkit.sync.fingerprint`); False
      checks every record in full (the outcome is the same, only slower).
    """

    engine: Engine
    env: Environment
    worker: str = field(default_factory=default_worker)
    lease_seconds: float = 300.0
    clock: Callable[[], datetime] = utcnow
    actor: str = "system"
    batch: int = 10000
    skip_unchanged: bool = True
    import_worker: bool = False
    import_group: int = 10

    @property
    def hooks(self) -> Hooks:
        return self.env.hooks
