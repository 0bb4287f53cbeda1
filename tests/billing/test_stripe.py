"""Stripe Checkout end to end through the official SDK, against a stand-in Stripe API server
on 127.0.0.1 (tests/billing/standins.py) — no request leaves the machine. Webhooks carry real
``Stripe-Signature`` headers (HMAC-SHA256 over "<timestamp>.<raw body>").

Every scenario ends with exactly one payment record and at most one receipt email.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment, ProviderEvent
from studiocrm.deals.models import PAID
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import make_invoice, on_postgresql, only_payment, receipts, start_online


def start(invoice: Invoice) -> Payment:
    return start_online(invoice, "stripe")


WEBHOOK = "/c/pay/webhooks/stripe/"


def post(http, body: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return http.post(WEBHOOK, data=body, content_type="application/json", **headers)


@pytest.fixture
def http():
    return HttpClient()


@pytest.mark.django_db
def test_pay_creates_a_checkout_session_for_what_is_due(invoice, stripe_account, stripe_standin):
    payment = start(invoice)
    session = stripe_standin.sessions[payment.provider_payment_id]
    assert payment.redirect_url == session["url"]
    assert session["amount_total"] == 100000
    assert session["currency"] == "rub"
    assert session["metadata"]["payment_reference"] == payment.reference
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_signed_completed_event_pays_the_invoice_once(
    invoice, stripe_account, stripe_standin, http, monkeypatch
):
    monkeypatch.setattr("studiocrm.billing.payments.payment_schedule", lambda deal: [])
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    response = post(http, body, stripe_standin.sign(body))

    assert response.status_code == 200
    assert response.content == b"applied"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.paid_amount == Decimal("1000.00")
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1
    assert Outbox.objects.filter(dedupe_key=f"billing-payment:{payment.pk}").count() == 1
    invoice.deal.refresh_from_db()
    assert invoice.deal.stage_id == PAID


@pytest.mark.django_db
def test_a_forged_signature_is_rejected_and_changes_nothing(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    response = post(http, body, stripe_standin.sign(body, secret="whsec_attacker"))

    assert response.status_code == 400
    assert only_payment(invoice).status == Payment.Status.PENDING
    assert not ProviderEvent.objects.exists()
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_a_body_changed_after_signing_is_rejected(invoice, stripe_account, stripe_standin, http):
    payment = start(invoice)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    signature = stripe_standin.sign(body)
    tampered = body.replace(b'"unpaid"', b'"paid"')

    response = post(http, tampered, signature)

    assert response.status_code == 400
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_missing_signature_header_is_rejected(invoice, stripe_account, stripe_standin, http):
    payment = start(invoice)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    assert post(http, body, None).status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.django_db
def test_a_stale_timestamp_is_rejected_even_with_a_valid_signature(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    response = post(http, body, stripe_standin.sign(body, timestamp=int(time.time()) - 3600))

    assert response.status_code == 400
    assert only_payment(invoice).status == Payment.Status.PENDING
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_without_a_webhook_secret_every_event_is_refused(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    stripe_account.webhook_secret = ""
    stripe_account.save()
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    response = post(http, body, stripe_standin.sign(body))

    assert response.status_code == 503
    assert only_payment(invoice).status == Payment.Status.PENDING
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_a_replayed_event_is_a_no_op(invoice, stripe_account, stripe_standin, http):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    signature = stripe_standin.sign(body)

    first = post(http, body, signature)
    second = post(http, body, signature)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"duplicate"
    assert ProviderEvent.objects.count() == 1
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_second_event_about_the_same_payment_does_not_pay_twice(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    for event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        body = stripe_standin.event(payment.provider_payment_id, event_type)
        assert post(http, body, stripe_standin.sign(body)).status_code == 200

    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("1000.00")
    assert invoice.overpaid_amount == Decimal("0")
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_failure_event_after_success_changes_nothing(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    success = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    post(http, success, stripe_standin.sign(success))
    # Even if the provider's answer now claims failure, a received payment stays received.
    stripe_standin.fail(payment.provider_payment_id)
    failure = stripe_standin.event(
        payment.provider_payment_id, "checkout.session.async_payment_failed"
    )

    response = post(http, failure, stripe_standin.sign(failure))

    assert response.status_code == 200
    assert response.content == b"unchanged"
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_success_arriving_after_a_stale_failure_still_pays(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.fail(payment.provider_payment_id)
    failure = stripe_standin.event(
        payment.provider_payment_id, "checkout.session.async_payment_failed"
    )
    stripe_standin.pay(payment.provider_payment_id)
    success = stripe_standin.event(
        payment.provider_payment_id, "checkout.session.async_payment_succeeded"
    )

    # Delivered out of order: the success first, the older failure afterwards.
    post(http, success, stripe_standin.sign(success))
    post(http, failure, stripe_standin.sign(failure))

    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_failed_payment_marks_the_attempt_failed_and_the_invoice_unpaid(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.fail(payment.provider_payment_id)
    failure = stripe_standin.event(
        payment.provider_payment_id, "checkout.session.async_payment_failed"
    )

    post(http, failure, stripe_standin.sign(failure))

    assert only_payment(invoice).status == Payment.Status.FAILED
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_an_amount_mismatch_is_flagged_for_review_and_not_counted(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    stripe_standin.set_amount(payment.provider_payment_id, 100)  # 1.00 RUB, not 1000.00
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    response = post(http, body, stripe_standin.sign(body))

    assert response.content == b"mismatch"
    flagged = only_payment(invoice)
    assert flagged.status == Payment.Status.MISMATCH
    assert flagged.reported_amount == Decimal("1.00")
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("0")
    assert receipts(invoice) == 0
    assert Outbox.objects.filter(dedupe_key=f"billing-mismatch:{payment.pk}").count() == 1


@pytest.mark.django_db
def test_the_webhook_body_is_never_trusted_only_the_refetched_session(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    # A correctly signed event whose snapshot says "paid" while Stripe says it is not.
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    body = body.replace(b'"payment_status":"unpaid"', b'"payment_status":"paid"')

    response = post(http, body, stripe_standin.sign(body))

    assert response.content == b"pending"
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_events_we_do_not_handle_are_acknowledged(stripe_account, stripe_standin, http, invoice):
    payment = start(invoice)
    body = stripe_standin.event(payment.provider_payment_id, "customer.created")

    response = post(http, body, stripe_standin.sign(body))

    assert response.status_code == 200
    assert response.content == b"ignored"
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_signed_but_malformed_body_is_a_400(stripe_account, stripe_standin, http):
    body = b'{"not": "an event"}'
    assert post(http, body, stripe_standin.sign(body)).status_code == 400
    body = b"\xff\xfe not json"
    assert post(http, body, "t=1,v1=00").status_code == 400


@pytest.mark.django_db
def test_when_stripe_cannot_be_asked_the_event_is_not_recorded_and_a_retry_works(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    stripe_standin.fail_with = 500

    assert post(http, body, stripe_standin.sign(body)).status_code == 503
    assert not ProviderEvent.objects.exists()

    stripe_standin.fail_with = None
    assert post(http, body, stripe_standin.sign(body)).content == b"applied"
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_an_event_about_a_session_that_is_not_ours_changes_nothing(
    deal, manager, stripe_account, stripe_standin, http
):
    invoice = make_invoice(deal, manager, "500")
    payment = start(invoice)
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id="cs_someone_else")
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    # The reference in the metadata still matches a payment of ours only if it has no id.
    response = post(http, body, stripe_standin.sign(body))
    assert response.content == b"unknown_payment"
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_lost_webhook_is_made_good_by_reconciliation(
    invoice, stripe_account, stripe_standin, settings
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - timedelta(minutes=settings.BILLING_RECONCILE_AFTER_MINUTES + 1)
    )

    assert payments.reconcile_pending() == {"applied": 1}
    assert payments.reconcile_pending() == {}

    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_the_webhook_after_reconciliation_is_a_no_op(invoice, stripe_account, stripe_standin, http):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    payments.reconcile_pending()
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    assert post(http, body, stripe_standin.sign(body)).content == b"unchanged"
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_reconciliation_leaves_young_payments_to_their_webhook(
    invoice, stripe_account, stripe_standin
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    assert payments.reconcile_pending() == {}
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_an_expired_session_is_canceled_by_reconciliation(invoice, stripe_account, stripe_standin):
    payment = start(invoice)
    stripe_standin.expire(payment.provider_payment_id)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=2))

    assert payments.reconcile_pending() == {"canceled": 1}
    assert only_payment(invoice).status == Payment.Status.CANCELED


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_event_twice_at_once_from_two_threads_applies_once(
    invoice, stripe_account, stripe_standin
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    signature = stripe_standin.sign(body)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def deliver() -> None:
        try:
            barrier.wait()
            response = post(HttpClient(), body, signature)
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [(200, b"applied"), (200, b"duplicate")]
    assert ProviderEvent.objects.count() == 1
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_different_events_for_one_payment_at_once_pay_once(
    invoice, stripe_account, stripe_standin
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    bodies = [
        stripe_standin.event(payment.provider_payment_id, kind)
        for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded")
    ]
    barrier = threading.Barrier(2)
    answers: list[bytes] = []

    def deliver(body: bytes) -> None:
        try:
            barrier.wait()
            answers.append(post(HttpClient(), body, stripe_standin.sign(body)).content)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [b"applied", b"unchanged"]
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("1000.00")
    assert receipts(invoice) == 1
