"""The worker (core/management/commands/worker.py): tasks and periodic jobs run in the studio's
time zone, as requests do, and leave the zone they found; a job that keeps failing is logged
with one traceback, then a short line a minute, then a line when it recovers."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from studiocrm.core import studio_zone
from studiocrm.core.management.commands.worker import FailureLog, PeriodicJobs
from studiocrm.core.models import Studio

# 21:30 UTC on 31 December: already 1 January of the next year in Moscow (UTC+3).
LATE_EVENING_UTC = "2026-12-31T21:30:00+00:00"
MOSCOW_NEW_YEAR = date(2027, 1, 1)


def _seen() -> dict[str, str]:
    return {
        "zone": timezone.get_current_timezone_name(),
        "today": timezone.localdate().isoformat(),
    }


@task()
def record_zone() -> dict[str, str]:
    return _seen()


@task()
def fail_in_zone() -> None:
    raise RuntimeError(f"failed in {timezone.get_current_timezone_name()}")


seen_by_job: list[dict[str, str]] = []


def record_zone_job() -> None:
    seen_by_job.append(_seen())


def _run_queued_tasks() -> None:
    """What `manage.py worker` does with queued tasks: django-tasks-db's worker loop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    """The worker closes connections left outside autocommit after each task and job; inside
    a test's transaction that would close the test's own connection on PostgreSQL."""
    from studiocrm.core.management.commands import worker

    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def fresh_reports(monkeypatch):
    """Each test sees the first report of a bad zone name (they are logged once a process)."""
    monkeypatch.setattr(studio_zone, "_reported", set())


def _active_zone_name() -> str | None:
    """The zone activated in this thread, None when none is (settings.TIME_ZONE applies)."""
    active = getattr(timezone._active, "value", None)
    return None if active is None else str(active)


# --- tasks ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_task_in_the_worker_runs_in_the_studio_time_zone(studio, database_tasks):
    result = record_zone.enqueue()

    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        _run_queued_tasks()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL", row.traceback
    assert row.return_value == {"zone": "Europe/Moscow", "today": MOSCOW_NEW_YEAR.isoformat()}
    # The worker's thread has no zone left active afterwards.
    assert _active_zone_name() is None


@pytest.mark.django_db
def test_a_task_runs_in_the_zone_set_in_the_studio_settings(studio, database_tasks):
    studio.time_zone = "Asia/Vladivostok"
    studio.save()
    result = record_zone.enqueue()

    with time_machine.travel("2026-06-30T14:30:00+00:00", tick=False):
        _run_queued_tasks()

    assert DBTaskResult.objects.get(pk=result.id).return_value == {
        "zone": "Asia/Vladivostok",
        "today": "2026-07-01",
    }


@pytest.mark.django_db
def test_a_failing_task_runs_in_the_studio_zone_and_leaves_none_behind(studio, database_tasks):
    result = fail_in_zone.enqueue()

    _run_queued_tasks()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert "failed in Europe/Moscow" in row.traceback
    assert _active_zone_name() is None


@pytest.mark.django_db
def test_a_task_run_inline_gives_back_the_zone_that_was_active(studio, settings):
    """The immediate backend runs a task inside the request (or task) that enqueued it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        with timezone.override("America/New_York"):
            result = record_zone.enqueue()
            assert timezone.get_current_timezone_name() == "America/New_York"
        assert _active_zone_name() is None
        outside = record_zone.enqueue()

    assert result.return_value == {"zone": "Europe/Moscow", "today": "2027-01-01"}
    assert outside.return_value == result.return_value
    assert _active_zone_name() is None


@pytest.mark.django_db
def test_the_studio_zone_costs_one_query_and_none_inside_a_request(
    studio, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert str(studio_zone.studio_zone()) == "Europe/Moscow"

    token = studio_zone._current_studio.set(studio)
    try:
        with django_assert_num_queries(0):
            assert str(studio_zone.studio_zone()) == "Europe/Moscow"
    finally:
        studio_zone._current_studio.reset(token)


@pytest.mark.django_db
def test_without_a_studio_row_the_default_zone_applies_and_nothing_is_written():
    Studio.objects.all().delete()

    assert str(studio_zone.studio_zone()) == "Europe/Moscow"
    assert not Studio.objects.exists()


@pytest.mark.django_db
def test_an_unknown_zone_falls_back_to_the_server_zone_and_is_logged_once(
    studio, database_tasks, fresh_reports, caplog, settings
):
    Studio.objects.filter(pk=studio.pk).update(time_zone="Mars/Olympus_Mons")
    first, second = record_zone.enqueue(), record_zone.enqueue()

    with caplog.at_level(logging.ERROR, logger="studiocrm.core.studio_zone"):
        _run_queued_tasks()

    for result in (first, second):
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == "SUCCESSFUL", row.traceback
        assert row.return_value["zone"] == settings.TIME_ZONE
    reports = [r for r in caplog.records if r.name == "studiocrm.core.studio_zone"]
    assert len(reports) == 1
    assert "Mars/Olympus_Mons" in reports[0].getMessage()


def test_a_task_that_never_finished_gives_its_zone_back(studio):
    """The worker lost the database while recording a result: task_finished never came."""

    class Started:
        id = "cut-off"

    studio_zone.enter_task_zone(None, Started())
    assert timezone.get_current_timezone_name() == "Europe/Moscow"

    studio_zone.leave_task_zones()

    assert _active_zone_name() is None


# --- periodic jobs ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_periodic_job_runs_in_the_studio_time_zone(studio):
    seen_by_job.clear()
    jobs = PeriodicJobs([("tests.core.test_worker.record_zone_job", 60)])

    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        jobs.run_due()
        assert timezone.localdate() == date(2026, 12, 31)  # the server's zone again

    assert seen_by_job == [{"zone": "Europe/Moscow", "today": MOSCOW_NEW_YEAR.isoformat()}]
    assert _active_zone_name() is None


@pytest.mark.django_db
def test_a_periodic_job_gives_back_the_zone_that_was_active(studio):
    seen_by_job.clear()
    jobs = PeriodicJobs([("tests.core.test_worker.record_zone_job", 60)])

    with timezone.override("Asia/Tokyo"):
        jobs.run_due()
        assert timezone.get_current_timezone_name() == "Asia/Tokyo"

    assert [seen["zone"] for seen in seen_by_job] == ["Europe/Moscow"]


# --- failures while the database is away ------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


failures_left = {"count": 0, "error": OperationalError}


def flaky_job() -> str:
    if failures_left["count"]:
        failures_left["count"] -= 1
        raise failures_left["error"]("connection to server at 127.0.0.1 failed\nIs it running?")
    return ""


def _worker_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "studiocrm.worker"]


@pytest.mark.django_db
def test_a_job_failing_every_second_logs_one_traceback_then_a_line_a_minute_then_recovery(
    studio, caplog
):
    clock = Clock()
    failures_left.update(count=150, error=OperationalError)
    jobs = PeriodicJobs(
        [("tests.core.test_worker.flaky_job", 1)], clock=clock, failures=FailureLog(clock)
    )

    with caplog.at_level(logging.INFO, logger="studiocrm.worker"):
        for _second in range(160):  # 150 failures, then it works again
            jobs.run_due()
            clock.now += 1

    lines = _worker_lines(caplog)
    with_traceback = [r for r in lines if r.exc_info]
    assert len(with_traceback) == 1
    assert "periodic job tests.core.test_worker.flaky_job failed" in lines[0].getMessage()
    repeats = [r.getMessage() for r in lines if "still failing" in r.getMessage()]
    assert len(repeats) == 2  # at 60 s and 120 s
    assert repeats[0] == (
        "periodic job tests.core.test_worker.flaky_job still failing: OperationalError: "
        "connection to server at 127.0.0.1 failed (61 times in 60 s)"
    )
    recovered = [r.getMessage() for r in lines if "recovered" in r.getMessage()]
    assert recovered == [
        "periodic job tests.core.test_worker.flaky_job recovered after 150 failures in 150 s"
    ]
    assert len(lines) == 4
    # Every line after the first is short.
    assert all(len(r.getMessage()) < 300 and not r.exc_info for r in lines[1:])


def test_a_different_error_gets_its_own_traceback_and_a_new_failure_after_recovery_too(caplog):
    clock = Clock()
    log = FailureLog(clock)

    with caplog.at_level(logging.INFO, logger="studiocrm.worker"):
        log.failed("job", OperationalError("database is away"))
        log.failed("job", OperationalError("database is away"))
        log.failed("job", ValueError("bad row"))
        log.succeeded("job")
        log.succeeded("job")  # no news while it keeps working
        log.failed("job", OperationalError("database is away"))

    lines = _worker_lines(caplog)
    assert [bool(r.exc_info) for r in lines] == [True, True, False, True]
    assert "recovered after 1 failures" in lines[2].getMessage()


@pytest.mark.django_db
def test_a_job_that_fails_keeps_its_schedule(studio):
    clock = Clock()
    failures_left.update(count=3, error=RuntimeError)
    calls = []
    jobs = PeriodicJobs(
        [("tests.core.test_worker.flaky_job", 10)], clock=clock, failures=FailureLog(clock)
    )
    jobs.jobs = [(lambda: calls.append(clock.now) or flaky_job(), *jobs.jobs[0][1:])]

    for _second in range(35):
        jobs.run_due()
        clock.now += 1

    assert calls == [1000.0, 1010.0, 1020.0, 1030.0]


def test_the_task_loop_without_its_database_logs_one_traceback(monkeypatch, caplog):
    """`manage.py worker` retries the task loop every RECONNECT seconds while the database is
    away; each retry fails the same way and is not another traceback."""
    from studiocrm.core.management.commands import worker

    attempts = {"left": 40}

    def db_worker(*args, **kwargs):
        if attempts["left"]:
            attempts["left"] -= 1
            raise OperationalError("connection refused")

    monkeypatch.setattr(worker, "call_command", db_worker)
    monkeypatch.setattr(worker.time, "sleep", lambda seconds: None)

    with caplog.at_level(logging.INFO, logger="studiocrm.worker"):
        worker.Command().handle(no_periodic=True)

    lines = _worker_lines(caplog)
    assert len(lines) == 1
    assert lines[0].exc_info
    assert "database unavailable" in lines[0].getMessage()
