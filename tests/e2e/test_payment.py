"""A client opens the invoice link, pays by card and comes back to a page that tells the
truth: pending until the signed webhook arrives, then paid — in a real browser.

Stripe is a stand-in server on 127.0.0.1 (tests/billing/standins.py): the official SDK
talks to it, its one-button checkout page marks the session paid and then posts a signed
``checkout.session.completed`` webhook to the live server, as Stripe would.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from studiocrm.billing import payments, services
from studiocrm.billing.models import Invoice, Payment, ProviderAccount, ProviderEvent
from studiocrm.billing.services import LineInput
from studiocrm.deals.models import PAID
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, ensure_stages
from tests.billing.standins import StripeStandIn
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    yield page
    page.close()


@pytest.fixture
def stripe(settings, live_server):
    server = StripeStandIn(api_key=STRIPE_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET).start()
    server.webhook_url = f"{live_server.url}/c/pay/webhooks/stripe/"
    settings.STRIPE_API_BASE = server.base_url
    settings.BASE_URL = live_server.url
    ProviderAccount.objects.create(
        provider="stripe",
        enabled=True,
        secret_key=STRIPE_KEY,
        webhook_secret=STRIPE_WEBHOOK_SECRET,
        options={"currencies": "RUB"},  # the invoice below is in roubles
    )
    yield server
    server.stop()


def wait_for_stored_event(timeout: float = 15.0) -> ProviderEvent:
    """The stand-in posts the signed webhook a moment after the redirect back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = ProviderEvent.objects.filter(outcome="").first()
        if event is not None:
            return event
        time.sleep(0.2)
    raise AssertionError("the webhook never stored an event")


def test_client_pays_by_card_and_sees_pending_then_paid(
    live_server, browser_page, manager, stripe, monkeypatch
):
    monkeypatch.setattr("studiocrm.billing.payments.payment_schedule", lambda deal: [])
    ensure_stages()
    client = ClientFactory(name="Ромашка")
    deal = DealFactory(
        client=client,
        contact=ContactFactory(client=client, email="buyer@client.test"),
        manager=manager,
        stage_id="contract_signed",
    )
    invoice = services.create_invoice(
        deal,
        lines=[LineInput("Предоплата 50%", Decimal(1), Decimal("45000"))],
        actor=manager,
        language="ru",
    )
    token = services.issue_invoice(invoice, actor=manager)
    page = browser_page

    page.goto(f"{live_server.url}/c/pay/{token}/")
    page.get_by_role("button", name="Оплатить: Картой (Stripe)").click()
    page.wait_for_url(f"{stripe.base_url}/c/pay/cs_*")
    page.get_by_role("button", name="Pay now").click()

    page.wait_for_url(f"{live_server.url}/c/pay/{token}/paid/**")
    assert page.get_by_role("heading", name="Ждём подтверждения").is_visible()
    # The webhook only stores the event; the worker applies it. Be the worker.
    event = wait_for_stored_event()
    assert payments.process_stored_event(event.pk) == "applied"
    page.get_by_role("heading", name="Оплата получена").wait_for(timeout=15_000)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert Outbox.objects.filter(dedupe_key__startswith="billing-receipt:").count() == 1
    deal.refresh_from_db()
    assert deal.stage_id == PAID
