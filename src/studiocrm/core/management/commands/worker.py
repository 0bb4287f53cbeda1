"""The background worker: the django-tasks database worker plus the periodic jobs.

`make run` starts one beside the web server, so reminders and retries need no cron.
Run as many as you like; every periodic job is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.module_loading import import_string

log = logging.getLogger("studiocrm.worker")
# Seconds between attempts to reach a database that went away.
RECONNECT = 2


def run_periodic(stop: threading.Event) -> None:
    jobs = [(import_string(path), path, seconds) for path, seconds in settings.PERIODIC_JOBS]
    next_run = dict.fromkeys((path for _job, path, _s in jobs), 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for job, path, seconds in jobs:
            if now < next_run[path]:
                continue
            next_run[path] = now + seconds
            try:
                result = job()
                if result:
                    log.info("%s: %s", path, result)
            except Exception:
                log.exception("periodic job %s failed", path)
            finally:
                close_old_connections()
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
                    connections.close_all()
                    time.sleep(RECONNECT)
        finally:
            stop.set()
