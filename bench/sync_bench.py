"""Sync engine benchmark (issue 3 item 13) — not a timed test.

A synthetic trust of N people (``--people``, default 10 000; 100 000; 1 000 000 on request)
is written once as Wonde-shaped JSON pages (``{"data": [...], "meta": {"pagination": ...}}``,
one page of ``--page-size`` records per line) to a scratch folder. A directory of N users
is seeded, 2 % of them planted duplicates of MIS records (same name and email, differently
cased / spaced), and 1 % of MIS records carry planted errors (no surname, a malformed email,
an unusable phone). A small connector plugin in this file serves the pages: it reads
each page with the Wonde plugin's own lazy page reader and maps it with the plugin's own
``read_people`` (fingerprints, vouching, ``map_person``), as the real connector does
after its HTTP call.

Measured, in this order, on the same records and the same store:

* floor (a): JSON decode + bulk insert of the mapped fields into a scratch table, one
  transaction per page;
* floor (b): floor (a) plus one naive single-threaded pass of email-validator and
  phonenumbers over every record's email and phone;
* the Validator alone on every record (cold caches), and naive library calls, per record;
* the engine: first-sync staging (``service.start_run`` until awaiting review: import,
  map, validate, match, stage, plan), commit (``service.confirm`` after the planted errors
  and duplicates are skipped), a second full run on unchanged input, and a delta run after
  1 % of people changed (the connector answers changed-since fetches);
* peak RSS of this process (and of any validator worker process).

``--json`` prints one JSON object (keys listed in :data:`REQUIRED_KEYS` and more). Engine
figures that could not be taken are ``null`` and the reason is in ``missing``; nothing is
ever estimated. Run: ``.venv/bin/python bench/sync_bench.py --people 100000 --json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from _common import (
    Stopwatch,
    children_peak_rss_mb,
    emit,
    machine,
    peak_rss_mb,
    per_second,
    ratio,
    rss_mb,
)

REQUIRED_KEYS = (
    "people",
    "staging_records_per_s",
    "commit_rows_per_s",
    "unchanged_rerun_s",
    "delta_to_full_ratio",
    "peak_rss_mb",
    "floor_ratio",
    "validate_floor_ratio",
)
NAME = "Bench Trust"
TOKEN_ENV = "BENCH_MIS_TOKEN"
STAFF_SHARE = 8  # one person in 8 is staff
ERROR_EVERY = 100  # 1 % planted errors
DUPLICATE_EVERY = 50  # 2 % planted duplicates
CHANGE_EVERY = 100  # 1 % changed for the delta run
BASE_UPDATED = datetime(2025, 1, 1, tzinfo=UTC)
YEARS = tuple(range(7, 14))
STAFF_GROUPS = (("STF-TEACH", "Teaching"), ("STF-SUPPORT", "Support"), ("STF-OFFICE", "Office"))

# --- the synthetic trust -------------------------------------------------------------------

_SYLLABLES = (
    "al", "be", "ca", "do", "el", "fi", "ga", "ha", "is", "jo", "ka", "li", "ma", "no", "ol",
    "pe", "ra", "sa", "ta", "ul", "va", "wi", "ya", "zo", "an", "er", "in", "on", "us", "ri",
    "mo", "de", "lu", "ne", "ko", "si", "te", "vi", "ro", "mi",
)  # fmt: skip
_UNICODE_FIRST = ("Zoë", "Siobhán", "Łukasz", "Ngọc", "José", "Aïsha", "Björn", "Oisín")
_UNICODE_LAST = ("Müller", "Nguyễn", "Dąbrowski", "O'Brien", "Ní Bhriain", "Şahin", "Ørsted")


def _mix(seed: int, i: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest())


def _name(r: int, i: int) -> tuple[str, str]:
    if i % 7 == 3:
        return _UNICODE_FIRST[r % 8], _UNICODE_LAST[(r >> 8) % 7] + f"-{_SYLLABLES[(r >> 16) % 40]}"
    s = _SYLLABLES
    first = (s[r % 40] + s[(r >> 6) % 40]).capitalize()
    last = (s[(r >> 12) % 40] + s[(r >> 18) % 40] + s[(r >> 24) % 40]).capitalize()
    return first, last


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isascii() and c.isalnum()) or "x"


def valid_mobile_prefixes() -> tuple[str, ...]:
    """GB mobile prefixes whose every 6-digit completion the library accepts."""
    import phonenumbers

    found = []
    for prefix in ("07911", "07400", "07500", "07723", "07812", "07956", "07384", "07480"):
        samples = (prefix + tail for tail in ("000000", "123456", "999999"))
        if all(phonenumbers.is_valid_number(phonenumbers.parse(n, "GB")) for n in samples):
            found.append(prefix)
    return tuple(found)


@dataclass
class Trust:
    """Person ``i`` of a trust of ``people``: the same arguments give the same records."""

    people: int
    seed: int
    prefixes: tuple[str, ...]
    changed: bool = False
    delta: dict[str, Path] = field(default_factory=dict)
    """The file of the pages a changed-since fetch returns, per role (:meth:`change`)."""

    def change(self, page_size: int, folder: Path) -> None:
        """Change every ``CHANGE_EVERY``-th person, and write the pages of the changed
        people to ``folder`` as the full pages were written beforehand (the MIS's own
        work of finding them is not part of what the benchmark times)."""
        self.changed = True
        self.delta = {}
        for role in ("student", "staff"):
            changed = (i for i in range(1, self.people, CHANGE_EVERY) if self.role(i) == role)
            path = folder / f"{role}-changed.jsonl"
            with path.open("wb") as out:
                for n, chunk in enumerate(_chunks(changed, page_size)):
                    out.write(page_bytes(self, chunk, "x", n, page_size) + b"\n")
            self.delta[role] = path

    def reset(self) -> None:
        """Back to the unchanged trust."""
        self.changed = False
        self.delta = {}

    def role(self, i: int) -> str:
        return "staff" if i % STAFF_SHARE == 0 else "student"

    def contact(self, i: int) -> tuple[str, str, str | None, str | None]:
        """(first, last, email, phone) as the MIS holds them (planted errors included)."""
        r = _mix(self.seed, i)
        first, last = _name(r, i)
        if self.changed and i % CHANGE_EVERY == 1:
            last = last + "-Changed"
        domain = "staff.oakfield.sch.uk" if self.role(i) == "staff" else "pupils.oakfield.sch.uk"
        email: str | None = f"{_slug(first)}.{_slug(last)}{i}@{domain}"
        prefix = self.prefixes[r % len(self.prefixes)]
        tail = f"{(r >> 20) % 1_000_000:06d}"
        shape = i % 3
        phone: str | None = (
            f"{prefix} {tail}" if shape == 0
            else f"+44 {prefix[1:]} {tail}" if shape == 1
            else prefix + tail
        )  # fmt: skip
        if i % 5 == 2:
            phone = None  # not everyone has a phone
        if i % ERROR_EVERY == 13:
            kind = (i // ERROR_EVERY) % 3
            if kind == 0:
                last = ""
            elif kind == 1:
                email = f"{_slug(first)} at {domain}"
            else:
                phone = "0791 12"
        return first, last, email, phone

    def updated_at(self, i: int) -> datetime:
        if self.changed and i % CHANGE_EVERY == 1:
            return datetime.now(UTC)
        return BASE_UPDATED

    def record(self, i: int) -> dict[str, Any]:
        """Person ``i`` as Wonde's students / employees endpoints return it."""
        first, last, email, phone = self.contact(i)
        staff = self.role(i) == "staff"
        stamp = self.updated_at(i).strftime("%Y-%m-%d %H:%M:%S.%f")
        raw: dict[str, Any] = {
            "id": f"A{1_000_000_000 + i}",
            "upi": hashlib.md5(f"{self.seed}:{i}".encode(), usedforsecurity=False).hexdigest(),
            "mis_id": str(1000 + i),
            "initials": (first[:1] + last[:1]) or None,
            "surname": last,
            "forename": first,
            "middle_names": None,
            "legal_surname": last,
            "legal_forename": first,
            "gender": ("MALE", "FEMALE")[i % 2],
            "date_of_birth": None
            if staff
            else {"date": "2012-05-01 00:00:00.000000", "timezone_type": 3, "timezone": "UTC"},
            "updated_at": {"date": stamp, "timezone_type": 3, "timezone": "UTC"},
            "contact_details": {
                "data": {
                    "emails": {"primary": email, "email": email, "home": None, "work": None},
                    "phones": {"primary": phone, "phone": phone, "mobile": None, "home": None},
                    "addresses": {"home": {"town": "Exampleton", "postcode": "ZZ1 1ZZ"}},
                }
            },
        }
        if staff:
            gid, gname = STAFF_GROUPS[i % len(STAFF_GROUPS)]
            raw["groups"] = {"data": [{"id": gid, "name": gname, "type": "STAFF"}]}
            raw["employment_details"] = {"data": {"current": True, "teaching_staff": True}}
        else:
            year = YEARS[i % len(YEARS)]
            raw["year"] = {"data": {"id": f"YR{year}", "name": f"Year {year}", "code": str(year)}}
            raw["groups"] = {
                "data": [
                    {"id": f"REG{year}{'ABC'[i % 3]}", "name": f"{year}{'ABC'[i % 3]}",
                     "type": "REGISTRATION"},
                    {"id": f"H{i % 4}", "name": f"House {i % 4}", "type": "HOUSE"},
                ]
            }  # fmt: skip
        return raw

    def indexes(self, role: str) -> Iterator[int]:
        return (i for i in range(self.people) if self.role(i) == role)


def write_pages(trust: Trust, folder: Path, page_size: int) -> dict[str, Path]:
    """Write each role's Wonde-shaped pages, one JSON document per line."""
    paths = {}
    for role, endpoint in (("student", "students"), ("staff", "employees")):
        path = folder / f"{endpoint}.jsonl"
        with path.open("wb") as out:
            for number, chunk in enumerate(_chunks(trust.indexes(role), page_size), start=1):
                out.write(page_bytes(trust, chunk, endpoint, number, page_size) + b"\n")
        paths[role] = path
    return paths


def page_bytes(trust: Trust, chunk: Sequence[int], endpoint: str, number: int, size: int) -> bytes:
    more = len(chunk) == size
    nxt = f"https://api.wonde.com/v1.0/schools/A1/{endpoint}?page={number + 1}" if more else None
    return orjson.dumps(
        {
            "data": [trust.record(i) for i in chunk],
            "meta": {"pagination": {"next": nxt, "previous": None, "more": more,
                                    "per_page": size, "current_page": number}},
        }
    )  # fmt: skip


def _chunks(items: Iterator[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_pages(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from handle


# --- floors --------------------------------------------------------------------------------


def _mapped_fields(raw: dict[str, Any]) -> dict[str, str | None]:
    contact = (raw.get("contact_details") or {}).get("data") or {}
    return {
        "first_name": raw.get("legal_forename") or raw.get("forename"),
        "last_name": raw.get("legal_surname") or raw.get("surname"),
        "email": (contact.get("emails") or {}).get("primary"),
        "phone": (contact.get("phones") or {}).get("primary"),
    }


def _naive_validate(fields: dict[str, str | None]) -> None:
    import email_validator
    import phonenumbers

    if fields["email"]:
        with contextlib.suppress(email_validator.EmailNotValidError):
            email_validator.validate_email(fields["email"], check_deliverability=False)
    if fields["phone"]:
        try:
            number = phonenumbers.parse(fields["phone"], "GB")
            if phonenumbers.is_valid_number(number):
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass


def run_floor(engine: sa.Engine, pages: dict[str, Path], *, validate: bool) -> float:
    """Decode every page and bulk-insert its records (one transaction per page)."""
    meta = sa.MetaData()
    table = sa.Table(
        "bench_floor", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mis_id", sa.String(128), nullable=False, unique=True),
        sa.Column("fields", sa.JSON, nullable=False),
    )  # fmt: skip
    meta.drop_all(engine)
    meta.create_all(engine)
    start = time.perf_counter()
    for path in pages.values():
        for page in read_pages(path):
            rows = []
            for raw in orjson.loads(page)["data"]:
                fields = _mapped_fields(raw)
                if validate:
                    _naive_validate(fields)
                rows.append({"mis_id": raw["id"], "fields": fields})
            with engine.begin() as conn:
                conn.execute(sa.insert(table), rows)
    elapsed = time.perf_counter() - start
    meta.drop_all(engine)
    return elapsed


# --- validator figures ---------------------------------------------------------------------


def validator_figures(pages: dict[str, Path], limit: int) -> dict[str, Any]:
    """Per-record cost of the naive library pass and of the Validator, same records."""
    from connectkit.sync import validate as v

    records: list[dict[str, str | None]] = []
    for path in pages.values():
        for page in read_pages(path):
            records.extend(_mapped_fields(raw) for raw in orjson.loads(page)["data"])
            if len(records) >= limit:
                break
    records = records[:limit]
    n = len(records)
    out: dict[str, Any] = {"records": n}
    start = time.perf_counter()
    for fields in records:
        _naive_validate(fields)
    out["naive_library_us_per_record"] = round((time.perf_counter() - start) / n * 1e6, 2)
    for label, workers, batch in (("page_200", 0, 200), ("pool_batch_2000", 1, 2000),
                                  ("local_batch_2000", 0, 2000)):  # fmt: skip
        validator = v.Validator("GB", workers=workers)
        if workers:
            validator.validate_many(records[:batch])  # start the worker outside the timing
        v.check_email.cache_clear()
        v.check_phone.cache_clear()
        start = time.perf_counter()
        for i in range(0, n, batch):
            validator.validate_many(records[i : i + batch])
        out[f"validator_{label}_us_per_record"] = round((time.perf_counter() - start) / n * 1e6, 2)
    start = time.perf_counter()
    v.Validator("GB", workers=0).validate_many(records)
    out["validator_warm_cache_us_per_record"] = round((time.perf_counter() - start) / n * 1e6, 2)
    return out


# --- the engine ----------------------------------------------------------------------------


@dataclass
class BenchMIS:
    """A connector plugin serving the trust's Wonde-shaped pages (full and changed-since)."""

    trust: Trust
    pages: dict[str, Path]
    page_size: int
    log: Path | None = None
    """Where each fetch is noted (a file: the import worker fetches in a child process)."""

    @property
    def fetched(self) -> list[str]:
        return self.log.read_text().split() if self.log and self.log.exists() else []

    def register(self, pm: Any) -> None:
        from connectkit.hookspecs import hookimpl

        trust, pages, size, log = self.trust, self.pages, self.page_size, self.log

        class Plugin:
            @hookimpl
            def connectkit_connector_info(self) -> Any:
                from connectkit.models import Capabilities, ConnectorInfo, Role
                from connectkit_wonde.mapping import STAFF_FIELDS, STUDENT_FIELDS

                return ConnectorInfo(
                    name="benchmis", title="Benchmark MIS (Wonde-shaped)", version="1",
                    capabilities=Capabilities(delta=True, deletions_feed=True,
                                              fingerprints=True),
                    fields={Role.STUDENT: STUDENT_FIELDS, Role.STAFF: STAFF_FIELDS},
                )  # fmt: skip

            @hookimpl
            def connectkit_config_schema(self) -> dict[str, Any]:
                return {
                    "type": "object",
                    "properties": {"token": {"type": "string", "writeOnly": True}},
                    "additionalProperties": False,
                }

            @hookimpl
            def connectkit_check_credentials(self, ctx: Any) -> Any:
                from connectkit.models import SchoolInfo

                return SchoolInfo(id="A1", name="Bench Trust")

            @hookimpl
            def connectkit_fetch_groups(self, ctx: Any) -> Iterator[Any]:
                from connectkit.models import GroupKind, MISGroup, Role

                for year in YEARS:
                    yield MISGroup(id=f"YR{year}", name=f"Year {year}", kind=GroupKind.YEAR)
                for gid, gname in STAFF_GROUPS:
                    yield MISGroup(id=gid, name=gname, kind=GroupKind.STAFF, role=Role.STAFF)

            @hookimpl
            def connectkit_fetch_deletions(self, ctx: Any, since: Any) -> Iterator[Any]:
                return iter(())

            @hookimpl
            def connectkit_fetch_people(
                self, ctx: Any, role: Any, since: datetime | None, cursor: str | None
            ) -> Iterator[Any]:
                if log is not None:
                    with log.open("a") as notes:
                        notes.write(f"{role}:{'full' if since is None else 'delta'}\n")
                return _serve(trust, pages, size, str(role), since, cursor, ctx.unchanged)

        pm.register(Plugin(), name="benchmis")


def _serve(
    trust: Trust,
    pages: dict[str, Path],
    size: int,
    role: str,
    since: datetime | None,
    cursor: str | None,
    unchanged: Any,
) -> Iterator[Any]:
    """The pages of ``role`` as the Wonde connector reads them after its HTTP call:
    lazily (:func:`connectkit_wonde.records.read_page`), then fingerprinted, vouched for
    and mapped by its own :func:`connectkit_wonde.people.read_people`."""
    from connectkit.models import PeoplePage, Role
    from connectkit_wonde.people import read_people
    from connectkit_wonde.records import read_page

    as_role = Role(role)
    start = int(cursor) if cursor else 0
    if since is None:
        source: Iterator[bytes] = read_pages(pages[role])
    else:  # what the MIS answers for "changed since": the pages of the changed people
        source = read_pages(trust.delta[role]) if role in trust.delta else iter(())
    for number, page in enumerate(source):
        if number < start:
            continue
        payload = read_page(page)
        people, same = read_people(as_role, payload["data"], frozenset(), unchanged)
        more = bool(payload["meta"]["pagination"]["more"])
        yield PeoplePage(people=people, cursor=str(number + 1) if more else None, unchanged=same)


def _mapping() -> dict[str, Any]:
    fields = {"first_name": "first_name", "last_name": "last_name",
              "emails.primary": "email", "phones.primary": "phone"}  # fmt: skip
    return {
        "students": {
            "area": "Student Entrance",
            "fields": fields,
            "groups": {f"YR{y}": "Student" for y in YEARS},
        },
        "staff": {"fields": fields, "groups": {"STF-TEACH": "Staff", "STF-SUPPORT": "Staff",
                                               "STF-OFFICE": "Office"}},
    }  # fmt: skip


def seed_directory(engine: sa.Engine, trust: Trust, batch: int = 5000) -> int:
    """N directory users; every 50th matches an MIS record (case / spacing differ)."""
    from connectkit.store.tables import users
    from connectkit.sync.keys import user_keys
    from connectkit.sync.validate import Validator

    now = datetime.now(UTC)
    validator = Validator("GB", workers=0)
    planted = 0
    rows: list[dict[str, Any]] = []
    for i in range(trust.people):
        if i % DUPLICATE_EVERY == 7 and i % ERROR_EVERY != 13:
            first, last, email, phone = trust.contact(i)
            fields = {"first_name": f" {first.upper()} ", "last_name": last,
                      "email": (email or "").upper() or None, "phone": phone}  # fmt: skip
            planted += 1
        else:
            r = _mix(trust.seed + 1, i)
            first, last = _name(r, i)
            fields = {"first_name": first, "last_name": last,
                      "email": f"{_slug(first)}.{i}@home.example.org", "phone": None}  # fmt: skip
        clean = validator.validate(fields).fields
        rows.append({**fields, **user_keys(clean), "active": True, "created_at": now,
                     "updated_at": now})  # fmt: skip
        if len(rows) >= batch:
            with engine.begin() as conn:
                conn.execute(sa.insert(users), rows)
            rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(sa.insert(users), rows)
    return planted


class PhaseTimeout(Exception):
    """An engine phase ran past ``--phase-timeout``; its figure is reported missing."""


_SQLITE_CONNECTIONS: list[Any] = []


def track_sqlite(engine: sa.Engine) -> None:
    """Remember the engine's SQLite connections so a phase past its deadline can be
    interrupted even inside one long statement (a signal handler waits for it)."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda dbapi, _rec: _SQLITE_CONNECTIONS.append(dbapi))


@contextmanager
def deadline(seconds: int, phase: str) -> Iterator[None]:
    """End the phase with PhaseTimeout after ``seconds`` (0 = no limit): a timer thread
    interrupts running SQLite statements and SIGALRM raises in the main thread."""
    expired = threading.Event()

    def interrupt() -> None:
        expired.set()
        for dbapi in list(_SQLITE_CONNECTIONS):
            with suppress(Exception):
                dbapi.interrupt()

    def expire(_signum: int, _frame: Any) -> None:
        raise PhaseTimeout(f"{phase} did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    timer = threading.Timer(seconds, interrupt) if seconds else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    signal.alarm(seconds)
    try:
        yield
    except sa.exc.OperationalError as exc:
        if expired.is_set():
            raise PhaseTimeout(f"{phase} did not finish within {seconds} s") from exc
        raise
    finally:
        signal.alarm(0)
        if timer is not None:
            timer.cancel()
        signal.signal(signal.SIGALRM, previous)


def _listed(conn: sa.Connection, review: Any, integration_id: int, name: str) -> list[str]:
    found: list[str] = []
    after = None
    while True:
        page = review.list_records(conn, integration_id, name, after=after, limit=1000)
        found.extend(r.mis_id for r in page.records)
        if page.next_after is None:
            return found
        after = page.next_after


def skip_all(engine: sa.Engine, integration_id: int, errors: list[str], dups: list[str]) -> None:
    """Skip the planted errors (``review.skip``), then the duplicates.

    ``review.skip`` re-counts the lists for every duplicate (the R3.6 check), which is
    O(staged records) per call; for the duplicates the benchmark checks the rule once and
    writes what ``skip`` writes (a skips row, a review mark and a review event), in bulk.
    Not timed as part of any figure.
    """
    from connectkit import integrations as lifecycle
    from connectkit.store.tables import skips
    from connectkit.sync import review, revisions

    with engine.begin() as conn:
        for mis_id in errors:
            review.skip(conn, integration_id, mis_id, actor="bench")
    with engine.begin() as conn:
        if review.counts(conn, integration_id).get("error"):
            raise RuntimeError("errors remain; duplicates cannot be resolved (R3.6)")
        now = datetime.now(UTC)
        rows = [{"integration_id": integration_id, "mis_id": m, "created_at": now} for m in dups]
        if rows:
            conn.execute(sa.insert(skips), rows)
        revisions.mark(conn, integration_id, dups)
        for mis_id in dups:
            lifecycle.record_event(conn, integration_id, "review", "duplicate", "skipped",
                                   cause=f"record {mis_id} skipped", actor="bench")  # fmt: skip


def engine_figures(
    engine: sa.Engine,
    trust: Trust,
    pages: dict[str, Path],
    page_size: int,
    state: Path,
    timeout: int,
    import_worker: bool = True,
) -> dict[str, Any]:
    """Time the engine phases through the service API (what the CLI and HTTP API call)."""
    from connectkit import integrations as lifecycle
    from connectkit.plugins.facade import Hooks
    from connectkit.plugins.manager import new_manager
    from connectkit.store.tables import integrations
    from connectkit.sync import review, service
    from connectkit.sync.runtime import Runtime

    out: dict[str, Any] = {}
    mis = BenchMIS(trust, pages, page_size, log=state.parent / "fetches.log")
    pm = new_manager()
    mis.register(pm)
    env = lifecycle.Environment(Hooks(pm), state, environ={TOKEN_ENV: "bench-token"})
    with engine.begin() as conn:
        row, _school = lifecycle.create(
            conn, env, name=NAME, connector="benchmis", config={"token": "${" + TOKEN_ENV + "}"},
            settings={"sites": ["Main Site"], "deletion": "deactivate", "phone_region": "GB"},
            actor="bench",
        )  # fmt: skip
        conn.execute(
            sa.update(integrations).where(integrations.c.id == row.id).values(mapping=_mapping())
        )
    start = time.perf_counter()
    out["directory_planted_duplicates"] = seed_directory(engine, trust)
    out["directory_seed_s"] = round(time.perf_counter() - start, 3)
    rt = Runtime(engine=engine, env=env, actor="bench", worker="bench:1",
                 import_worker=import_worker)  # fmt: skip
    watch = Stopwatch()
    missing: dict[str, str] = {}
    out["missing"] = missing
    out["laps_s"] = watch.laps
    try:
        with deadline(timeout, "staging"), watch.lap("staging"):
            first = service.start_run(rt, NAME)
        out["first_run"] = {"status": first.status, "errors": first.errors,
                            "duplicates": first.duplicates, "ready": first.ready}  # fmt: skip
        out["rss_after_staging_mb"] = rss_mb()
        with engine.connect() as conn:
            errors = _listed(conn, review, row.id, "error")
            dups = _listed(conn, review, row.id, "duplicate")
        with watch.lap("review_skips"):
            skip_all(engine, row.id, errors, dups)
        with deadline(timeout, "commit"), watch.lap("commit"):
            committed = service.confirm(rt, NAME)
        out["commit_counts"] = committed.counts
        out["rows_committed"] = sum(committed.counts.values())
        with deadline(timeout, "unchanged_rerun"), watch.lap("unchanged_rerun"):
            rerun = service.start_run(rt, NAME, kind="manual", full=True)
        out["unchanged_rerun_counts"] = {k: v for k, v in rerun.counts.items() if v}
        trust.change(page_size, state.parent)
        with deadline(timeout, "delta_run"), watch.lap("delta_run"):
            delta = service.start_run(rt, NAME, kind="manual")
            if delta.status == "on_hold":
                out["delta_held"] = delta.held
                delta = service.approve(rt, NAME)
        out["delta_counts"] = {k: v for k, v in delta.counts.items() if v}
    except PhaseTimeout as exc:
        phase = str(exc).split(" ", 1)[0]
        watch.laps.pop(phase, None)
        missing[phase] = str(exc)
    out["fetches"] = mis.fetched
    return out


# --- main ----------------------------------------------------------------------------------


def _store_url(arg: str | None, folder: Path) -> str:
    return arg or f"sqlite:///{folder / 'bench.sqlite'}"


MEDIAN_KEYS = (
    "floor_a_s", "floor_b_s", "floor_a_records_per_s", "floor_b_records_per_s",
    "staging_s", "staging_records_per_s", "commit_s", "commit_rows_per_s",
    "unchanged_rerun_s", "unchanged_rerun_records_per_s", "delta_run_s",
    "delta_to_full_ratio", "floor_ratio", "validate_floor_ratio",
)  # fmt: skip
"""Figures reported as the median of ``--repeat`` measurements (each one is kept in
``repeats``); peak RSS is the maximum."""


def measure(
    args: argparse.Namespace, trust: Trust, pages: dict[str, Path], folder: Path
) -> dict[str, Any]:
    """One measurement on a fresh store: floors, validator figures, engine phases."""
    from connectkit.store.engine import make_engine
    from connectkit.store.tables import metadata

    figures: dict[str, Any] = {}
    missing: dict[str, str] = {}
    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(_store_url(args.store, folder))
    track_sqlite(engine)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    floor_a = run_floor(engine, pages, validate=False)
    floor_b = run_floor(engine, pages, validate=True)
    figures["floor_a_s"] = round(floor_a, 3)
    figures["floor_b_s"] = round(floor_b, 3)
    figures["floor_a_records_per_s"] = per_second(args.people, floor_a)
    figures["floor_b_records_per_s"] = per_second(args.people, floor_b)
    figures["validator"] = validator_figures(pages, min(args.validator_sample, args.people))
    engine_out: dict[str, Any] = {}
    if args.skip_engine:
        missing["engine"] = "--skip-engine given"
    else:
        engine_out = engine_figures(
            engine, trust, pages, args.page_size, folder / "state", args.phase_timeout,
            import_worker=not args.in_process,
        )  # fmt: skip
        missing.update(engine_out.pop("missing", {}))
    laps = engine_out.get("laps_s", {})
    staging, commit = laps.get("staging"), laps.get("commit")
    full = staging + commit if staging is not None and commit is not None else None
    figures["staging_s"] = staging
    figures["staging_records_per_s"] = per_second(args.people, staging)
    figures["commit_s"] = commit
    figures["commit_rows_per_s"] = per_second(engine_out.get("rows_committed", 0), commit)
    figures["unchanged_rerun_s"] = laps.get("unchanged_rerun")
    figures["unchanged_rerun_records_per_s"] = per_second(
        args.people, laps.get("unchanged_rerun")
    )
    figures["delta_run_s"] = laps.get("delta_run")
    figures["delta_to_full_ratio"] = ratio(laps.get("delta_run"), full)
    figures["floor_ratio"] = ratio(full, floor_a)
    figures["validate_floor_ratio"] = ratio(full, floor_b)
    figures["engine"] = {k: v for k, v in engine_out.items() if k != "laps_s"} | {
        "laps_s": laps
    }
    figures["store"] = engine.dialect.name
    figures["missing"] = missing
    engine.dispose()
    return figures


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first measurement's details with :data:`MEDIAN_KEYS` as medians over all."""
    figures = dict(runs[0])
    for key in MEDIAN_KEYS:
        values = [r[key] for r in runs if r.get(key) is not None]
        figures[key] = round(statistics.median(values), 4) if values else None
    if len(runs) > 1:
        figures["repeats"] = [{k: r.get(k) for k in MEDIAN_KEYS} for r in runs]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=200, help="Wonde per_page (default 200)")
    parser.add_argument("--store", help="store URL (default: a scratch SQLite file)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--validator-sample", type=int, default=20_000)
    parser.add_argument("--phase-timeout", type=int, default=900,
                        help="seconds an engine phase may take before it is reported missing")
    parser.add_argument("--skip-engine", action="store_true", help="floors and validator only")
    parser.add_argument("--in-process", action="store_true",
                        help="import in this process only (no import worker; the CLI's "
                             "choice on a one-CPU machine)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure N times on fresh stores; report medians (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)  # fmt: skip

    folder = Path(tempfile.mkdtemp(prefix="ck-bench-"))
    figures: dict[str, Any] = {"people": args.people}
    try:
        trust = Trust(args.people, args.seed, valid_mobile_prefixes())
        start = time.perf_counter()
        pages = write_pages(trust, folder, args.page_size)
        figures["generate_s"] = round(time.perf_counter() - start, 3)
        runs = []
        for number in range(max(1, args.repeat)):
            trust.reset()
            runs.append(measure(args, trust, pages, folder / f"run-{number + 1}"))
        figures |= combine(runs)
        figures["peak_rss_mb"] = peak_rss_mb()
        figures["worker_peak_rss_mb"] = children_peak_rss_mb()
        figures["machine"] = machine()
    finally:
        if args.keep:
            print(f"scratch folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    missing: dict[str, str] = figures.setdefault("missing", {})
    for key in REQUIRED_KEYS:
        if figures.get(key) is None and key not in missing:
            missing[key] = "not measured in this run"
    emit(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
