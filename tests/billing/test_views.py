"""Manager pages: who may do what, and that refusals change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment, ProviderAccount, Refund
from studiocrm.billing.schedule import Step
from studiocrm.core.models import AuditLog
from tests.billing.conftest import make_invoice

pytestmark = pytest.mark.django_db


def _line_form(**overrides: str) -> dict[str, str]:
    data = {
        "purpose": "",
        "due_days": "7",
        "language": "ru",
        "tax_mode": "no_vat",
        "vat_rate": "0",
        "notes": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-description": "Дизайн главной страницы",
        "lines-0-quantity": "1",
        "lines-0-unit": "усл.",
        "lines-0-unit_price": "45000",
    }
    data.update(overrides)
    return data


def test_the_list_needs_a_login(anonymous_client):
    response = anonymous_client.get("/billing/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_list_shows_invoices_in_a_constant_number_of_queries(deal, manager, manager_client):
    make_invoice(deal, manager, "100")
    with CaptureQueriesContext(connection) as one:
        assert manager_client.get("/billing/").status_code == 200
    for _ in range(9):
        make_invoice(deal, manager, "100")
    with CaptureQueriesContext(connection) as ten:
        response = manager_client.get("/billing/")
    assert response.content.decode().count("/billing/") >= 10
    assert len(ten) == len(one)


def test_a_manager_creates_a_draft_by_hand(deal, manager_client):
    response = manager_client.post(f"/billing/deal/{deal.pk}/new/", _line_form())
    invoice = Invoice.objects.get(deal=deal)
    assert response.status_code == 302
    assert invoice.is_draft
    assert invoice.total == Decimal("45000.00")
    assert invoice.due_days == 7


def test_another_manager_cannot_create_an_invoice_for_the_deal(deal, other_manager_client):
    response = other_manager_client.post(f"/billing/deal/{deal.pk}/new/", _line_form())
    assert response.status_code == 403
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("lines-0-unit_price", "abc"),
        ("lines-0-unit_price", "-5"),
        ("lines-0-unit_price", "1" * 40),
        ("lines-0-quantity", "0"),
        ("due_days", "9999"),
        ("vat_rate", "120"),
        ("language", "xx"),
        ("lines-0-description", ""),
        ("lines-TOTAL_FORMS", "5000"),
    ],
)
def test_hostile_invoice_input_is_refused_with_a_message(deal, manager_client, field, value):
    response = manager_client.post(f"/billing/deal/{deal.pk}/new/", _line_form(**{field: value}))
    assert response.status_code == 200
    assert not Invoice.objects.exists()


def test_issuing_from_the_page_sends_the_link_and_shows_it(deal, manager, manager_client):
    draft = make_invoice(deal, manager, "100", issue=False)
    response = manager_client.post(f"/billing/{draft.pk}/issue/", follow=True)
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.ISSUED
    assert f"/c/pay/{draft.link_token()}/" in response.content.decode()


def test_another_manager_cannot_issue_and_the_draft_stays(deal, manager, other_manager_client):
    draft = make_invoice(deal, manager, "100", issue=False)
    assert other_manager_client.post(f"/billing/{draft.pk}/issue/").status_code == 403
    draft.refresh_from_db()
    assert draft.is_draft and draft.number == ""


def test_another_manager_sees_the_invoice_without_actions(invoice, other_manager_client):
    html = other_manager_client.get(f"/billing/{invoice.pk}/").content.decode()
    assert invoice.number in html
    assert f"/billing/{invoice.pk}/payment/" not in html


def test_one_click_from_the_schedule(deal, manager_client, monkeypatch):
    steps = [Step(1, "Предоплата 50%", Decimal("30000"), "RUB", Decimal(50), 3)]
    monkeypatch.setattr("studiocrm.billing.services.payment_schedule", lambda deal: steps)
    monkeypatch.setattr("studiocrm.billing.panels.payment_schedule", lambda deal: steps)

    response = manager_client.post(f"/billing/deal/{deal.pk}/schedule/1/")
    again = manager_client.post(f"/billing/deal/{deal.pk}/schedule/1/", follow=True)

    invoice = Invoice.objects.get(deal=deal)
    assert response.status_code == 302
    assert invoice.total == Decimal("30000.00") and invoice.status == Invoice.Status.ISSUED
    assert "This payment step is already invoiced." in again.content.decode()


def test_recording_a_transfer_twice_with_the_same_form_records_one_payment(invoice, manager_client):
    data = {"amount": "400", "received_on": str(invoice.issue_date), "note": "", "key": "k" * 32}
    manager_client.post(f"/billing/{invoice.pk}/payment/", data)
    manager_client.post(f"/billing/{invoice.pk}/payment/", data)
    assert Payment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
    assert invoice.amount_due == Decimal("600.00")


def test_confirming_a_pending_transfer_settles_that_row(
    invoice, manager_client, bank_transfer_account
):
    pending, _result = payments.start_payment(invoice, "bank_transfer", return_url=lambda p: "")
    data = {"amount": "1000", "received_on": str(invoice.issue_date), "note": "", "key": "c" * 32}
    manager_client.post(f"/billing/{invoice.pk}/payment/?pending={pending.pk}", data)
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.pk == pending.pk and payment.status == Payment.Status.SUCCEEDED


def test_another_manager_cannot_record_a_payment(invoice, other_manager_client):
    data = {"amount": "400", "received_on": str(invoice.issue_date), "note": "", "key": "z" * 32}
    assert other_manager_client.post(f"/billing/{invoice.pk}/payment/", data).status_code == 403
    assert not Payment.objects.exists()


def test_an_overpayment_is_kept_and_flagged(invoice, manager, manager_client):
    data = {"amount": "1500", "received_on": str(invoice.issue_date), "note": "", "key": "o" * 32}
    manager_client.post(f"/billing/{invoice.pk}/payment/", data)
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.overpaid_amount) == (Decimal("1000.00"), Decimal("500.00"))
    assert invoice.status == Invoice.Status.PAID
    assert AuditLog.objects.filter(verb="invoice.overpaid").count() == 1
    html = manager_client.get(f"/billing/{invoice.pk}/").content.decode()
    assert "Overpaid" in html


def test_a_refund_over_what_was_received_is_refused(invoice, manager, manager_client):
    payment = payments.record_manual_payment(
        invoice, amount=Decimal("300"), received_on=invoice.issue_date, actor=manager
    )
    response = manager_client.post(
        f"/billing/payments/{payment.pk}/refund/", {"amount": "301", "note": "", "key": "r" * 32}
    )
    assert response.status_code == 200
    assert not Refund.objects.exists()


def test_a_refund_reopens_what_is_due(invoice, manager, manager_client):
    payment = payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
    )
    manager_client.post(
        f"/billing/payments/{payment.pk}/refund/", {"amount": "250", "note": "", "key": "f" * 32}
    )
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("250.00")
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


def test_voiding_needs_a_reason(invoice, manager_client):
    manager_client.post(f"/billing/{invoice.pk}/void/", {"reason": ""})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    manager_client.post(f"/billing/{invoice.pk}/void/", {"reason": "Дубль"})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID


def test_the_deal_page_shows_the_billing_panel(invoice, manager_client):
    html = manager_client.get(f"/deals/{invoice.deal_id}/").content.decode()
    assert "Счета и оплаты" in html or "Invoices and payments" in html
    assert invoice.number in html


# --- Payment settings (owner only) ---------------------------------------------------------


def test_a_manager_cannot_open_payment_settings(manager_client):
    assert manager_client.get("/billing/settings/").status_code == 403


def test_a_manager_cannot_change_payment_settings(manager_client):
    response = manager_client.post(
        "/billing/settings/",
        {"provider": "stripe", "stripe-enabled": "on", "stripe-secret_key": "sk_evil"},
    )
    assert response.status_code == 403
    assert all(account.secret_key != "sk_evil" for account in ProviderAccount.objects.all())


def test_a_saved_secret_is_never_shown_again(owner_client):
    secret = "sk_test_51Hvery_secret_value_9876"
    owner_client.post(
        "/billing/settings/",
        {
            "provider": "stripe",
            "stripe-enabled": "on",
            "stripe-secret_key": secret,
            "stripe-webhook_secret": "whsec_abcdefghijklmnop",
        },
    )
    account = ProviderAccount.objects.get(provider="stripe")
    assert account.enabled and account.secret_key == secret
    html = owner_client.get("/billing/settings/").content.decode()
    assert secret not in html
    assert "whsec_abcdefghijklmnop" not in html
    assert "••••9876" in html
    assert account.secret_key_set_at is not None
    (row,) = AuditLog.objects.filter(verb="billing.provider_settings_changed")
    assert secret not in str(row.data)


def test_leaving_a_secret_empty_keeps_it(owner_client):
    ProviderAccount.objects.create(
        provider="stripe", secret_key="sk_keep_me_please", webhook_secret="whsec_keep"
    )
    owner_client.post("/billing/settings/", {"provider": "stripe", "stripe-enabled": "on"})
    account = ProviderAccount.objects.get(provider="stripe")
    assert account.secret_key == "sk_keep_me_please"
    assert account.enabled


def test_enabling_without_the_keys_is_refused(owner_client):
    response = owner_client.post(
        "/billing/settings/", {"provider": "yookassa", "yookassa-enabled": "on"}
    )
    assert response.status_code == 200
    assert not ProviderAccount.objects.filter(provider="yookassa", enabled=True).exists()


@pytest.mark.django_db
def test_issuing_shows_who_the_invoice_goes_to(manager_client, deal, manager):
    """Issue 14, finding 2: the recipient is visible beside "Issue and send"."""
    from django.utils.html import escape

    from tests.billing.conftest import make_invoice

    draft = make_invoice(deal, manager, "100.00", issue=False)

    html = manager_client.get(draft.get_absolute_url()).content.decode()

    assert f"To: {escape(deal.contact.name)} &lt;{deal.contact.email}&gt;" in html


def test_the_transfer_form_offers_today_in_a_date_input_in_russian(invoice, manager_client):
    """A date input reads only ISO dates: a localized "05.12.2026" left it empty.

    "Today" is the studio's date, not the server's: after 21:00 UTC it is already tomorrow
    in Moscow, and the form must offer Moscow's date.
    """
    from django.utils import timezone

    from studiocrm.core.models import Studio

    html = manager_client.get(
        f"/billing/{invoice.pk}/payment/", HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    with timezone.override(Studio.load().time_zone):
        today = timezone.localdate()
    assert f'type="date" name="received_on" value="{today:%Y-%m-%d}"' in html


@pytest.mark.parametrize(
    ("language", "due"), [("ru", "К оплате: 1\xa0000,00\xa0₽"), ("en", "To pay: 1,000.00\xa0₽")]
)
def test_the_transfer_form_prints_the_amount_due_readably_beside_a_plain_number(
    invoice, manager_client, language, due
):
    html = manager_client.get(
        f"/billing/{invoice.pk}/payment/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert 'name="amount" value="1000.00"' in html  # what a number input takes
    assert due in html
