"""PostgreSQL restarted under the app: a throwaway cluster of the test's own
(tests/faults/own_postgres.py), a real gunicorn web process with persistent connections and
a real worker, and the cluster restarted hard (`pg_ctl stop -m immediate`, then start) while
they run. The next request is answered (the kept connection is checked before reuse, then
replaced), a request that was in flight when the server went away gets the error page and
its retry succeeds, and the worker goes on: an email queued after the restart is delivered
exactly once (aiosmtpd) without restarting the worker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.backup.support import PROJECT, app_env, manage, shell
from tests.faults.own_postgres import OwnPostgres
from tests.faults.processes import start_worker, stop_worker
from tests.notifications.conftest import RecordingHandler, SmtpServer


@pytest.fixture(scope="module")
def own_postgres():
    server = OwnPostgres().init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def app_database(own_postgres, tmp_path_factory):
    url = own_postgres.create_database("studiocrm_fault")
    data = tmp_path_factory.mktemp("pgapp")
    manage(app_env(url, data), "migrate", "--noinput", "-v", "0")
    return url, data


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - ours
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def web(app_database):
    url, data = app_database
    port = _free_port()
    env = app_env(url, data, DATABASE_CONN_MAX_AGE="600", WEB_CONCURRENCY="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "--threads", "2"],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get(f"{base}/lead/", timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
    yield base
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_the_next_request_after_a_restart_is_answered(own_postgres, web):
    # Both threads answer, each keeping its connection.
    assert [get(f"{web}/lead/") for _ in range(4)] == [200] * 4
    own_postgres.restart()
    # Every kept connection is dead now; each request still gets its page.
    assert [get(f"{web}/lead/") for _ in range(4)] == [200] * 4


def test_a_request_in_flight_when_the_server_goes_away_fails_once_and_its_retry_works(
    own_postgres, web
):
    assert get(f"{web}/lead/") == 200
    own_postgres.stop("immediate")
    results = []
    thread = threading.Thread(target=lambda: results.append(get(f"{web}/lead/")))
    thread.start()
    time.sleep(1.0)
    own_postgres.start()
    thread.join(60)
    # With the database away the request could not be answered: the error page, not a hang.
    assert results == [500]
    assert get(f"{web}/lead/") == 200


def test_the_worker_survives_a_restart_and_delivers_once(own_postgres, app_database):
    url, data = app_database
    smtp = SmtpServer()
    smtp.start()
    env = app_env(
        url,
        data,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        OUTBOX_SWEEP_SECONDS="1",
        DATABASE_CONN_MAX_AGE="600",
    )
    queue = (
        "from django.db import transaction\n"
        "from studiocrm.notifications.outbox import queue_email\n"
        "with transaction.atomic():\n"
        "    queue_email(to='client@example.test', subject='{subject}', body='Hello',"
        " dedupe_key='fault:pg:{subject}')\n"
    )
    worker = start_worker(env)
    try:
        shell(env, queue.format(subject="before"))
        assert len(smtp.wait_for(1, timeout=60)) == 1
        own_postgres.restart()
        time.sleep(3)  # the worker polls a dead connection meanwhile
        assert worker.poll() is None, "the worker died with the database"
        shell(env, queue.format(subject="after"))
        received = smtp.wait_for(2, timeout=90)
        time.sleep(3)  # further sweeps send nothing more
        received = smtp.received
    finally:
        err = stop_worker(worker)
        smtp.stop()
    # If the letter after the restart does not leave, the worker's log and the server's say
    # when each side went away and came back.
    server_log = own_postgres.log.read_text()[-2000:] if own_postgres.log.exists() else ""
    assert sorted(message["Subject"] for message in received) == ["after", "before"], (
        f"worker:\n{err[-8000:]}\nserver:\n{server_log}"
    )


class HoldAtData(RecordingHandler):
    """Holds the first message after receiving it, before answering 250, until released."""

    def __init__(self):
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if not self.holding.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def test_a_restart_during_a_delivery_still_sends_the_email_once(own_postgres, app_database):
    """The database restarts while the SMTP server holds a message; the server then accepts
    it. The worker waits for the database to record the message as sent, so the sweeper does
    not send it a second time when the claim expires."""
    url, data = app_database
    smtp = SmtpServer()
    smtp.handler = HoldAtData()
    smtp.start()
    env = app_env(
        url,
        data,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        EMAIL_TIMEOUT="60",
        OUTBOX_SWEEP_SECONDS="1",
        OUTBOX_CLAIM_SECONDS="3",
        DATABASE_CONN_MAX_AGE="600",
    )
    worker = start_worker(env)
    try:
        shell(
            env,
            "from django.db import transaction\n"
            "from studiocrm.notifications.outbox import queue_email\n"
            "with transaction.atomic():\n"
            "    queue_email(to='client@example.test', subject='Held', body='Hello',"
            " dedupe_key='fault:pg:held')\n",
        )
        assert smtp.handler.holding.wait(60), "the worker never sent"
        own_postgres.restart()
        smtp.handler.release.set()
        smtp.wait_for(1, timeout=30)
        time.sleep(10)  # past the claim (3 s) and several sweeps (1 s)
        received = smtp.received
        status = shell(
            env,
            "from studiocrm.notifications.models import Outbox; "
            "print(Outbox.objects.get(dedupe_key='fault:pg:held').status)",
        ).stdout.split()[-1]
    finally:
        err = stop_worker(worker)
        smtp.stop()
    assert [message["Subject"] for message in received] == ["Held"], err[-3000:]
    assert status == "sent"
