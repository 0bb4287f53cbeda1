"""The studio's time zone for work done outside a request: background tasks and the worker's
periodic jobs.

A request runs with the studio's zone active (core.middleware.StudioTimezoneMiddleware); a
task or a periodic job would otherwise run in settings.TIME_ZONE (UTC), and between 21:00
and 24:00 UTC `timezone.localdate()` there is yesterday in Moscow — a document issued then
is dated, and a contract numbered, in the wrong day or year. ``studio_time_zone()`` activates
the studio's zone around one piece of work and restores what was active before (a task run
inline in a request leaves the request's zone as it was).

Every task of every backend is wrapped through django-tasks' ``task_started`` and
``task_finished`` signals (connected in core.apps); the worker wraps each periodic job."""

from __future__ import annotations

import logging
import threading
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.local import Local
from django.conf import settings
from django.utils import timezone

from studiocrm.core.models import Studio, _current_studio

log = logging.getLogger(__name__)

# Zone names already reported as unknown: each is logged once per process, not per task.
_reported: set[str] = set()
_reported_lock = threading.Lock()


def studio_zone() -> zoneinfo.ZoneInfo:
    """The studio's time zone: the request's studio row when there is one, else one query
    for the field alone (no row yet: the field's default). A name zoneinfo does not know
    falls back to settings.TIME_ZONE, logged once: a bad row must not stop the worker."""
    studio = _current_studio.get()
    if studio is not None:
        name: Any = studio.time_zone
    else:
        name = Studio.objects.filter(pk=1).values_list("time_zone", flat=True).first()
        if name is None:
            name = Studio._meta.get_field("time_zone").get_default()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        with _reported_lock:
            first = str(name) not in _reported
            _reported.add(str(name))
        if first:
            log.error(
                "the studio's time zone %r is unknown; background work uses %s instead",
                name,
                settings.TIME_ZONE,
            )
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@contextmanager
def studio_time_zone() -> Iterator[None]:
    """Run the block in the studio's time zone; the zone active before (or none) comes back
    after it, whatever the block raised."""
    with timezone.override(studio_zone()):
        yield


# --- every task, whatever the backend --------------------------------------------------------
# The zone a task started in, by task result id, per thread (asgiref's Local, like Django's
# own active zone): a task run inline inside another task or a request nests, and a start
# whose finish never comes (the database went away while recording the result) is undone by
# leave_task_zones().
_entered = Local()


def _open() -> dict[str, timezone.override]:
    opened = getattr(_entered, "overrides", None)
    if opened is None:
        opened = _entered.overrides = {}
    return opened


def enter_task_zone(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """task_started: activate the studio's zone for this task."""
    override = timezone.override(studio_zone())
    override.__enter__()
    _open()[task_result.id] = override


def leave_task_zone(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """task_finished: give back the zone active before this task started."""
    override = _open().pop(task_result.id, None)
    if override is not None:
        override.__exit__(None, None, None)


def leave_task_zones() -> None:
    """Undo every task zone still open in this thread, the newest first."""
    opened = _open()
    while opened:
        _task_id, override = opened.popitem()
        override.__exit__(None, None, None)
