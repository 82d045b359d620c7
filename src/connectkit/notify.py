"""The notification-channel protocol plugins contribute (``connectkit_notification_channels``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to tell people something (email, SMS …).

    ``name`` is how the config enables the channel; ``send`` delivers one message to the
    given recipients and raises :class:`connectkit.errors.RetryLaterError` on a transient
    failure. Implementations must never put a secret in the message or the exception.
    """

    name: str

    def send(self, subject: str, body: str, recipients: Sequence[str]) -> None: ...
