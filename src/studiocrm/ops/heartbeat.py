"""The worker heartbeat and the watch on it.

``beat`` is a periodic job (settings.PERIODIC_JOBS): every worker process writes its row
every OPS_HEARTBEAT_SECONDS, and on a clean exit (SIGTERM, Ctrl+C) it writes ``stopped_at``.
``watch`` (a periodic job too, and run when the owner opens Settings → System) finds the
workers that stopped beating without saying so and tells each owner once by email through
the outbox. When no worker is left to deliver it, the process that noticed sends it.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio, User
from studiocrm.notifications.outbox import deliver, queue_email
from studiocrm.ops.models import WorkerHeartbeat

log = logging.getLogger(__name__)

# Rows of workers that stopped cleanly, or were reported, are kept this long on the page.
KEEP_STOPPED = timedelta(days=1)
KEEP_DEAD = timedelta(days=7)

_registered_exit: set[str] = set()


def worker_id() -> str:
    """This process's name on the System page: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def stale_after() -> timedelta:
    return timedelta(seconds=settings.OPS_WORKER_STALE_SECONDS)


def beat() -> None:
    """Write this worker's heartbeat (a periodic job of `manage.py worker`)."""
    name = worker_id()
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=name).update(seen_at=now, stopped_at=None)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=name,
            defaults={
                "host": socket.gethostname()[:200],
                "pid": os.getpid(),
                "started_at": now,
                "seen_at": now,
                "stopped_at": None,
            },
        )
    if name not in _registered_exit:
        _registered_exit.add(name)
        atexit.register(stopped, name)


def stopped(name: str) -> None:
    """A clean exit: the worker says goodbye, so nobody is told it died."""
    try:
        WorkerHeartbeat.objects.filter(worker_id=name).update(stopped_at=timezone.now())
    except Exception:  # the database may be gone at exit; the row then goes stale
        log.warning("could not record that worker %s stopped", name, exc_info=True)


def live_workers() -> int:
    cutoff = timezone.now() - stale_after()
    return WorkerHeartbeat.objects.filter(seen_at__gte=cutoff, stopped_at__isnull=True).count()


def watch() -> dict[str, int]:
    """Tell the owners, once per worker, about workers that stopped beating; prune old rows."""
    now = timezone.now()
    WorkerHeartbeat.objects.filter(stopped_at__lt=now - KEEP_STOPPED).delete()
    WorkerHeartbeat.objects.filter(seen_at__lt=now - KEEP_DEAD).delete()
    dead = WorkerHeartbeat.objects.filter(
        seen_at__lt=now - stale_after(), stopped_at__isnull=True, alerted_at__isnull=True
    )
    told = 0
    for heartbeat in dead:
        told += _alert(heartbeat)
    return {"workers_reported": told} if told else {}


def _alert(heartbeat: WorkerHeartbeat) -> int:
    owners = list(
        User.objects.filter(role=User.Role.OWNER, is_active=True).exclude(email="").order_by("pk")
    )
    queued = []
    with transaction.atomic():
        # The conditional update decides which process reports it: exactly one.
        claimed = WorkerHeartbeat.objects.filter(pk=heartbeat.pk, alerted_at__isnull=True).update(
            alerted_at=timezone.now()
        )
        if not claimed:
            return 0
        log.warning("worker %s stopped: last heartbeat %s", heartbeat.worker_id, heartbeat.seen_at)
        link = settings.BASE_URL + reverse("ops:system")
        seen = timezone.localtime(heartbeat.seen_at, ZoneInfo(Studio.load().time_zone))
        for owner in owners:
            with translation.override(owner.language or settings.LANGUAGE_CODE):
                subject = _("A background worker stopped: %(worker)s") % {
                    "worker": heartbeat.worker_id
                }
                body = _(
                    "The background worker %(worker)s has not reported since %(seen)s. "
                    "Emails, reminders and payment checks wait until a worker runs.\n\n"
                    "Workers and the queue: %(link)s"
                ) % {
                    "worker": heartbeat.worker_id,
                    "seen": formats.date_format(seen, "SHORT_DATETIME_FORMAT"),
                    "link": link,
                }
            message = queue_email(
                to=owner.email,
                subject=subject,
                body=body,
                dedupe_key=f"worker-stopped:{heartbeat.pk}:{owner.pk}",
            )
            queued.append(message.pk)
        if queued and not live_workers():
            # Nobody is left to deliver it: the process that noticed sends it itself.
            transaction.on_commit(lambda: [deliver(pk) for pk in queued])
    return 1
