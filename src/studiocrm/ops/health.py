"""Liveness and readiness: what a load balancer, Caddy or an orchestrator asks.

``/healthz`` answers 200 while the process can answer at all (no database). ``/readyz``
runs every check below and answers 200 when all pass, 503 otherwise, with a JSON body that
says which failed. Numbers only: nothing in it names a client or a deal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from studiocrm.notifications.models import Outbox
from studiocrm.ops.heartbeat import stale_after
from studiocrm.ops.models import WorkerHeartbeat

Check = Callable[[], dict[str, object]]

_migrated = False  # once every migration is applied, they stay applied for this process


def check_database() -> dict[str, object]:
    started = time.perf_counter()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def shared_cache() -> bool:
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


def check_cache() -> dict[str, object]:
    if not shared_cache():
        return {"ok": True, "configured": False}
    key = f"ops:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return {"ok": ok, "configured": True}


def check_migrations() -> dict[str, object]:
    global _migrated
    if not _migrated:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"ok": False, "unapplied": len(plan)}
        _migrated = True
    return {"ok": True, "unapplied": 0}


def _age(since: datetime | None, now: datetime) -> float:
    return round(max((now - since).total_seconds(), 0.0), 1) if since else 0.0


def check_workers() -> dict[str, object]:
    now = timezone.now()
    rows = WorkerHeartbeat.objects.filter(stopped_at__isnull=True)
    fresh = rows.filter(seen_at__gte=now - stale_after()).count()
    stale = rows.filter(seen_at__lt=now - stale_after()).count()
    newest = rows.order_by("-seen_at").values_list("seen_at", flat=True).first()
    result: dict[str, object] = {"ok": fresh > 0, "alive": fresh, "stopped": stale}
    if newest is not None:
        result["last_heartbeat_age_s"] = _age(newest, now)
    return result


def outbox_figures(now: datetime) -> tuple[int, float]:
    due = Outbox.objects.filter(
        status__in=[Outbox.Status.QUEUED, Outbox.Status.RETRY], next_attempt_at__lte=now
    )
    oldest = due.aggregate(oldest=Min("next_attempt_at"))["oldest"]
    return due.count(), _age(oldest, now)


def check_outbox() -> dict[str, object]:
    backlog, age = outbox_figures(timezone.now())
    ok = backlog <= settings.OPS_OUTBOX_BACKLOG_MAX and age <= settings.OPS_OUTBOX_AGE_MAX_SECONDS
    return {"ok": ok, "backlog": backlog, "oldest_age_s": age}


def task_queue_figures(now: datetime) -> tuple[int, float]:
    ready = DBTaskResult.objects.ready()
    count = ready.count()
    unscheduled = ready.filter(run_after=get_date_max()).aggregate(t=Min("enqueued_at"))["t"]
    scheduled = ready.exclude(run_after=get_date_max()).aggregate(t=Min("run_after"))["t"]
    oldest = min((t for t in (unscheduled, scheduled) if t is not None), default=None)
    return count, _age(oldest, now)


def check_task_queue() -> dict[str, object]:
    waiting, age = task_queue_figures(timezone.now())
    return {"ok": age <= settings.OPS_TASK_AGE_MAX_SECONDS, "waiting": waiting, "oldest_age_s": age}


CHECKS: dict[str, Check] = {
    "database": check_database,
    "cache": check_cache,
    "migrations": check_migrations,
    "workers": check_workers,
    "outbox": check_outbox,
    "task_queue": check_task_queue,
}
# These need the database: when it is down they are not asked.
NEEDS_DATABASE = {"migrations", "workers", "outbox", "task_queue"}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and not results["database"]["ok"]:
            results[name] = {"ok": False, "error": "database unreachable"}
            continue
        try:
            results[name] = check()
        except Exception as error:  # a check that cannot run has failed
            results[name] = {"ok": False, "error": type(error).__name__}
    return all(result["ok"] for result in results.values()), results
