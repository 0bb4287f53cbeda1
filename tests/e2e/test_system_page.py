"""Settings → System in Chromium: the owner sees a running worker green and a dead one red,
on a desktop and on a phone, in English and Russian, with no script or policy errors.

Screenshots: E2E_SCREENSHOTS=1 → test-artifacts/system/.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from studiocrm.ops import heartbeat
from studiocrm.ops.models import WorkerHeartbeat
from tests.conftest import logged_in
from tests.ops.conftest import no_goodbye_at_exit  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_goodbye_at_exit"),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "system"


@pytest.mark.parametrize(
    ("language", "viewport", "running", "dead"),
    [
        ("en", {"width": 1280, "height": 900}, "running", "not responding"),
        ("ru", {"width": 390, "height": 844}, "работает", "не отвечает"),
    ],
)
def test_the_owner_sees_which_worker_stopped(
    live_server, browser, owner, language, viewport, running, dead
):
    owner.language = language
    owner.save()
    heartbeat.beat()  # this process: a running worker
    WorkerHeartbeat.objects.create(
        worker_id="worker-2:4242",
        host="worker-2",
        pid=4242,
        started_at=timezone.now() - timedelta(hours=3),
        seen_at=timezone.now() - timedelta(minutes=7),
    )
    context = browser.new_context(viewport=viewport, locale=f"{language}-RU")
    session = logged_in(owner).cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/studio/system/")

    rows = page.locator("#workers tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.worker-running .badge.ok")).to_have_text(running)
    expect(page.locator("tr.worker-dead .badge.danger")).to_have_text(dead)
    expect(page.locator("tr.worker-dead")).to_contain_text("4242")
    expect(page.locator('nav.tabs a[aria-current="page"]')).to_have_count(1)
    # The email telling the owner about worker-2 waits for a worker (this test runs none).
    expect(page.locator("#outbox-backlog")).to_contain_text("1 (")
    # Nothing wider than the phone's screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"system-{language}.png"), full_page=True)
    assert errors == []
    # Opening the page reported the dead worker to the owner, once.
    assert WorkerHeartbeat.objects.get(pid=4242).alerted_at is not None
    context.close()
