"""Notification channels: how an outbox message leaves the building.

A channel is a small class named in ``settings.NOTIFICATION_CHANNELS`` (name → dotted
path), imported on first use. The outbox owns queueing, claiming, retries and dedupe; a
channel only sends one message. See docs/extending.md.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from studiocrm.notifications.models import Outbox


class DeliveryError(Exception):
    """A failed send; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel:
    """Base class of a notification channel."""

    #: The name stored in ``Outbox.channel`` and used as the key in the setting.
    name: str = ""

    def send(self, message: Outbox) -> None:
        """Deliver one message now.

        Called by a worker after it has claimed the row, outside any transaction. Return
        normally only when the message has really been handed over. On failure raise
        ``DeliveryError(permanent=...)``: temporary errors are retried with backoff,
        permanent ones stop and show on the deal. Must not touch the Outbox row (the
        outbox records the result) and must not queue other messages.
        """
        raise DeliveryError(f"channel {self.name!r} cannot send", permanent=True)


@cache
def get_channel(name: str) -> Channel:
    """The channel instance for a name; an unknown name is a permanent delivery error."""
    path = settings.NOTIFICATION_CHANNELS.get(name)
    if path is None:
        raise DeliveryError(f"unknown notification channel {name!r}", permanent=True)
    return import_string(path)()
