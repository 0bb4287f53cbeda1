"""YooKassa through the official SDK against a stand-in YooKassa API on 127.0.0.1
(tests/billing/standins.py); no request leaves the machine. YooKassa notifications are
unsigned: they are accepted only from the configured networks (127.0.0.1 here), and nothing
in them is believed until the payment is re-fetched over the API with the shop's keys.

Every scenario ends with exactly one payment record and at most one receipt email.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test import TestCase
from django.utils import timezone

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment, ProviderEvent
from tests.billing.conftest import (
    on_postgresql,
    only_payment,
    receipts,
    run_event_tasks,
    start_online,
)


def start(invoice: Invoice) -> Payment:
    return start_online(invoice, "yookassa")


WEBHOOK = "/c/pay/webhooks/yookassa/"


def notify(http, body: bytes, address: str = "127.0.0.1"):
    return http.post(WEBHOOK, data=body, content_type="application/json", REMOTE_ADDR=address)


def deliver(http, body: bytes, address: str = "127.0.0.1"):
    """Post the notification, then run the task it queued (as the worker would): the HTTP
    answer and the task's outcomes."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = notify(http, body, address)
    return response, run_event_tasks()


@pytest.fixture
def http():
    return HttpClient()


@pytest.mark.django_db
def test_pay_creates_a_yookassa_payment_with_our_reference(
    invoice, yookassa_account, yookassa_standin
):
    payment = start(invoice)
    remote = yookassa_standin.payments[payment.provider_payment_id]
    assert remote["amount"] == {"value": "1000.00", "currency": "RUB"}
    assert remote["metadata"]["payment_reference"] == payment.reference
    assert payment.redirect_url == remote["confirmation"]["confirmation_url"]
    assert remote["confirmation"]["return_url"].endswith(payment.reference)


@pytest.mark.django_db
def test_a_succeeded_notification_pays_the_invoice(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)

    response, outcomes = deliver(
        http, yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")
    )

    assert response.status_code == 200
    assert response.content == b"accepted"
    assert outcomes == ["applied"]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_notification_from_a_foreign_address_is_refused(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    body = yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")

    response = notify(http, body, address="203.0.113.7")

    assert response.status_code == 403
    assert only_payment(invoice).status == Payment.Status.PENDING
    assert not ProviderEvent.objects.exists()


@pytest.mark.django_db
def test_a_forged_success_is_not_believed_when_yookassa_says_pending(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    forged = yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")
    forged = forged.replace(b'"status": "pending"', b'"status": "succeeded"')

    response, outcomes = deliver(http, forged)

    assert outcomes == ["pending"]
    assert only_payment(invoice).status == Payment.Status.PENDING
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_a_notification_about_a_payment_yookassa_does_not_know_ends_without_retries(
    yookassa_account, yookassa_standin, http
):
    """Issue 14, finding 8: YooKassa answering 404 on the re-fetch is permanent. The
    notification is acknowledged (before: 503, retried by YooKassa for a day) and the event
    ends as refused, with nothing applied and nothing scheduled."""
    body = (
        b'{"type": "notification", "event": "payment.succeeded", '
        b'"object": {"id": "2f000000-000f-5000-8000-000000000000"}}'
    )
    response, outcomes = deliver(http, body)
    assert response.status_code == 200
    assert outcomes == ["provider_refused"]
    assert ProviderEvent.objects.get().outcome == "provider_refused"
    assert run_event_tasks() == []
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_replayed_notification_is_a_no_op(invoice, yookassa_account, yookassa_standin, http):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    body = yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")

    assert deliver(http, body)[1] == ["applied"]
    replay, outcomes = deliver(http, body)
    assert (replay.content, outcomes) == (b"duplicate", [])

    assert ProviderEvent.objects.count() == 1
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_a_canceled_payment_leaves_the_invoice_to_pay(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    yookassa_standin.cancel(payment.provider_payment_id)

    deliver(http, yookassa_standin.notification(payment.provider_payment_id, "payment.canceled"))

    assert only_payment(invoice).status == Payment.Status.CANCELED
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("1000.00")
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_a_cancel_notification_after_success_changes_nothing(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    deliver(http, yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded"))
    yookassa_standin.cancel(payment.provider_payment_id)

    _response, outcomes = deliver(
        http, yookassa_standin.notification(payment.provider_payment_id, "payment.canceled")
    )

    assert outcomes == ["unchanged"]
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_an_amount_mismatch_is_flagged_and_not_counted(
    invoice, yookassa_account, yookassa_standin, http
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    yookassa_standin.set_amount(payment.provider_payment_id, "10.00")

    _response, outcomes = deliver(
        http, yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")
    )

    assert outcomes == ["mismatch"]
    assert only_payment(invoice).status == Payment.Status.MISMATCH
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("0")
    assert receipts(invoice) == 0


@pytest.mark.django_db
def test_malformed_notifications_are_a_400(yookassa_account, yookassa_standin, http):
    for body in (b"not json", b"[]", b'{"type": "notification"}', b'{"event": "x", "object": 1}'):
        assert notify(http, body).status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.django_db
def test_a_lost_notification_is_made_good_by_reconciliation(
    invoice, yookassa_account, yookassa_standin
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert payments.reconcile_pending() == {"applied": 1}

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert receipts(invoice) == 1


@pytest.mark.django_db
def test_reconciliation_survives_yookassa_being_down(invoice, yookassa_account, yookassa_standin):
    payment = start(invoice)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    yookassa_standin.fail_with = 500

    assert payments.reconcile_pending() == {"error": 1}
    assert only_payment(invoice).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_wrong_shop_credentials_fail_to_start_and_cancel_the_attempt(
    invoice, yookassa_account, yookassa_standin
):
    yookassa_account.secret_key = "wrong"
    yookassa_account.save()
    with pytest.raises(payments.PaymentUnavailable):
        start(invoice)
    assert only_payment(invoice).status == Payment.Status.CANCELED


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_notification_twice_at_once_applies_once(
    invoice, yookassa_account, yookassa_standin
):
    payment = start(invoice)
    yookassa_standin.succeed(payment.provider_payment_id)
    body = yookassa_standin.notification(payment.provider_payment_id, "payment.succeeded")
    barrier = threading.Barrier(2)
    answers: list[tuple[bytes, tuple[str, ...]]] = []

    def deliver_once() -> None:
        try:
            barrier.wait()
            response, outcomes = deliver(HttpClient(), body)
            answers.append((response.content, tuple(outcomes)))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [(b"accepted", ("applied",)), (b"duplicate", ())]
    assert only_payment(invoice).status == Payment.Status.SUCCEEDED
    assert receipts(invoice) == 1
