"""The worker (`manage.py worker`, a separate process) killed with SIGKILL in the middle of
an outbox delivery and in the middle of a PDF render. After a new worker starts, the email
reaches the (real, aiosmtpd) SMTP server exactly once and the PDF exists once.

The delivery is killed while the SMTP server holds the session before accepting the message
(the worker waits for its reply to RCPT). If a worker died after the server's "250" and before
the row was marked sent, the message would go again — with the same Message-ID, so mail
clients show it once; that window is inherent to SMTP and documented in the outbox."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from tests.backup.support import app_env, shell
from tests.faults.processes import kill_worker, start_worker, stop_worker
from tests.notifications.conftest import RecordingHandler, SmtpServer


class StallingHandler(RecordingHandler):
    """Holds the first session at RCPT until released (the worker waits for the reply)."""

    def __init__(self):
        super().__init__()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def stalling_smtp():
    server = SmtpServer()
    server.handler = StallingHandler()
    server.start()
    yield server
    server.handler.release.set()
    server.stop()


def query(database, sql, *params):
    connection = sqlite3.connect(database, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def wait_until(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_leaves_the_email_to_be_sent_exactly_once(
    app_install, stalling_smtp
):
    url, database, data = app_install
    env = app_env(
        url,
        data,
        EMAIL_URL=f"smtp://127.0.0.1:{stalling_smtp.port}",
        EMAIL_TIMEOUT="60",
        OUTBOX_SWEEP_SECONDS="1",
        OUTBOX_CLAIM_SECONDS="3",
    )
    shell(
        env,
        "from django.db import transaction\n"
        "from studiocrm.notifications.outbox import queue_email\n"
        "with transaction.atomic():\n"
        "    queue_email(to='client@example.test', subject='Your invoice', body='Hello',"
        " dedupe_key='fault:kill:1')\n",
    )
    worker = start_worker(env)
    try:
        assert stalling_smtp.handler.stalled.wait(90), "the worker never started sending"
        status = query(database, "SELECT status FROM notifications_outbox")[0][0]
        assert status == "sending"
        kill_worker(worker)
    finally:
        stop_worker(worker)
    stalling_smtp.handler.release.set()
    time.sleep(0.5)
    assert stalling_smtp.received == []  # the killed session delivered nothing

    worker = start_worker(env)
    try:
        wait_until(
            lambda: query(database, "SELECT status FROM notifications_outbox")[0][0] == "sent",
            90,
            "the message was not sent again after the claim expired",
        )
        time.sleep(3)  # more sweeps: nothing more goes out
    finally:
        stop_worker(worker)
    received = stalling_smtp.received
    assert len(received) == 1
    outbox_id, attempts = query(database, "SELECT id, attempts FROM notifications_outbox")[0]
    assert received[0]["Message-ID"] == f"<outbox-{outbox_id}@studiocrm>"
    assert received[0]["Subject"] == "Your invoice"
    assert attempts == 1


def test_a_worker_killed_mid_render_leaves_one_pdf_after_a_restart(app_install):
    url, database, data = app_install
    env = app_env(url, data, OUTBOX_SWEEP_SECONDS="3600")
    printed = shell(
        env,
        "from django.db import transaction\n"
        "from studiocrm.core.models import User\n"
        "from studiocrm.documents import services\n"
        "from tests.factories import DealFactory\n"
        "manager = User.objects.create_user(\n"
        "    username='m', password='x-long-pass-1', role='manager')\n"
        "deal = DealFactory(manager=manager)\n"
        "html = ''.join(f'<h2>Section {n}</h2><p>{\"Terms. \" * 120}</p>' for n in range(150))\n"
        "with transaction.atomic():\n"
        "    document = services._new_document(deal, kind='proposal', language='en',"
        " title='Offer', actor=manager)\n"
        "    pdf = services.request_pdf(document, html=html, title='Offer')\n"
        "print(pdf.pk, document.pk)\n",
    )
    pdf_id, document_id = map(int, printed.stdout.split()[-2:])

    def render_running():
        rows = query(
            database,
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path LIKE ?",
            "%render_pdf%",
        )
        return rows and rows[0][0] == "RUNNING"

    worker = start_worker(env)
    try:
        wait_until(render_running, 90, "the worker never started the render")
        time.sleep(0.3)
        kill_worker(worker)
    finally:
        stop_worker(worker)
    status = query(database, "SELECT status, file FROM documents_pdffile")[0]
    assert status == ("pending", ""), "the render finished before the kill; make it longer"
    folder = data / "private" / "documents" / str(document_id)
    leftovers = [p.name for p in folder.iterdir()] if folder.exists() else []
    assert not [name for name in leftovers if not name.startswith(".partial-")]

    # A new worker; the PDF is asked for again after the retry interval (as the waiting page
    # does), and the new task prints it.
    worker = start_worker(env)
    try:
        shell(
            env,
            "import datetime, time_machine\n"
            "from django.utils import timezone\n"
            "from studiocrm.documents import services\n"
            "from studiocrm.documents.models import PdfFile\n"
            f"pdf = PdfFile.objects.get(pk={pdf_id})\n"
            "with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):\n"
            "    services.request_pdf(pdf.document, html=pdf.html, title=pdf.title)\n",
        )
        wait_until(
            lambda: query(database, "SELECT status FROM documents_pdffile")[0][0] == "ready",
            120,
            "the PDF was not printed after the restart",
        )
    finally:
        stop_worker(worker)
    (name,) = query(database, "SELECT file FROM documents_pdffile")[0]
    assert query(database, "SELECT COUNT(*) FROM documents_pdffile") == [(1,)]
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".partial-"))
    assert files == [name.rsplit("/", 1)[-1]]
    assert (data / "private" / name).read_bytes().startswith(b"%PDF")
