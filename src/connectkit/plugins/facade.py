"""The typed facade: the only code in connectkit that touches ``pm.hook``.

:class:`Hooks` wraps a plugin manager. It enumerates connectors (plugins implementing
``connectkit_connector_info``), calls the broadcast hooks, and hands out a
:class:`Connector` bound to one plugin. A :class:`Connector` calls connector operations
through ``pm.subset_hook_caller`` restricted to that one plugin, so an integration is
served by exactly one connector even when several are installed, and checks the
connector's declared capabilities before calling anything.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import pluggy

from connectkit.context import ConnectorContext
from connectkit.errors import HookContractError, NotSupportedError
from connectkit.models import (
    AccessStatus,
    AttendanceCode,
    AttendanceMark,
    ConnectorInfo,
    MISDeletion,
    MISGroup,
    MISPhoto,
    PeoplePage,
    Role,
    SchoolInfo,
    WriteBackKind,
    WriteBackReceipt,
)
from connectkit.notify import NotificationChannel
from connectkit.reports import RunReport


class Connector:
    """Connector operations of one plugin, typed, capability-checked."""

    def __init__(self, pm: pluggy.PluginManager, plugin: object, info: ConnectorInfo) -> None:
        self._pm = pm
        self._plugin = plugin
        self.info = info
        self._others = [p for p in pm.get_plugins() if p is not plugin]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def plugin_name(self) -> str:
        """The name the serving plugin registered under (its entry-point name)."""
        return str(self._pm.get_name(self._plugin))

    def _call(self, hook: str, **kwargs: Any) -> Any:
        caller = self._pm.subset_hook_caller(hook, remove_plugins=self._others)
        result = caller(**kwargs)
        if result is None:
            raise NotSupportedError(f"connector {self.name!r} does not implement {hook}")
        return result

    def _require(self, flag: bool, what: str) -> None:
        if not flag:
            raise NotSupportedError(f"connector {self.name!r} does not support {what}")

    def config_schema(self) -> dict[str, Any]:
        schema = self._call("connectkit_config_schema")
        if not isinstance(schema, dict):
            raise HookContractError(self.name, "connectkit_config_schema must return a dict")
        return cast(dict[str, Any], schema)

    def check_credentials(self, ctx: ConnectorContext) -> SchoolInfo:
        return cast(SchoolInfo, self._call("connectkit_check_credentials", ctx=ctx))

    def request_access(
        self, ctx: ConnectorContext, contacts: Sequence[dict[str, str]] = ()
    ) -> AccessStatus:
        self._require(self.info.capabilities.request_access, "requesting access")
        return cast(
            AccessStatus, self._call("connectkit_request_access", ctx=ctx, contacts=contacts)
        )

    def check_access(self, ctx: ConnectorContext) -> AccessStatus:
        return cast(AccessStatus, self._call("connectkit_check_access", ctx=ctx))

    def fetch_groups(self, ctx: ConnectorContext) -> Iterator[MISGroup]:
        return cast(Iterator[MISGroup], self._call("connectkit_fetch_groups", ctx=ctx))

    def fetch_people(
        self,
        ctx: ConnectorContext,
        role: Role,
        since: datetime | None = None,
        cursor: str | None = None,
    ) -> Iterator[PeoplePage]:
        if since is not None:
            self._require(self.info.capabilities.delta, "changed-since fetches")
        return cast(
            Iterator[PeoplePage],
            self._call("connectkit_fetch_people", ctx=ctx, role=role, since=since, cursor=cursor),
        )

    def fetch_deletions(
        self, ctx: ConnectorContext, since: datetime | None = None
    ) -> Iterator[MISDeletion]:
        self._require(self.info.capabilities.deletions_feed, "a deletions feed")
        return cast(
            Iterator[MISDeletion], self._call("connectkit_fetch_deletions", ctx=ctx, since=since)
        )

    def fetch_attendance_codes(self, ctx: ConnectorContext) -> Iterator[AttendanceCode]:
        self._require(self.info.capabilities.attendance_codes, "attendance codes")
        return cast(
            Iterator[AttendanceCode], self._call("connectkit_fetch_attendance_codes", ctx=ctx)
        )

    def fetch_photos(
        self, ctx: ConnectorContext, known_hashes: dict[str, str]
    ) -> Iterator[MISPhoto]:
        self._require(self.info.capabilities.photos, "photos")
        return cast(
            Iterator[MISPhoto],
            self._call("connectkit_fetch_photos", ctx=ctx, known_hashes=known_hashes),
        )

    def write_back(
        self, ctx: ConnectorContext, marks: Sequence[AttendanceMark]
    ) -> Sequence[WriteBackReceipt]:
        for kind in {mark.kind for mark in marks}:
            self._require(kind in self.info.capabilities.writeback, f"{kind} write-back")
        return cast(
            Sequence[WriteBackReceipt], self._call("connectkit_write_back", ctx=ctx, marks=marks)
        )

    def write_back_status(
        self, ctx: ConnectorContext, receipt: WriteBackReceipt
    ) -> WriteBackReceipt:
        self._require(bool(self.info.capabilities.writeback), "write-back")
        return cast(
            WriteBackReceipt, self._call("connectkit_write_back_status", ctx=ctx, receipt=receipt)
        )

    def supports_writeback(self, kind: WriteBackKind) -> bool:
        return kind in self.info.capabilities.writeback


class Hooks:
    """Typed access to every hook of one plugin manager."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    @cached_property
    def _connectors(self) -> dict[str, Connector]:
        found: dict[str, Connector] = {}
        for impl in self.pm.hook.connectkit_connector_info.get_hookimpls():
            info = impl.function()
            if not isinstance(info, ConnectorInfo):
                raise HookContractError(
                    impl.plugin_name, "connectkit_connector_info must return ConnectorInfo"
                )
            if info.name in found:
                raise HookContractError(impl.plugin_name, f"connector name {info.name!r} is taken")
            found[info.name] = Connector(self.pm, impl.plugin, info)
        return found

    def connectors(self) -> dict[str, Connector]:
        """Every installed connector by name."""
        return dict(self._connectors)

    def connector(self, name: str) -> Connector:
        """The connector called ``name``; raises NotSupportedError naming the installed ones."""
        try:
            return self._connectors[name]
        except KeyError:
            known = ", ".join(sorted(self._connectors)) or "none"
            raise NotSupportedError(
                f"no connector named {name!r} is installed (installed: {known})"
            ) from None

    def adjust_record(
        self, integration: str, role: Role, mis_id: str, fields: MutableMapping[str, str | None]
    ) -> None:
        self.pm.hook.connectkit_adjust_record(
            integration=integration, role=role, mis_id=mis_id, fields=fields
        )

    def has_record_adjusters(self) -> bool:
        """True when some plugin implements ``connectkit_adjust_record`` (skip the call if not)."""
        return bool(self.pm.hook.connectkit_adjust_record.get_hookimpls())

    def run_finished(self, report: RunReport) -> None:
        self.pm.hook.connectkit_run_finished(report=report)

    def notification_channels(self) -> dict[str, NotificationChannel]:
        channels: dict[str, NotificationChannel] = {}
        for batch in self.pm.hook.connectkit_notification_channels():
            for channel in batch:
                channels[channel.name] = channel
        return channels
