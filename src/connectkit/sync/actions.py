"""The per-record actions of a plan and the run counts they add up to."""

from __future__ import annotations

CREATE, UPDATE, MERGE, RESTORE = "create", "update", "merge", "restore"
UNCHANGED, SKIP, DEACTIVATE, DELETE = "unchanged", "skip", "deactivate", "delete"
WRITES_USER = (CREATE, UPDATE, MERGE, RESTORE)
REMOVES_USER = (DEACTIVATE, DELETE)

COUNT_OF = {
    CREATE: "created",
    UPDATE: "updated",
    MERGE: "merged",
    SKIP: "skipped",
    DEACTIVATE: "deactivated",
    DELETE: "deleted",
    RESTORE: "restored",
    UNCHANGED: "unchanged",
}
COUNTS = (*COUNT_OF.values(), "failed")
"""The keys of every run's counts (R3.7): created, updated, merged, skipped, deactivated,
deleted, restored, unchanged, failed."""

PLANNED, OK, FAILED = "planned", "ok", "failed"
"""``run_log.outcome``: a line is planned, then executed ok or failed."""

DIRECTORY_VALUES = (
    "first_name", "last_name", "email", "phone", "user_type", "site", "area",
    "person_id", "mis_code",
)  # fmt: skip
"""What a plan line may set on a users row (names, not ids)."""
