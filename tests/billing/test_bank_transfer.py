"""Paying by bank transfer: a page with its own URL (post-redirect-get), one pending note per
invoice however often the client presses the button, details to copy, and the payment code
to save or share."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment
from studiocrm.billing.services import studio_today
from tests.billing.conftest import make_invoice, on_postgresql
from tests.billing.qr_scan import decode_qr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def url(invoice: Invoice, suffix: str = "") -> str:
    return f"/c/pay/{invoice.link_token()}/{suffix}"


def gost(invoice: Invoice, kopecks: str) -> str:
    """The exact GOST R 56042 string for the billing conftest's studio, spelled out."""
    return (
        "ST00012|Name=ООО «Тест Студия»|PersonalAcc=40702810900000000001|"
        "BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|"
        f"Sum={kopecks}|Purpose=Оплата по счёту № {invoice.number} от "
        f"{invoice.issue_date:%d.%m.%Y}, НДС не облагается|PayeeINN=7701234567"
    )


def test_pressing_bank_transfer_redirects_to_the_transfer_page(
    invoice, anonymous_client, bank_transfer_account
):
    response = anonymous_client.post(url(invoice, "pay/bank_transfer/"))

    assert response.status_code == 303
    assert response["Location"] == url(invoice, "bank-transfer/")


def test_the_transfer_page_shows_every_detail_with_a_copy_button(
    invoice, anonymous_client, bank_transfer_account
):
    anonymous_client.post(url(invoice, "pay/bank_transfer/"))
    response = anonymous_client.get(url(invoice, "bank-transfer/"))

    assert response.status_code == 200
    html = response.content.decode()
    for copied in (
        "ООО «Тест Студия»",
        "7701234567",
        "40702810900000000001",
        "ПАО Сбербанк",
        "044525225",
        "30101810400000000225",
        "1000,00",
        f"Оплата по счёту № {invoice.number}",
    ):
        assert f'data-copy="{copied}' in html, copied
    assert "Копировать: Сумма" in html  # each button's accessible name says what it copies
    assert 'role="status" aria-live="polite"' in html
    assert 'viewBox="0 0 ' in html and "<title>QR-код для оплаты</title>" in html
    assert response["Cache-Control"] == "no-store"


def test_reloading_the_transfer_page_records_nothing(
    invoice, anonymous_client, bank_transfer_account
):
    for _ in range(3):
        assert anonymous_client.get(url(invoice, "bank-transfer/")).status_code == 200

    assert not Payment.objects.exists()


def test_pressing_bank_transfer_again_and_again_keeps_one_pending_note(
    invoice, anonymous_client, bank_transfer_account
):
    for _ in range(4):
        anonymous_client.post(url(invoice, "pay/bank_transfer/"))

    (payment,) = Payment.objects.filter(invoice=invoice)
    assert (payment.provider, payment.status, payment.amount) == (
        "bank_transfer",
        Payment.Status.PENDING,
        Decimal("1000.00"),
    )


def test_a_get_of_the_pay_address_goes_to_the_page_instead_of_a_405(
    invoice, anonymous_client, bank_transfer_account
):
    transfer = anonymous_client.get(url(invoice, "pay/bank_transfer/"))
    card = anonymous_client.get(url(invoice, "pay/stripe/"))

    assert (transfer.status_code, transfer["Location"]) == (302, url(invoice, "bank-transfer/"))
    assert (card.status_code, card["Location"]) == (302, url(invoice))
    assert not Payment.objects.exists()


def test_the_transfer_page_of_a_paid_invoice_sends_the_client_to_the_invoice(
    invoice, manager, anonymous_client, bank_transfer_account
):
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=studio_today(), actor=manager
    )

    response = anonymous_client.get(url(invoice, "bank-transfer/"))

    assert (response.status_code, response["Location"]) == (302, url(invoice))
    assert anonymous_client.get(url(invoice, "bank-transfer/payment.png")).status_code == 404


def test_the_transfer_page_is_a_404_when_the_method_is_off(invoice, anonymous_client):
    assert anonymous_client.get(url(invoice, "bank-transfer/")).status_code == 404


def test_the_manager_confirming_the_transfer_turns_the_note_into_the_payment(
    invoice, manager, anonymous_client, bank_transfer_account
):
    anonymous_client.post(url(invoice, "pay/bank_transfer/"))

    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=studio_today(), actor=manager, key="k" * 32
    )
    payments.record_manual_payment(  # the same form sent twice
        invoice, amount=invoice.total, received_on=studio_today(), actor=manager, key="k" * 32
    )

    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.status == Payment.Status.SUCCEEDED  # not a "Canceled" row beside it
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_the_database_holds_one_pending_bank_transfer_per_invoice(invoice):
    Payment.objects.create(invoice=invoice, provider="bank_transfer", amount=1, currency="RUB")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(invoice=invoice, provider="bank_transfer", amount=1, currency="RUB")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_presses_at_once_record_one_note(deal, manager, bank_transfer_account):
    invoice = make_invoice(deal, manager, "1000.00")
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def press() -> None:
        try:
            barrier.wait()
            payments.start_payment(invoice, "bank_transfer", return_url=lambda payment: "/")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Payment.objects.filter(invoice=invoice, status=Payment.Status.PENDING).count() == 1


def test_the_saved_qr_image_decodes_to_the_exact_payload(
    invoice, anonymous_client, bank_transfer_account
):
    response = anonymous_client.get(url(invoice, "bank-transfer/payment.png"))

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="payment-{invoice.number}-qr.png"'
    )
    assert decode_qr(response.content) == [gost(invoice, "100000")]


def test_the_qr_also_saves_as_svg_and_the_details_as_text(
    invoice, anonymous_client, bank_transfer_account
):
    svg = anonymous_client.get(url(invoice, "bank-transfer/payment.svg"))
    text = anonymous_client.get(url(invoice, "bank-transfer/payment.txt"))

    assert svg["Content-Type"] == "image/svg+xml" and b"viewBox" in svg.content
    body = text.content.decode()
    assert body.startswith(f"Реквизиты для оплаты счёта № {invoice.number}\n")
    assert "Расчётный счёт: 40702810900000000001\n" in body and "Сумма: 1000,00\n" in body


def test_the_transfer_page_asks_for_what_is_still_due(
    invoice, manager, anonymous_client, bank_transfer_account
):
    payments.record_manual_payment(
        invoice, amount=Decimal("400"), received_on=studio_today(), actor=manager
    )
    html = anonymous_client.get(url(invoice, "bank-transfer/")).content.decode()

    assert 'data-copy="600,00"' in html
