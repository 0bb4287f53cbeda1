"""The client's invoice pages, reached by link token only."""

from __future__ import annotations

import io
import time
import types
from decimal import Decimal

import django_ratelimit.core
import pytest
from django.core.cache import cache
from pypdf import PdfReader

from studiocrm.billing import payments, services
from studiocrm.billing.models import Invoice, Payment
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    """Empty counters and one fixed rate-limit window per test: windows are aligned to the
    clock, and a boundary between two requests would reset the count."""
    cache.clear()
    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: frozen))
    yield
    cache.clear()


def page_url(invoice: Invoice, suffix: str = "") -> str:
    return f"/c/pay/{invoice.link_token()}/{suffix}"


def test_the_invoice_page_shows_the_document_and_what_is_due(invoice, anonymous_client):
    response = anonymous_client.get(page_url(invoice))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'Счёт на оплату <span class="nowrap">№ {invoice.number}</span>' in html
    assert "1\xa0000\xa0₽" in html
    assert "<svg" in html  # the payment QR code


def test_the_invoice_page_is_private(invoice, anonymous_client):
    response = anonymous_client.get(page_url(invoice))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_wrong_token_is_a_404_and_leaks_nothing(invoice, anonymous_client):
    response = anonymous_client.get("/c/pay/" + "x" * 43 + "/")
    assert response.status_code == 404
    assert invoice.number not in response.content.decode()


def test_guessing_tokens_is_rate_limited_even_for_good_links(invoice, anonymous_client):
    for _ in range(25):
        anonymous_client.get("/c/pay/" + "y" * 43 + "/")
    assert anonymous_client.get(page_url(invoice)).status_code == 429


def test_a_draft_is_not_reachable_by_its_token(deal, manager, anonymous_client):
    draft = make_invoice(deal, manager, "100", issue=False)
    assert anonymous_client.get(page_url(draft)).status_code == 404


def test_a_replaced_link_stops_working(invoice, manager, anonymous_client):
    old = page_url(invoice)
    services.new_link(invoice, actor=manager)
    invoice.refresh_from_db()
    assert anonymous_client.get(old).status_code == 404
    assert anonymous_client.get(page_url(invoice)).status_code == 200


def test_the_first_view_notifies_the_manager_once(invoice, anonymous_client):
    anonymous_client.get(page_url(invoice))
    anonymous_client.get(page_url(invoice))
    assert Outbox.objects.filter(dedupe_key=f"billing-invoice-viewed:{invoice.pk}").count() == 1
    invoice.refresh_from_db()
    assert invoice.view_count == 2


def test_the_pdf_downloads_behind_the_token(invoice, anonymous_client, settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path
    response = anonymous_client.get(page_url(invoice, "pdf/"))
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert invoice.number in text


def test_pay_buttons_show_only_enabled_and_configured_providers(
    invoice, anonymous_client, stripe_account, bank_transfer_account
):
    html = anonymous_client.get(page_url(invoice)).content.decode()
    assert "/pay/stripe/" in html
    assert "/pay/bank_transfer/" in html
    assert "/pay/yookassa/" not in html


def test_pressing_pay_forwards_the_client_to_stripe(
    invoice, anonymous_client, stripe_account, stripe_standin
):
    response = anonymous_client.post(page_url(invoice, "pay/stripe/"))
    assert response.status_code == 200
    session = stripe_standin.sessions[stripe_standin.only_session_id()]
    assert session["url"] in response.content.decode()
    assert session["success_url"].startswith(f"http://testserver{page_url(invoice, 'paid/')}")


def test_pay_with_a_disabled_provider_is_refused_and_creates_nothing(
    invoice, anonymous_client, stripe_account
):
    stripe_account.enabled = False
    stripe_account.save()
    response = anonymous_client.post(page_url(invoice, "pay/stripe/"))
    assert response.status_code == 409
    assert not Payment.objects.exists()


def test_pay_with_an_unknown_provider_is_refused(invoice, anonymous_client):
    assert anonymous_client.post(page_url(invoice, "pay/paypal/")).status_code == 409
    assert not Payment.objects.exists()


def test_a_paid_invoice_offers_nothing_to_pay(invoice, manager, anonymous_client, stripe_account):
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
    )
    html = anonymous_client.get(page_url(invoice)).content.decode()
    assert "/pay/stripe/" not in html
    assert anonymous_client.post(page_url(invoice, "pay/stripe/")).status_code == 409


def test_the_return_page_says_pending_until_confirmed(
    invoice, anonymous_client, stripe_account, stripe_standin
):
    anonymous_client.post(page_url(invoice, "pay/stripe/"))
    payment = Payment.objects.get(invoice=invoice)
    stripe_standin.pay(payment.provider_payment_id)  # paid at Stripe, but no webhook yet

    response = anonymous_client.get(page_url(invoice, f"paid/{payment.reference}/"))

    html = response.content.decode()
    assert "Ждём подтверждения" in html
    assert 'hx-trigger="every 3s"' in html
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_the_return_page_polls_until_the_payment_is_received(
    invoice, anonymous_client, stripe_account, stripe_standin
):
    anonymous_client.post(page_url(invoice, "pay/stripe/"))
    payment = Payment.objects.get(invoice=invoice)
    stripe_standin.pay(payment.provider_payment_id)
    payments.sync_payment(payment)  # what the enqueued task does

    response = anonymous_client.get(
        page_url(invoice, f"paid/{payment.reference}/"), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "Оплата получена" in html
    assert "hx-trigger" not in html


def test_the_return_page_of_another_invoices_payment_is_a_404(
    deal, manager, anonymous_client, stripe_account, stripe_standin
):
    first = make_invoice(deal, manager, "100")
    second = make_invoice(deal, manager, "200")
    anonymous_client.post(page_url(first, "pay/stripe/"))
    payment = Payment.objects.get(invoice=first)
    assert anonymous_client.get(page_url(second, f"paid/{payment.reference}/")).status_code == 404


def test_client_pages_render_in_the_invoice_language(deal, manager, anonymous_client):
    draft = services.create_invoice(
        deal,
        lines=[services.LineInput("Design", Decimal(1), Decimal("100"))],
        actor=manager,
        language="en",
    )
    services.issue_invoice(draft, actor=manager)
    draft.refresh_from_db()
    html = anonymous_client.get(page_url(draft)).content.decode()
    assert "Download PDF" in html
    assert f'Invoice <span class="nowrap">{draft.number}</span>' in html


def test_pressing_pay_over_and_over_is_rate_limited(
    invoice, anonymous_client, stripe_account, stripe_standin
):
    answers = [
        anonymous_client.post(page_url(invoice, "pay/stripe/")).status_code for _ in range(12)
    ]
    assert answers.count(200) == 10
    assert answers[-1] == 429
    assert Payment.objects.filter(invoice=invoice).count() == 10
