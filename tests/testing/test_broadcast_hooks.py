"""Broadcast hooks through the facade, next to the fake connector: every plugin is called."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime

import pluggy

from connectkit.hookspecs import hookimpl
from connectkit.models import Role
from connectkit.notify import NotificationChannel
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import register
from connectkit.reports import RunReport


class Outbox:
    """A notification channel that keeps what it was asked to send."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, str, tuple[str, ...]]] = []

    def send(self, subject: str, body: str, recipients: Sequence[str]) -> None:
        self.sent.append((subject, body, tuple(recipients)))


class Tidy:
    """Title-cases surnames and records finished runs."""

    def __init__(self) -> None:
        self.reports: list[RunReport] = []
        self.outbox = Outbox("outbox")

    @hookimpl
    def connectkit_adjust_record(
        self, integration: str, role: Role, mis_id: str, fields: MutableMapping[str, str | None]
    ) -> None:
        if fields.get("last_name"):
            fields["last_name"] = str(fields["last_name"]).title()

    @hookimpl
    def connectkit_run_finished(self, report: RunReport) -> None:
        self.reports.append(report)

    @hookimpl
    def connectkit_notification_channels(self) -> Sequence[NotificationChannel]:
        return [self.outbox]


class Blank:
    """Clears the phone of staff; contributes an SMS channel."""

    @hookimpl
    def connectkit_adjust_record(
        self, integration: str, role: Role, mis_id: str, fields: MutableMapping[str, str | None]
    ) -> None:
        if role == Role.STAFF:
            fields["phone"] = None

    @hookimpl
    def connectkit_notification_channels(self) -> Sequence[NotificationChannel]:
        return [Outbox("sms")]


def test_adjust_record_runs_every_plugin_in_place(
    connectkit_pm: pluggy.PluginManager, connectkit_hooks: Hooks
) -> None:
    assert not connectkit_hooks.has_record_adjusters()  # the fake alone adjusts nothing
    register(connectkit_pm, "tidy", Tidy())
    register(connectkit_pm, "blank", Blank())
    hooks = Hooks(connectkit_pm)
    assert hooks.has_record_adjusters()
    fields: dict[str, str | None] = {"last_name": "o'brien-SMITH", "phone": "+447700900123"}
    hooks.adjust_record("school-a", Role.STAFF, "T1", fields)  # connectkit_adjust_record
    assert fields == {"last_name": "O'Brien-Smith", "phone": None}
    student: dict[str, str | None] = {"last_name": "ZHANG", "phone": "+447700900124"}
    hooks.adjust_record("school-a", Role.STUDENT, "S1", student)
    assert student == {"last_name": "Zhang", "phone": "+447700900124"}


def test_run_finished_and_notification_channels(connectkit_pm: pluggy.PluginManager) -> None:
    tidy = Tidy()
    register(connectkit_pm, "tidy", tidy)
    register(connectkit_pm, "blank", Blank())
    hooks = Hooks(connectkit_pm)
    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    report = RunReport(
        integration="school-a",
        run_id=7,
        kind="manual",
        status="committed",
        started_at=at,
        finished_at=at,
        counts={"created": 3},
    )
    hooks.run_finished(report)  # connectkit_run_finished
    assert tidy.reports == [report]
    channels = hooks.notification_channels()  # connectkit_notification_channels
    assert sorted(channels) == ["outbox", "sms"]
    channels["outbox"].send("2 errors", "See Errors", ["office@example.sch.uk"])
    assert tidy.outbox.sent == [("2 errors", "See Errors", ("office@example.sch.uk",))]
