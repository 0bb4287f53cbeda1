"""What managers get: the bell for client actions (count polled by htmx), Telegram through
the channel registry (against a stand-in Bot API on 127.0.0.1), the morning digest at 8:00
in each manager's time zone, idle deals marked on the board."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefTemplate
from studiocrm.deals.models import Deal
from studiocrm.flow import digest
from studiocrm.flow.models import ManagerChannels, Notification
from studiocrm.notifications import outbox
from studiocrm.notifications.models import Outbox
from tests.briefs.conftest import fill_required
from tests.factories import ContactFactory, DealFactory, TaskFactory

pytestmark = pytest.mark.django_db


class BotApi:
    """A stand-in for the Telegram Bot API: records sendMessage calls, answers like Telegram
    (or with the status it is told to)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.status = 200
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.calls.append((self.path, body))
                answer = {"ok": api.status == 200, "result": {"message_id": len(api.calls)}}
                payload = json.dumps(answer).encode()
                self.send_response(api.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_api(settings):
    api = BotApi()
    settings.TELEGRAM_API_URL = api.url
    settings.TELEGRAM_BOT_TOKEN = "123:test-token"
    yield api
    api.stop()


@pytest.fixture
def sent_brief(studio, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    deal = DealFactory(manager=manager, client=contact.client, contact=contact, title="Пекарня")
    template = BriefTemplate.objects.get(default_key="corporate", language="ru")
    return brief_services.send_brief(deal, template, actor=manager)


def test_a_submitted_brief_rings_the_managers_bell_and_the_count_updates(
    sent_brief, manager, manager_client
):
    assert "bell-count" not in manager_client.get("/automation/bell/").content.decode()
    brief_services.submit_brief(fill_required(sent_brief))
    [bell] = Notification.objects.filter(user=manager)
    assert bell.text == "The client submitted the brief: Пекарня" or bell.text.startswith(
        "Клиент отправил бриф"
    )
    count = manager_client.get("/automation/bell/").content.decode()
    assert '<span class="bell-count">1</span>' in count
    page = manager_client.get("/deals/").content.decode()
    assert 'hx-get="/automation/bell/"' in page and 'hx-trigger="load, every 30s"' in page
    manager_client.post("/automation/notifications/")
    assert "bell-count" not in manager_client.get("/automation/bell/").content.decode()


def test_a_manager_with_a_chat_id_also_gets_telegram(sent_brief, manager, bot_api):
    ManagerChannels.objects.create(user=manager, telegram_chat_id="424242")
    brief_services.submit_brief(fill_required(sent_brief))
    message = Outbox.objects.get(channel="telegram")
    assert outbox.deliver(message.pk) == "sent"
    [(path, body)] = bot_api.calls
    assert path == "/bot123:test-token/sendMessage"
    assert body["chat_id"] == "424242"
    assert "Пекарня" in body["text"] and f"/deals/{sent_brief.deal_id}/" in body["text"]


def test_telegram_flood_control_is_retried_and_a_blocked_bot_is_not(sent_brief, manager, bot_api):
    ManagerChannels.objects.create(user=manager, telegram_chat_id="424242")
    brief_services.submit_brief(fill_required(sent_brief))
    message = Outbox.objects.get(channel="telegram")
    bot_api.status = 429
    assert outbox.deliver(message.pk) == "retry"
    Outbox.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    bot_api.status = 403
    assert outbox.deliver(message.pk) == "failed"


def test_the_morning_digest_arrives_once_at_eight_in_the_managers_time_zone(
    studio, manager, migration_data
):
    ManagerChannels.objects.create(user=manager, time_zone="Asia/Vladivostok")
    vladivostok = ZoneInfo("Asia/Vladivostok")
    deal = DealFactory(manager=manager, title="Тихая сделка")
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=timezone.now() - timedelta(days=10))
    morning = datetime(2027, 3, 2, 7, 50, tzinfo=vladivostok)
    TaskFactory(assignee=manager, deal=deal, title="Позвонить", due_at=morning + timedelta(hours=3))

    assert digest.send_digests(morning) == 0
    assert digest.send_digests(morning + timedelta(minutes=15)) == 1
    assert digest.send_digests(morning + timedelta(hours=2)) == 0  # one a day
    [mail] = Outbox.objects.filter(dedupe_key__startswith=f"digest:{manager.pk}:")
    assert "Позвонить" in mail.body and "Тихая сделка" in mail.body


def test_an_idle_deal_is_marked_on_the_board(studio, manager, manager_client, migration_data):
    quiet = DealFactory(manager=manager, title="Тихая")
    DealFactory(manager=manager, title="Живая")
    Deal.objects.filter(pk=quiet.pk).update(stage_changed_at=timezone.now() - timedelta(days=9))
    page = manager_client.get("/deals/").content.decode()
    assert page.count('class="badge warn"') == 1
    assert "9" in page.split('class="badge warn"')[1][:80]
