"""Liveness, readiness, the worker heartbeat, the owner's System page and request ids."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from studiocrm.notifications.models import Outbox
from studiocrm.notifications.outbox import queue_email
from studiocrm.ops import heartbeat, logs
from studiocrm.ops.models import WorkerHeartbeat
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def readyz(client: Client, **headers: str) -> tuple[int, dict]:
    response = client.get("/readyz", **headers)
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def test_healthz_answers_without_the_database(anonymous_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anonymous_client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_probes_skip_the_host_check_and_the_https_redirect(settings):
    settings.ALLOWED_HOSTS = ["crm.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="web:8000")
    assert client.get("/healthz").status_code == 200
    assert client.get("/deals/").status_code == 400  # everything else still checks the host


def test_readyz_fails_without_a_worker_and_passes_once_one_beats(anonymous_client):
    status, body = readyz(anonymous_client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["workers"] == {"ok": False, "alive": 0, "stopped": 0}
    for name in ("database", "cache", "migrations", "outbox", "task_queue"):
        assert body["checks"][name]["ok"], name

    heartbeat.beat()
    status, body = readyz(anonymous_client)
    assert (status, body["status"]) == (200, "ok")
    assert body["checks"]["workers"]["alive"] == 1
    assert body["checks"]["migrations"] == {"ok": True, "unapplied": 0}
    assert body["checks"]["cache"] == {"ok": True, "configured": False}


def test_readyz_fails_on_an_old_outbox_backlog_and_a_late_task_queue(anonymous_client, settings):
    heartbeat.beat()
    settings.OPS_OUTBOX_AGE_MAX_SECONDS = 60
    settings.OPS_TASK_AGE_MAX_SECONDS = 60
    message = queue_email(to="a@b.test", subject="s", body="b", dedupe_key="ops-test")
    Outbox.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    status, body = readyz(anonymous_client)
    assert status == 503
    assert body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["outbox"]["backlog"] == 1
    assert body["checks"]["outbox"]["oldest_age_s"] >= 300
    Outbox.objects.all().delete()

    settings.OPS_OUTBOX_BACKLOG_MAX = 1
    for number in range(2):
        queue_email(to="a@b.test", subject="s", body="b", dedupe_key=f"ops-{number}")
    status, body = readyz(anonymous_client)
    assert (status, body["checks"]["outbox"]["backlog"]) == (503, 2)
    Outbox.objects.all().delete()

    # A task waiting longer than the limit (the tests' task backend does not write rows:
    # one is written as the database backend would).
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="studiocrm.notifications.outbox.deliver_outbox",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
        status="READY",
    )
    status, body = readyz(anonymous_client)
    assert (status, body["checks"]["task_queue"]["waiting"]) == (200, 1)
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=10)
    )
    status, body = readyz(anonymous_client)
    assert status == 503
    assert body["checks"]["task_queue"]["waiting"] == 1
    assert body["checks"]["task_queue"]["ok"] is False


def test_readyz_says_the_database_is_down_and_asks_nothing_else(anonymous_client, monkeypatch):
    def broken():
        raise connection.Database.OperationalError("gone")

    from studiocrm.ops import health

    monkeypatch.setitem(health.CHECKS, "database", broken)
    status, body = readyz(anonymous_client)
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["workers"] == {"ok": False, "error": "database unreachable"}
    assert "gone" not in json.dumps(body)  # no error text to strangers


def test_readyz_refuses_other_methods(anonymous_client):
    assert anonymous_client.post("/readyz").status_code in (403, 404, 405)


def test_a_worker_that_stops_beating_is_red_and_the_owner_is_told_once(
    owner, owner_client, manager, settings, django_capture_on_commit_callbacks
):
    settings.BASE_URL = "https://crm.example.com"
    heartbeat.beat()
    row = WorkerHeartbeat.objects.get()
    page = owner_client.get("/studio/system/").content.decode()
    assert "badge ok" in page and "not responding" not in page

    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert heartbeat.watch() == {"workers_reported": 1}
        assert heartbeat.watch() == {}  # once
    page = owner_client.get("/studio/system/").content.decode()
    assert 'class="badge danger">not responding' in page
    assert 'id="no-workers"' in page

    letters = Outbox.objects.filter(dedupe_key__startswith="worker-stopped:")
    assert [letter.to for letter in letters] == [owner.email]  # owners only, not managers
    letter = letters.get()
    assert row.worker_id in letter.subject
    assert "https://crm.example.com/studio/system/" in letter.body
    # No worker is left to deliver it: the process that noticed sent it.
    assert letter.status == Outbox.Status.SENT
    assert len(mail.outbox) == 1


def test_a_worker_that_stops_cleanly_is_grey_and_nobody_is_told(owner_client):
    heartbeat.beat()
    heartbeat.stopped(heartbeat.worker_id())
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    assert heartbeat.watch() == {}
    page = owner_client.get("/studio/system/").content.decode()
    assert '<span class="badge">stopped</span>' in page
    assert not Outbox.objects.exists()


def test_the_system_page_is_for_owners(manager_client, anonymous_client):
    assert manager_client.get("/studio/system/").status_code == 403
    assert anonymous_client.get("/studio/system/").status_code == 302


def test_the_system_page_in_russian(owner):
    owner.language = "ru"
    owner.save()
    heartbeat.beat()
    page = logged_in(owner).get("/studio/system/").content.decode()
    assert "Фоновые обработчики" in page
    assert "работает" in page


def test_request_ids_are_kept_from_the_proxy_or_made(anonymous_client):
    given = "3f6c2a1e-1b2c-4d5e-8f90-0123456789ab"
    assert anonymous_client.get("/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    made = anonymous_client.get("/login/")["X-Request-ID"]
    assert len(made) == 32
    # A hostile id (newline for log injection, or too long) is replaced.
    for hostile in ("abc\ninjected line", "x" * 500, "short"):
        answered = anonymous_client.get("/login/", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
        assert answered != hostile and len(answered) == 32


def test_json_logs_carry_the_request_and_the_user(manager, manager_client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContextFilter())
    logger = logging.getLogger("studiocrm.request")
    logger.addHandler(handler)
    try:
        manager_client.get("/deals/", HTTP_X_REQUEST_ID="req-12345678")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["level"] == "INFO"
    assert line["logger"] == "studiocrm.request"
    assert line["message"] == "GET /deals/ 200"
    assert line["request_id"] == "req-12345678"
    assert line["user_id"] == manager.pk
    assert (line["path"], line["status"], line["method"]) == ("/deals/", 200, "GET")
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_log_format_json_is_the_logging_setting():
    config = logs.logging_config("json", "INFO")
    assert config["formatters"]["default"] == {"()": "studiocrm.ops.logs.JsonFormatter"}
    text = logs.logging_config("text", "INFO")
    assert "%(request_id)s" in text["formatters"]["default"]["format"]
