"""The emulator's mutable state: schools, tokens, access, faults and the write-back ledger."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectkit_wonde.emulator.data import School

DEFAULT_TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00emulated"  # noqa: S105 - the emulator's fake token
DEFAULT_SCHOOL = "A1930499544"


@dataclass
class Faults:
    """Faults on demand; every field off by default. Counters are request numbers."""

    rate_limit_every: int = 0
    """Every Nth API request gets 429 with ``Retry-After``."""
    retry_after: str = "1"
    """The Retry-After value sent with 429/503 (seconds, or an HTTP date)."""
    fail_next: int = 0
    """The next N API requests get ``fail_status`` (a 5xx burst)."""
    fail_status: int = 503
    delay_ms: int = 0
    """Every API request is delayed this long (slow responses)."""
    truncate_every: int = 0
    """Every Nth list page is cut in half (invalid JSON)."""
    wrong_region: bool = False
    """Schools report ``localhost:<port>`` as their domain; school calls elsewhere get 404."""
    null_scopes: list[str] = field(default_factory=list)
    """Field families nulled as if the scope were missing: contact_details, date_of_birth,
    gender, photo, employment_details."""
    writeback_fail_after_record: int = 0
    """The next N write-back POSTs are recorded, then answered 502 (ambiguous failure)."""
    writeback_delay_ms: int = 0
    """Write-back POSTs are recorded, then answered after this delay."""
    max_per_page: int = 500


@dataclass(frozen=True)
class Mark:
    student_id: str
    date: str
    session: str
    code_id: str
    writeback_id: str
    seq: int
    comment: str | None = None
    minutes_late: int | None = None


@dataclass
class Ledger:
    """Every write-back the emulator accepted; ``duplicates`` counts marks posted twice."""

    marks: dict[tuple[str, str, str], Mark] = field(default_factory=dict)
    posts: int = 0
    duplicates: int = 0
    writebacks: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    recorded_at: dict[tuple[str, str, str], datetime] = field(default_factory=dict)


class EmulatorState:
    """All state of one emulator instance; safe to poke from tests between requests."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.lock = threading.Lock()
        self.tokens = {token}
        self.schools: dict[str, School] = {}
        self.faults = Faults()
        self.ledger = Ledger()
        self.requests = 0
        self.list_pages = 0
        self.add_school(School(id=DEFAULT_SCHOOL, name="Emulated Academy", seed=7))

    def add_school(self, school: School) -> School:
        self.schools[school.id] = school
        return school

    def reset(self) -> None:
        """Clear faults, ledger and counters (schools and access stay)."""
        with self.lock:
            self.faults = Faults()
            self.ledger = Ledger()
            self.requests = 0
            self.list_pages = 0

    def set_faults(self, values: dict[str, Any]) -> Faults:
        with self.lock:
            for key, value in values.items():
                if not hasattr(self.faults, key):
                    raise KeyError(key)
                setattr(self.faults, key, value)
            return self.faults

    def next_request(self) -> int:
        with self.lock:
            self.requests += 1
            return self.requests

    def next_list_page(self) -> int:
        with self.lock:
            self.list_pages += 1
            return self.list_pages

    def take_failure(self) -> int | None:
        """The status to fail this request with, if a burst is on."""
        with self.lock:
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return self.faults.fail_status
            return None

    def take_writeback_failure(self) -> bool:
        with self.lock:
            if self.faults.writeback_fail_after_record > 0:
                self.faults.writeback_fail_after_record -= 1
                return True
            return False
