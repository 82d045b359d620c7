"""An integration's status and health values, and the legal status moves (R1.4)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """An integration's status (R1.4)."""

    PENDING = "pending"
    READY = "ready"
    DRAFT = "draft"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class Health(StrEnum):
    """Whether runs are going well: ``on_hold`` = a run waits for approval (mass-change guard)."""

    OK = "ok"
    ON_HOLD = "on_hold"
    FAILING = "failing"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.READY}),
    Status.READY: frozenset({Status.DRAFT}),
    Status.DRAFT: frozenset({Status.ACTIVE}),
    Status.ACTIVE: frozenset({Status.DEACTIVATED}),
    Status.DEACTIVATED: frozenset({Status.ACTIVE}),
}
"""Legal status moves; anything else is refused."""
