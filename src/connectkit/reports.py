"""The report of a finished sync run, handed to ``connectkit_run_finished``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RunReport(BaseModel):
    """What one sync run did: its counts and the issues left for an admin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    integration: str
    run_id: int
    kind: str
    """``first``, ``manual``, ``scheduled`` or ``reconcile``."""
    status: str
    """``committed``, ``awaiting_review``, ``on_hold``, ``failed`` …"""
    started_at: datetime
    finished_at: datetime
    counts: Mapping[str, int]
    """created, updated, merged, skipped, deactivated, deleted, restored, unchanged, failed."""
    errors: int = 0
    duplicates: int = 0
