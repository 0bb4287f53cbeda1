"""54-FZ receipts with YooKassa payments: the request the official SDK sends to the stand-in
YooKassa API (which checks, as YooKassa does, that the items add up to the amount) carries
the ``receipt`` object the studio's settings call for. Amounts and quantities are asserted
as the SDK writes them on the wire (strings)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from studiocrm.billing import payments, services
from studiocrm.billing.forms import ProviderAccountForm
from studiocrm.billing.models import Payment
from studiocrm.billing.providers import get_provider
from studiocrm.billing.services import LineInput, studio_today
from studiocrm.core.models import Studio
from tests.billing.conftest import start_online

pytestmark = pytest.mark.django_db


def issue(deal, manager, *lines: tuple[str, str, str], tax_mode="no_vat", vat_rate="0"):
    invoice = services.create_invoice(
        deal,
        lines=[
            LineInput(text, Decimal(quantity), Decimal(price)) for text, quantity, price in lines
        ],
        actor=manager,
        tax_mode=tax_mode,
        vat_rate=Decimal(vat_rate),
    )
    services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    return invoice


def sent_receipt(standin) -> dict:
    (body,) = standin.received
    return body["receipt"]


def set_options(account, **options: str) -> None:
    account.options = {**account.options, **options}
    account.save()


def test_the_receipt_lists_each_line_for_the_client_by_default(
    deal, manager, yookassa_account, yookassa_standin
):
    invoice = issue(deal, manager, ("Дизайн", "1", "600"), ("Вёрстка, страниц", "4", "100"))

    start_online(invoice, "yookassa")

    assert sent_receipt(yookassa_standin) == {
        "customer": {
            "email": "buyer@client.test",
            "inn": "7709876543",
            "full_name": "ООО «Ромашка»",
        },
        "items": [
            {
                "description": "Дизайн",
                "quantity": "1.0",
                "amount": {"value": "600.00", "currency": "RUB"},
                "vat_code": 1,
                "payment_subject": "service",
                "payment_mode": "full_prepayment",
            },
            {
                "description": "Вёрстка, страниц",
                "quantity": "4.0",
                "amount": {"value": "100.00", "currency": "RUB"},
                "vat_code": 1,
                "payment_subject": "service",
                "payment_mode": "full_prepayment",
            },
        ],
    }


def test_the_studio_sets_tax_system_subject_and_payment_method(
    deal, manager, yookassa_account, yookassa_standin
):
    set_options(
        yookassa_account, tax_system_code="2", payment_subject="job", payment_mode="full_payment"
    )
    invoice = issue(deal, manager, ("Сайт", "1", "1000"))

    start_online(invoice, "yookassa")

    receipt = sent_receipt(yookassa_standin)
    assert receipt["tax_system_code"] == 2
    assert {(item["payment_subject"], item["payment_mode"]) for item in receipt["items"]} == {
        ("job", "full_payment")
    }


def test_vat_on_top_is_in_each_items_price_at_the_prepayment_rate(
    deal, manager, yookassa_account, yookassa_standin
):
    invoice = issue(
        deal, manager, ("Дизайн", "1", "1000"), ("Тексты", "1", "500"),
        tax_mode=Studio.TaxMode.VAT_ON_TOP, vat_rate="20",
    )  # fmt: skip
    assert invoice.total == Decimal("1800.00")

    start_online(invoice, "yookassa")

    items = sent_receipt(yookassa_standin)["items"]
    assert [(item["amount"]["value"], item["vat_code"]) for item in items] == [
        ("1200.00", 6),  # 20/120: VAT on a payment before the work is handed over
        ("600.00", 6),
    ]


@pytest.mark.parametrize(
    ("mode", "code"), [("full_payment", 11), ("full_prepayment", 12), ("advance", 12)]
)
def test_vat_22_percent_gets_its_code(
    deal, manager, yookassa_account, yookassa_standin, mode, code
):
    set_options(yookassa_account, payment_mode=mode)
    invoice = issue(
        deal, manager, ("Сайт", "1", "12200"), tax_mode=Studio.TaxMode.VAT_INCLUDED, vat_rate="22"
    )

    start_online(invoice, "yookassa")

    assert [item["vat_code"] for item in sent_receipt(yookassa_standin)["items"]] == [code]


def test_a_vat_code_fixed_in_settings_is_used_for_every_line(
    deal, manager, yookassa_account, yookassa_standin
):
    set_options(yookassa_account, vat_code="7")
    invoice = issue(deal, manager, ("Сайт", "1", "1000"), ("Логотип", "1", "300"))

    start_online(invoice, "yookassa")

    assert {item["vat_code"] for item in sent_receipt(yookassa_standin)["items"]} == {7}


def test_a_partial_payments_receipt_adds_up_to_what_is_paid(
    deal, manager, yookassa_account, yookassa_standin
):
    invoice = issue(deal, manager, ("Дизайн", "3", "200"), ("Вёрстка", "1", "400"))
    payments.record_manual_payment(
        invoice, amount=Decimal("333.33"), received_on=studio_today(), actor=manager
    )

    start_online(invoice, "yookassa")

    body = yookassa_standin.received[0]
    assert body["amount"] == {"value": "666.67", "currency": "RUB"}
    items = body["receipt"]["items"]
    assert [(item["quantity"], item["amount"]["value"]) for item in items] == [
        ("1.0", "400.00"),
        ("1.0", "266.67"),
    ]


def test_a_client_with_only_a_phone_gets_the_receipt_by_sms(
    deal, manager, yookassa_account, yookassa_standin
):
    contact = deal.contact
    contact.email = ""
    contact.phone = "+7 (916) 123-45-67"
    contact.phone_normalized = "+79161234567"
    contact.save()
    invoice = issue(deal, manager, ("Сайт", "1", "1000"))

    start_online(invoice, "yookassa")

    assert sent_receipt(yookassa_standin)["customer"]["phone"] == "79161234567"


def test_without_an_email_or_phone_yookassa_is_not_offered(
    deal, manager, yookassa_account, yookassa_standin
):
    contact = deal.contact
    contact.email = ""
    contact.save()
    invoice = issue(deal, manager, ("Сайт", "1", "1000"))
    invoice.buyer = {**invoice.buyer, "email": ""}
    invoice.save(update_fields=["buyer"])

    assert not get_provider("yookassa").accepts(invoice)
    with pytest.raises(payments.PaymentUnavailable):
        start_online(invoice, "yookassa")
    assert yookassa_standin.received == []
    assert not Payment.objects.exists()


def test_with_receipts_off_no_receipt_is_sent(deal, manager, yookassa_account, yookassa_standin):
    set_options(yookassa_account, receipts="off")
    invoice = issue(deal, manager, ("Сайт", "1", "1000"))

    start_online(invoice, "yookassa")

    assert "receipt" not in yookassa_standin.received[0]


def test_the_owner_sets_the_receipt_up_in_payment_settings(owner, yookassa_account):
    provider = get_provider("yookassa")
    form = ProviderAccountForm(
        {
            "yookassa-enabled": "on",
            "yookassa-account_id": "100500",
            "yookassa-receipts": "on",
            "yookassa-tax_system_code": "2",
            "yookassa-vat_code": "auto",
            "yookassa-payment_subject": "service",
            "yookassa-payment_mode": "full_prepayment",
        },
        provider=provider,
    )
    assert form.is_valid(), form.errors

    services.save_provider_account(provider.account, form.changes(), actor=owner)

    yookassa_account.refresh_from_db()
    assert yookassa_account.options == {
        "receipts": "on",
        "tax_system_code": "2",
        "vat_code": "auto",
        "payment_subject": "service",
        "payment_mode": "full_prepayment",
    }
    assert yookassa_account.secret_key  # the stored secret is kept
