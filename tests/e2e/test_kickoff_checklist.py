"""After the deposit, in real Chromium: the kickoff letter reaches the client's mailbox (aiosmtpd
on 127.0.0.1), the client opens the link it carries on a phone and ticks what is ready, and
the manager's bell — on a page left open — rings without a reload once everything is ready;
the deal page shows each tick.

Screenshots: E2E_SCREENSHOTS=1 → test-artifacts/kickoff/.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from studiocrm.billing import payments
from studiocrm.billing import services as billing_services
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Event
from studiocrm.flow import rules
from studiocrm.flow.models import Checklist, Notification, Rule
from studiocrm.notifications import outbox
from tests.conftest import logged_in
from tests.e2e.sales_path_support import russian_studio
from tests.factories import ContactFactory
from tests.migration_data import restore_migration_data
from tests.notifications.conftest import smtp_server  # noqa: F401 - fixture used by name

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "kickoff"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> None:
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_client_ticks_the_kickoff_checklist_from_the_letter_and_the_bell_rings(
    live_server,
    browser,
    settings,
    manager,
    smtp_server,  # noqa: F811
):
    restore_migration_data()
    russian_studio()
    # The letter would wait for working hours (the suite may run at night or on a weekend).
    Rule.objects.filter(code="kickoff").update(quiet_hours=False)
    settings.BASE_URL = live_server.url
    contact = ContactFactory(name="Анна Петрова", email="anna@roga-kopyta.test")
    deal = deal_services.create_deal(
        title="Интернет-магазин", client=contact.client, contact=contact, actor=manager,
        manager=manager, currency="RUB",
    )  # fmt: skip
    invoice = billing_services.create_invoice(
        deal, lines=[billing_services.LineInput("Предоплата", 1, 60_000)], actor=manager
    )
    billing_services.issue_invoice(invoice, actor=manager, notify_client=False)
    invoice.refresh_from_db()
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=date.today(), actor=manager
    )
    rules.fire_due()  # the worker's periodic job: the kickoff rule is due at once
    outbox.deliver_due()  # and its delivery: the letters go to the SMTP server

    [kickoff] = [
        message
        for message in smtp_server.received
        if message["Subject"].strip().endswith("начинаем работу")
    ]
    assert kickoff["To"] == "anna@roga-kopyta.test"
    text = kickoff.get_body(("plain",)).get_content()
    [link] = re.findall(re.escape(live_server.url) + r"/c/k/[A-Za-z0-9_-]+/", text)

    desk_context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    session = logged_in(manager).cookies["sessionid"].value
    desk_context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    desk = desk_context.new_page()
    desk.goto(live_server.url + deal.get_absolute_url())
    expect(desk.locator("#kickoff-checklist")).to_contain_text("0 of 4 ready")
    unread = Notification.objects.filter(user=manager, read_at=None).count()  # "paid" rang
    expect(desk.locator(".bell-count")).to_have_text(str(unread))

    phone = browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True, has_touch=True)
    client = phone.new_page()
    client.goto(link)
    expect(client.locator("h1")).to_have_text("Что подготовить к старту")
    shot(client, "01-checklist")
    items = client.locator(".checklist-item")
    expect(items).to_have_count(4)
    for index in range(4):
        client.locator(".checklist-item .tick").nth(index).click()
        expect(items.nth(index).locator(".tick")).to_have_attribute("aria-pressed", "true")
    shot(client, "02-all-ready")
    checklist = Checklist.objects.get(deal=deal)
    assert checklist.completed_at is not None
    assert Event.objects.filter(deal=deal, name="checklist.ticked").count() == 4

    # The bell polls every 30 seconds: the open page updates without a reload.
    expect(desk.locator(".bell-count")).to_have_text(str(unread + 1), timeout=40_000)
    shot(desk, "03-bell")
    desk.reload()
    expect(desk.locator("#kickoff-checklist")).to_contain_text("4 of 4 ready")
    shot(desk, "04-deal-ticks")
    desk_context.close()
    phone.close()
