"""In a real browser: a manager creates an API token on their own page and sees it once;
an owner adds a webhook and reads its delivery log; both pages fit a phone in Russian.
``E2E_SCREENSHOTS=1`` keeps screenshots in test-artifacts/integrations/."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from studiocrm.api.models import ApiToken
from studiocrm.deals import services as deal_services
from studiocrm.webhooks import delivery
from studiocrm.webhooks.models import Subscription
from tests.conftest import logged_in
from tests.factories import DealFactory
from tests.webhooks.test_webhooks import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        folder = Path("test-artifacts/integrations")
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def open_as(browser, live_server, user, path, **options):
    page = browser.new_page(**options)
    session = logged_in(user).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page.goto(live_server.url + path)
    return page


def test_manager_creates_a_token_and_sees_it_once(live_server, browser, manager):
    page = open_as(browser, live_server, manager, "/studio/profile/")
    page.click("text=API tokens")
    page.fill("#id_name", "Zapier")
    page.check("input[value=write]")
    page.click("button:has-text('Create token')")
    value = page.locator("#new-token").input_value()
    token = ApiToken.objects.get(user=manager)
    assert value.startswith(f"scrm_{token.prefix}_") and token.scope == "write"
    shot(page, "01-token-created")
    page.reload()
    assert page.locator("#new-token").count() == 0
    assert page.locator("td", has_text="Zapier").count() == 1
    page.click("button:has-text('Revoke')")
    assert page.locator(".badge", has_text="revoked").count() == 1
    page.close()


def test_owner_adds_a_webhook_and_reads_the_log(live_server, browser, owner, manager):
    receiver = Receiver()
    try:
        page = open_as(
            browser, live_server, owner, "/webhooks/", viewport={"width": 1280, "height": 900}
        )
        page.fill("#id_url", receiver.url)
        page.check("input[value='deal.stage_changed']")
        page.fill("#id_description", "ERP")
        page.click("button:has-text('Add webhook')")
        secret = page.locator("#new-secret").input_value()
        assert secret == Subscription.objects.get().secret
        shot(page, "02-webhook-added")
        receiver.secret = secret
        deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
        delivery.deliver_due()
        assert len(receiver.received) == 1
        page.click(f"text={receiver.url}")
        assert page.locator("td code", has_text="deal.stage_changed").count() == 1
        assert page.locator(".badge.ok", has_text="204").count() == 1
        shot(page, "03-delivery-log")
        page.close()

        owner.language = "ru"
        owner.save(update_fields=["language"])
        phone = open_as(
            browser,
            live_server,
            owner,
            f"/webhooks/{Subscription.objects.get().pk}/",
            viewport={"width": 390, "height": 800},
            locale="ru-RU",
        )
        assert phone.locator("h3", has_text="Журнал доставки").count() == 1
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        shot(phone, "04-delivery-log-phone-ru")
        phone.close()
    finally:
        receiver.stop()


def test_interactive_docs_load_without_a_cdn_or_csp_errors(live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on(
        "request",
        lambda request: (
            problems.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/deals").first).to_be_visible()
    shot(page, "05-api-docs")
    assert problems == []
    page.close()
