"""Timers survive a real process restart: ``manage.py worker`` runs as a child process and is
killed with SIGKILL twice mid-way — once after it claimed a due timer but before it could fire
it, once in the middle of handing the letter to the SMTP server — and restarted each time.
The client's SMTP server (aiosmtpd on 127.0.0.1) receives the reminder exactly once.

The worker shares the test's PostgreSQL database (committed rows, a transactional test), so
this runs on PostgreSQL only. Claims last 2 seconds here (``*_CLAIM_SECONDS``) instead of five
minutes, so the next worker takes the dead one's work over without waiting.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction

from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Deal
from studiocrm.flow.models import Rule, Timer
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory
from tests.migration_data import restore_migration_data
from tests.notifications.conftest import RecordingHandler, SmtpServer

PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the worker process shares a PostgreSQL test db"
    ),
    pytest.mark.django_db(transaction=True),
]


class StallingHandler(RecordingHandler):
    """Accepts mail, except that the first message's DATA hangs until released (the worker
    is killed meanwhile) and is then refused: that delivery never completed."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.attempts += 1
        if self.attempts == 1:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Connection lost, not delivered"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.handler = StallingHandler()
    server.start()
    yield server
    server.handler.release.set()
    server.stop()


def _database_url() -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def _environment(smtp_port: int, workdir: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="studiocrm.settings",
        PYTHONPATH=str(PROJECT_DIR / "src"),
        DEBUG="false",
        SECRET_KEY="worker-restart-test-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        FIELD_ENCRYPTION_KEY="Yzk1ZjY0NjE0YjY0NDI0YTg4MWQ1ZjQyYzQ5ZDdhYjg=",
        ALLOWED_HOSTS="127.0.0.1",
        BASE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATA_DIR=str(workdir),
        DATABASE_URL=_database_url(),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        EMAIL_TIMEOUT="60",
        OUTBOX_SWEEP_SECONDS="1",
        AUTOMATION_SWEEP_SECONDS="1",
        OUTBOX_CLAIM_SECONDS="2",
        AUTOMATION_CLAIM_SECONDS="2",
        LOG_LEVEL="INFO",
    )
    return environment


class Worker:
    """``manage.py worker`` in its own process group, killed with SIGKILL like a crash."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(PROJECT_DIR / "manage.py"), "worker"],
                env=environment,
                cwd=PROJECT_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(condition: Callable[[], bool], what: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(
        f"timed out waiting for {what}; worker log:\n{log_path.read_text()[-3000:]}"
    )


def test_a_reminder_survives_two_worker_crashes_and_arrives_exactly_once(smtp, tmp_path):
    restore_migration_data()
    Rule.objects.create(
        code="restart-reminder", name="Reminder for the restart test", event="lead.received",
        action="email_client", template_key="kickoff", quiet_hours=False,
    )  # fmt: skip
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    deal = deal_services.create_deal(
        title="Сайт пекарни", client=contact.client, contact=contact, actor=None
    )
    timer = Timer.objects.get(rule__code="restart-reminder")  # due at once, a row in the db
    environment = _environment(smtp.port, tmp_path)
    log_path = tmp_path / "worker.log"
    workers: list[Worker] = []

    def state() -> str:
        return Timer.objects.filter(pk=timer.pk).values_list("status", flat=True).get()

    try:
        # 1. The worker claims the timer, then waits for the deal this test holds locked:
        #    killed there, between claiming and firing.
        with transaction.atomic():
            Deal.objects.select_for_update().get(pk=deal.pk)
            workers.append(Worker(environment, log_path))
            wait_for(lambda: state() == "running", "the first worker's claim", log_path)
            workers[-1].kill()
        assert not Outbox.objects.filter(deal=deal).exists()

        # 2. A new worker takes the dead one's claim over once it expires, fires the timer and
        #    starts delivering; killed while the SMTP server is still reading the letter.
        workers.append(Worker(environment, log_path))
        wait_for(smtp.handler.stalled.is_set, "the letter at the SMTP server", log_path)
        workers[-1].kill()
        smtp.handler.release.set()
        assert state() == "done"
        assert smtp.received == []

        # 3. The third worker finds the letter's claim expired and delivers it.
        workers.append(Worker(environment, log_path))
        wait_for(lambda: len(smtp.received) >= 1, "the delivered letter", log_path)
        time.sleep(5)  # more than two claim periods and sweeps: nothing else may arrive
    finally:
        for worker in workers:
            worker.stop()

    [letter] = smtp.received
    assert letter["To"] == "irina@client.test"
    assert letter["Subject"].strip().endswith(": начинаем работу")
    [row] = Outbox.objects.filter(dedupe_key=f"rule:restart-reminder:{timer.event_id}")
    assert row.status == "sent"
    assert smtp.handler.attempts == 2  # the interrupted delivery and the one that arrived
