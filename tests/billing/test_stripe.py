"""Stripe Checkout end to end through the official SDK, against a stand-in Stripe API server
on 127.0.0.1 (tests/billing/standins.py) — no request leaves the machine. Webhooks carry real
``Stripe-Signature`` headers (HMAC-SHA256 over "<timestamp>.<raw body>").

Every scenario ends with exactly one payment record and at most one receipt email.

The webhook verifies and stores the event and answers ``accepted`` at once; the worker's
task re-fetches the session and applies it. Tests run those tasks explicitly
(``run_event_tasks``), as the worker would, and assert the task's outcome.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test import TestCase
from django.utils import timezone
from django_tasks import default_task_backend

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment, ProviderEvent
from studiocrm.deals.models import PAID
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import (
    make_invoice,
    on_postgresql,
    only_payment,
    receipts,
    run_event_tasks,
    start_online,
)


def start(invoice: Invoice) -> Payment:
    return start_online(invoice, "stripe")


WEBHOOK = "/c/pay/webhooks/stripe/"


def post(http, body: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return http.post(WEBHOOK, data=body, content_type="application/json", **headers)


def deliver(http, body: bytes, signature: str | None):
    """Post the webhook, then run the task it queued: (HTTP answer, the task's outcomes)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(http, body, signature)
    return response, run_event_tasks()


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

    response, outcomes = deliver(http, body, stripe_standin.sign(body))

    assert response.status_code == 200
    assert response.content == b"accepted"
    assert outcomes == ["applied"]
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

    first, first_outcomes = deliver(http, body, signature)
    second, second_outcomes = deliver(http, body, signature)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"duplicate"
    assert (first_outcomes, second_outcomes) == (["applied"], [])
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
        response, _outcomes = deliver(http, body, stripe_standin.sign(body))
        assert response.status_code == 200

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
    deliver(http, success, stripe_standin.sign(success))
    # Even if the provider's answer now claims failure, a received payment stays received.
    stripe_standin.fail(payment.provider_payment_id)
    failure = stripe_standin.event(
        payment.provider_payment_id, "checkout.session.async_payment_failed"
    )

    response, outcomes = deliver(http, failure, stripe_standin.sign(failure))

    assert response.status_code == 200
    assert outcomes == ["unchanged"]
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
    deliver(http, success, stripe_standin.sign(success))
    deliver(http, failure, stripe_standin.sign(failure))

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

    deliver(http, failure, stripe_standin.sign(failure))

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

    _response, outcomes = deliver(http, body, stripe_standin.sign(body))

    assert outcomes == ["mismatch"]
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

    _response, outcomes = deliver(http, body, stripe_standin.sign(body))

    assert outcomes == ["pending"]
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_events_we_do_not_handle_are_acknowledged(stripe_account, stripe_standin, http, invoice):
    payment = start(invoice)
    body = stripe_standin.event(payment.provider_payment_id, "customer.created")

    response, outcomes = deliver(http, body, stripe_standin.sign(body))

    assert response.status_code == 200
    assert response.content == b"ignored"
    assert outcomes == []
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_signed_but_malformed_body_is_a_400(stripe_account, stripe_standin, http):
    body = b'{"not": "an event"}'
    assert post(http, body, stripe_standin.sign(body)).status_code == 400
    body = b"\xff\xfe not json"
    assert post(http, body, "t=1,v1=00").status_code == 400


@pytest.mark.django_db
def test_when_stripe_cannot_be_asked_the_event_is_kept_and_the_retry_applies_it(
    invoice, stripe_account, stripe_standin, http
):
    """Stripe answering 500 is temporary: the event is stored (Stripe is told 200 and stops
    resending), the task schedules another attempt, and that attempt applies it."""
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    stripe_standin.fail_with = 500

    response, outcomes = deliver(http, body, stripe_standin.sign(body))

    assert (response.status_code, outcomes) == (200, ["retry"])
    event = ProviderEvent.objects.get()
    assert (event.outcome, event.attempts) == ("", 1)
    assert event.retry_at is not None
    assert only_payment(invoice).status == Payment.Status.PENDING

    stripe_standin.fail_with = None
    assert run_event_tasks() == ["applied"]  # the retry the first attempt queued
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
    _response, outcomes = deliver(http, body, stripe_standin.sign(body))
    assert outcomes == ["unknown_payment"]
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

    assert deliver(http, body, stripe_standin.sign(body))[1] == ["unchanged"]
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
    answers: list[tuple[int, bytes, tuple[str, ...]]] = []

    def deliver_both() -> None:
        try:
            barrier.wait()
            response, outcomes = deliver(HttpClient(), body, signature)
            answers.append((response.status_code, response.content, tuple(outcomes)))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_both) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [(200, b"accepted", ("applied",)), (200, b"duplicate", ())]
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
    answers: list[str] = []

    def deliver_one(body: bytes) -> None:
        try:
            barrier.wait()
            answers.extend(deliver(HttpClient(), body, stripe_standin.sign(body))[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_one, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["applied", "unchanged"]
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("1000.00")
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_session_stripe_does_not_know_ends_the_event_instead_of_retrying_forever(
    invoice, stripe_account, stripe_standin, http
):
    """Issue 14, finding 8: a 404 on re-fetch is permanent. The webhook answers 200 at once
    (before: 503 on every delivery, so Stripe retried for days); the task records the
    refusal and schedules nothing more."""
    payment = start(invoice)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    # A correctly signed event about a session this account's API does not know (e.g. from
    # another Stripe account sharing the endpoint): Stripe answers 404 on every re-fetch.
    del stripe_standin.sessions[payment.provider_payment_id]

    response, outcomes = deliver(http, body, stripe_standin.sign(body))
    again, again_outcomes = deliver(http, body, stripe_standin.sign(body))

    assert (response.status_code, again.status_code) == (200, 200)
    assert again.content == b"duplicate"
    assert (outcomes, again_outcomes) == (["provider_refused"], [])
    event = ProviderEvent.objects.get()
    assert event.outcome == "provider_refused"
    assert event.processed_at is not None and event.retry_at is None
    assert "Stripe" in event.last_error
    assert run_event_tasks() == []
    assert payments.process_due_events() == {}
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_the_webhook_answers_without_waiting_for_stripe(
    invoice, stripe_account, stripe_standin, http
):
    """The answer needs no call to Stripe at all: with the API slow, it is still immediate."""
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    stripe_standin.delay_seconds = 3
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")

    started = time.monotonic()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(http, body, stripe_standin.sign(body))
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 1.0
    stripe_standin.delay_seconds = 0
    assert run_event_tasks() == ["applied"]


@pytest.mark.django_db
def test_a_lost_task_is_picked_up_by_the_sweep(invoice, stripe_account, stripe_standin, http):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    post(http, body, stripe_standin.sign(body))
    default_task_backend.clear()  # the worker lost the task
    ProviderEvent.objects.update(received_at=timezone.now() - timedelta(minutes=10))

    assert payments.process_due_events() == {"applied": 1}
    assert payments.process_due_events() == {}
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_temporary_failures_give_up_after_the_last_attempt(
    invoice, stripe_account, stripe_standin, http
):
    payment = start(invoice)
    stripe_standin.pay(payment.provider_payment_id)
    stripe_standin.fail_with = 503
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    deliver(http, body, stripe_standin.sign(body))

    outcomes = ["retry"]  # the first attempt, run by deliver()
    for _attempt in range(payments.EVENT_MAX_ATTEMPTS):
        outcomes += run_event_tasks()

    assert outcomes == ["retry"] * (payments.EVENT_MAX_ATTEMPTS - 1) + ["gave_up"]
    assert ProviderEvent.objects.get().outcome == "gave_up"
    assert run_event_tasks() == []
