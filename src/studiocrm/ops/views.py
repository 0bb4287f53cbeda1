"""Settings → System: the workers and their heartbeats, the outbox and the task queue."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from studiocrm.core.permissions import owner_required
from studiocrm.ops import health
from studiocrm.ops.heartbeat import stale_after, watch
from studiocrm.ops.models import WorkerHeartbeat


@owner_required
def system(request: HttpRequest) -> HttpResponse:
    watch()  # a worker that died is reported even when no other worker is left to notice
    now = timezone.now()
    workers = []
    for heartbeat in WorkerHeartbeat.objects.all():
        if heartbeat.stopped_at:
            state = "stopped"
        elif heartbeat.seen_at < now - stale_after():
            state = "dead"
        else:
            state = "running"
        workers.append({"row": heartbeat, "state": state})
    backlog, outbox_age = health.outbox_figures(now)
    waiting, task_age = health.task_queue_figures(now)
    return render(
        request,
        "ops/system.html",
        {
            "workers": workers,
            "running": sum(1 for worker in workers if worker["state"] == "running"),
            "backlog": backlog,
            "outbox_age": int(outbox_age),
            "outbox_late": outbox_age > settings.OPS_OUTBOX_AGE_MAX_SECONDS
            or backlog > settings.OPS_OUTBOX_BACKLOG_MAX,
            "waiting": waiting,
            "task_age": int(task_age),
            "task_late": task_age > settings.OPS_TASK_AGE_MAX_SECONDS,
            "stale_seconds": settings.OPS_WORKER_STALE_SECONDS,
        },
    )
