"""A real SMTP server on 127.0.0.1 for outbox tests, and Django pointed at it.

The server is aiosmtpd running in its own thread. It records every message it accepts and
can be told to refuse given recipients with a temporary (451) or permanent (550) reply, or
be stopped and started again on the same port to play a mail server that is down.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from django_tasks import default_task_backend

TEMPORARY = "451 4.3.0 Mailbox temporarily unavailable, try again later"
PERMANENT = "550 5.1.1 No such user here"


@dataclass
class RecordingHandler:
    """Accepts mail, records it, and refuses the recipients it is told to refuse."""

    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        with self.lock:
            self.received.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """One port, a server that can go down and come back up on it."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def is_up(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        # The port may linger for a moment after a stop; keep trying briefly.
        deadline = time.monotonic() + 5
        while True:
            try:
                controller.start()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str, reply: str) -> None:
        self.handler.refuse[address.lower()] = reply

    def accept(self, address: str) -> None:
        self.handler.refuse.pop(address.lower(), None)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (for tests with a worker thread)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server on 127.0.0.1 and Django's SMTP backend pointed at it."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Studio <crm@studio.test>"
    yield server
    server.stop()


@pytest.fixture
def task_backend():
    """The dummy task backend, emptied: tests read what was enqueued from `.results`."""
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()
