"""The background worker: the django-tasks database worker plus the periodic jobs.

`make run` starts one beside the web server, so reminders and retries need no cron.
Run as many as you like; every periodic job is idempotent.

Tasks and periodic jobs run in the studio's time zone, as requests do (core.studio_zone).
While the database is away every job fails on every round: each failure is logged with its
traceback once, then one line a minute while it goes on failing the same way, and a line
when it works again (FailureLog), instead of a traceback per job per round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.module_loading import import_string

from studiocrm.core.studio_zone import leave_task_zones, studio_time_zone

log = logging.getLogger("studiocrm.worker")
# Seconds between attempts to reach a database that went away.
RECONNECT = 2
# A failure that repeats (the same job, the same kind of error) is logged in one short line
# at most this often after its first traceback.
REPEAT_LOG_SECONDS = 60.0
# A task loop that ran this long before failing had reached its database: its next failure
# is a new one, logged with a traceback again.
WORKED_SECONDS = 30.0


@dataclass
class _Failing:
    kind: str
    since: float
    told: float
    count: int = 1


class FailureLog:
    """Logs the failures of named pieces of work without flooding: the first failure of a
    kind with its traceback, then while the same work keeps failing with the same kind of
    error a short line at most every ``every`` seconds, and "recovered" once it works."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, every: float = REPEAT_LOG_SECONDS
    ) -> None:
        self.clock = clock
        self.every = every
        self.failing: dict[str, _Failing] = {}

    def failed(self, name: str, error: BaseException) -> None:
        now = self.clock()
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        state = self.failing.get(name)
        if state is None or state.kind != kind:
            self.failing[name] = _Failing(kind=kind, since=now, told=now)
            log.error("%s failed", name, exc_info=error)
            return
        state.count += 1
        if now - state.told >= self.every:
            state.told = now
            first_line = next(iter(str(error).strip().splitlines()), "")[:200]
            log.error(
                "%s still failing: %s: %s (%d times in %.0f s)",
                name,
                type(error).__name__,
                first_line,
                state.count,
                now - state.since,
            )

    def succeeded(self, name: str) -> None:
        state = self.failing.pop(name, None)
        if state is not None:
            log.warning(
                "%s recovered after %d failures in %.0f s",
                name,
                state.count,
                self.clock() - state.since,
            )

    def forget(self, name: str) -> None:
        """The work went well in between, without a chance to say so: start afresh."""
        self.failing.pop(name, None)


class PeriodicJobs:
    """settings.PERIODIC_JOBS: each job runs when its interval has passed since its last
    start, in the studio's time zone."""

    def __init__(
        self,
        entries: list[tuple[str, int]],
        clock: Callable[[], float] = time.monotonic,
        failures: FailureLog | None = None,
    ) -> None:
        self.jobs = [(import_string(path), path, seconds) for path, seconds in entries]
        self.next_run = dict.fromkeys((path for _job, path, _s in self.jobs), 0.0)
        self.clock = clock
        self.failures = failures or FailureLog(clock)

    def run_due(self) -> None:
        now = self.clock()
        for job, path, seconds in self.jobs:
            if now < self.next_run[path]:
                continue
            self.next_run[path] = now + seconds
            name = f"periodic job {path}"
            try:
                with studio_time_zone():
                    result = job()
                self.failures.succeeded(name)
                if result:
                    log.info("%s: %s", path, result)
            except Exception as error:
                self.failures.failed(name, error)
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
        failures = FailureLog()
        name = f"the task worker (database unavailable; it retries every {RECONNECT} s)"
        try:
            while True:
                started = time.monotonic()
                try:
                    call_command("db_worker", interval=1.0, reload=False)
                    break
                except (OperationalError, InterfaceError) as error:
                    # The database went away (restarted, failed over): wait and go on with
                    # new connections instead of leaving the studio without a worker.
                    if time.monotonic() - started > WORKED_SECONDS:
                        failures.forget(name)
                    failures.failed(name, error)
                    # A task cut off there never finished: give its time zone back.
                    leave_task_zones()
                    connections.close_all()
                    time.sleep(RECONNECT)
        finally:
            stop.set()
