"""The background worker: the django-tasks database worker plus the periodic jobs.

`make run` starts one beside the web server, so reminders and retries need no cron.
Run as many as you like; every periodic job is idempotent.

Tasks and periodic jobs run in the studio's time zone, as requests do (core.studio_zone).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.module_loading import import_string

from studiocrm.core.studio_zone import leave_task_zones, studio_time_zone

log = logging.getLogger("studiocrm.worker")
# Seconds between attempts to reach a database that went away.
RECONNECT = 2


class PeriodicJobs:
    """settings.PERIODIC_JOBS: each job runs when its interval has passed since its last
    start, in the studio's time zone."""

    def __init__(
        self,
        entries: list[tuple[str, int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs = [(import_string(path), path, seconds) for path, seconds in entries]
        self.next_run = dict.fromkeys((path for _job, path, _s in self.jobs), 0.0)
        self.clock = clock

    def run_due(self) -> None:
        now = self.clock()
        for job, path, seconds in self.jobs:
            if now < self.next_run[path]:
                continue
            self.next_run[path] = now + seconds
            try:
                with studio_time_zone():
                    result = job()
                if result:
                    log.info("%s: %s", path, result)
            except Exception:
                log.exception("periodic job %s failed", path)
            finally:
                close_old_connections()


def run_periodic(stop: threading.Event) -> None:
    jobs = PeriodicJobs(settings.PERIODIC_JOBS)
    while not stop.is_set():
        jobs.run_due()
        stop.wait(1.0)


class Command(BaseCommand):
    help = "Run background tasks and periodic jobs (outbox sweep, reminders)."

    def add_arguments(self, parser: object) -> None:
        parser.add_argument("--no-periodic", action="store_true")  # type: ignore[attr-defined]

    def handle(self, *args: object, **options: object) -> None:
        stop = threading.Event()
        if not options["no_periodic"]:
            threading.Thread(target=run_periodic, args=(stop,), daemon=True).start()
        try:
            while True:
                try:
                    call_command("db_worker", interval=1.0, reload=False)
                    break
                except (OperationalError, InterfaceError):
                    # The database went away (restarted, failed over): wait and go on with
                    # new connections instead of leaving the studio without a worker.
                    log.exception("database unavailable; the worker retries in %ss", RECONNECT)
                    # A task cut off there never finished: give its time zone back.
                    leave_task_zones()
                    connections.close_all()
                    time.sleep(RECONNECT)
        finally:
            stop.set()
