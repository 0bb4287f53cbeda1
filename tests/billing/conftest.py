"""Billing fixtures: a studio with Russian legal and bank details, a signed deal, invoices,
and provider accounts pointed at stand-in servers on 127.0.0.1 (see standins.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django_tasks import default_task_backend
from django_tasks.base import TaskResultStatus

from studiocrm.billing import payments, services
from studiocrm.billing.models import Invoice, Payment, ProviderAccount
from studiocrm.billing.services import LineInput
from studiocrm.billing.tasks import process_event_task
from studiocrm.core.models import Studio
from studiocrm.deals.models import CONTRACT_SIGNED
from studiocrm.notifications.models import Outbox
from tests.billing.standins import StripeStandIn, YooKassaStandIn
from tests.factories import ClientFactory, ContactFactory, DealFactory
from tests.migration_data import restore_stages

STRIPE_KEY = "sk_test_standin_4242"
STRIPE_WEBHOOK_SECRET = "whsec_standin_secret"
YOOKASSA_SHOP = "100500"
YOOKASSA_SECRET = "test_standin_secret"

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and concurrent inserts need PostgreSQL; SQLite serialises every writer",
)


@pytest.fixture(autouse=True)
def empty_task_queue():
    """The dummy task backend holds what the webhook enqueued; each test starts empty."""
    default_task_backend.clear()
    yield
    default_task_backend.clear()


def run_event_tasks() -> list[str]:
    """Do what the worker would: run the webhook-event tasks queued in this thread so far
    (once each; a retry they schedule stays queued) and return their outcomes in order."""
    queued = [
        result
        for result in default_task_backend.results
        if result.task.name == process_event_task.name and result.status == TaskResultStatus.READY
    ]
    for result in queued:
        default_task_backend.results.remove(result)
    return [process_event_task.call(*result.args, **result.kwargs) for result in queued]


@pytest.fixture
def studio(db):
    studio = Studio.load()
    studio.name = "Test Studio"
    studio.legal_name = "ООО «Тест Студия»"
    studio.tax_id = "7701234567"
    studio.registration_number = "1027700000000"
    studio.address = "Москва, ул. Тверская, д. 1"
    studio.email = "hello@studio.test"
    studio.bank_name = "ПАО Сбербанк"
    studio.bank_account = "40702810900000000001"
    studio.bank_code = "044525225"
    studio.correspondent_account = "30101810400000000225"
    studio.locale = "ru"
    studio.time_zone = "Europe/Moscow"
    studio.tax_mode = Studio.TaxMode.NO_VAT
    studio.vat_rate = Decimal("0")
    studio.save()
    return studio


def ensure_stages() -> None:
    restore_stages()


@pytest.fixture
def deal(studio, manager):
    ensure_stages()
    client = ClientFactory(name="Ромашка", legal_name="ООО «Ромашка»", tax_id="7709876543")
    contact = ContactFactory(client=client, email="buyer@client.test")
    return DealFactory(
        client=client, contact=contact, manager=manager, stage_id=CONTRACT_SIGNED, currency="RUB"
    )


def euro_deal(deal, studio, *, iban: str = "DE89 3704 0044 0532 0130 00"):
    """Turn the rouble deal into a euro one, the studio banking with a German IBAN (or, with
    ``iban=""``, keeping its Russian account)."""
    if iban:
        studio.bank_account = iban
        studio.bank_code = "COBADEFFXXX"
        studio.legal_name = "Test Studio GmbH"
        studio.save()
    deal.currency = "EUR"
    deal.save()
    return deal


@pytest.fixture
def fresh_rate_limits():
    """Empty rate-limit counters before and after the test."""
    cache.clear()
    yield
    cache.clear()


def make_invoice(deal, actor, *amounts: str, issue: bool = True):
    lines = [
        LineInput(description=f"Work {index}", quantity=Decimal(1), unit_price=Decimal(amount))
        for index, amount in enumerate(amounts or ("1000.00",), start=1)
    ]
    invoice = services.create_invoice(deal, lines=lines, actor=actor)
    token = services.issue_invoice(invoice, actor=actor) if issue else None
    invoice.refresh_from_db()
    invoice.client_token = token
    return invoice


@pytest.fixture
def invoice(deal, manager):
    return make_invoice(deal, manager, "1000.00")


@pytest.fixture
def stripe_standin(settings):
    server = StripeStandIn(api_key=STRIPE_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET).start()
    settings.STRIPE_API_BASE = server.base_url
    yield server
    server.stop()


@pytest.fixture
def yookassa_standin(settings):
    server = YooKassaStandIn(shop_id=YOOKASSA_SHOP, secret_key=YOOKASSA_SECRET).start()
    settings.YOOKASSA_API_URL = server.api_url
    # The test client and live server requests come from here.
    settings.YOOKASSA_WEBHOOK_NETWORKS = ["127.0.0.1/32"]
    yield server
    server.stop()


@pytest.fixture
def stripe_account(db, stripe_standin):
    return ProviderAccount.objects.update_or_create(
        provider="stripe",
        defaults={
            "enabled": True,
            "secret_key": STRIPE_KEY,
            "webhook_secret": STRIPE_WEBHOOK_SECRET,
            # The tests' invoices are in roubles: this stand-in account says it takes them
            # (by default Stripe is not offered on rouble invoices).
            "options": {"currencies": "RUB EUR USD"},
        },
    )[0]


@pytest.fixture
def yookassa_account(db, yookassa_standin):
    return ProviderAccount.objects.update_or_create(
        provider="yookassa",
        defaults={"enabled": True, "account_id": YOOKASSA_SHOP, "secret_key": YOOKASSA_SECRET},
    )[0]


@pytest.fixture
def bank_transfer_account(db):
    return ProviderAccount.objects.update_or_create(
        provider="bank_transfer", defaults={"enabled": True}
    )[0]


def start_online(invoice: Invoice, provider: str) -> Payment:
    """The client presses Pay: a pending payment at the provider, with its redirect URL."""
    payment, result = payments.start_payment(
        invoice, provider, return_url=lambda p: f"http://testserver/return/{p.reference}"
    )
    payment.redirect_url = result.url
    return payment


def receipts(invoice: Invoice) -> int:
    """Receipt emails queued for the invoice's deal."""
    return Outbox.objects.filter(
        dedupe_key__startswith="billing-receipt:", deal=invoice.deal
    ).count()


def only_payment(invoice: Invoice) -> Payment:
    (payment,) = Payment.objects.filter(invoice=invoice)
    return payment
