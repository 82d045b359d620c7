"""A clock that tests move by hand (the one thing, with the environment, tests may mock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


class ManualClock:
    """Returns ``now`` (aware UTC) when called; only :meth:`tick` / :meth:`advance` move it.

    Pass it wherever connectkit takes a clock (``Runtime.clock``, ``FakeConnector``'s
    clock, a connector's injectable clock).
    """

    def __init__(
        self, start: datetime = DEFAULT_START, step: timedelta = timedelta(minutes=1)
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        return self.now

    def tick(self, steps: float = 1) -> datetime:
        """Move on by ``steps`` steps (default one); returns the new time."""
        self.now += self.step * steps
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)``; returns the new time."""
        self.now += timedelta(**delta)
        return self.now
