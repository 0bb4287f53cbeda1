"""The payment provider times out: Stripe's API (the stand-in server on 127.0.0.1) answers
only after the SDK has given up. The client reads a clear message; the SDK's own retry sends
the same idempotency key, so Stripe makes one checkout session, not two; pressing Pay again
later works, and the invoice is paid once."""

from __future__ import annotations

import time

import pytest
from django.test import Client as HttpClient
from django.test import TestCase

from studiocrm.billing.models import Payment
from tests.billing.conftest import receipts, run_event_tasks
from tests.billing.test_client_pages import page_url


@pytest.fixture
def keys_sent(stripe_standin):
    """The Idempotency-Key of every session-creating request Stripe received."""
    sent = []
    original = stripe_standin.handle

    def handle(method, path, headers, raw):
        if method == "POST" and path.startswith("/v1/checkout/sessions"):
            sent.append(headers.get("Idempotency-Key"))
        return original(method, path, headers, raw)

    stripe_standin.handle = handle
    return sent


def test_a_provider_timeout_tells_the_client_and_never_charges_twice(
    invoice, stripe_account, stripe_standin, keys_sent, monkeypatch
):
    # The SDK's timeout, shortened so that the test waits seconds, not minutes; Stripe
    # answers after it.
    monkeypatch.setattr("studiocrm.billing.providers.stripe.NETWORK_TIMEOUT", 1)
    stripe_standin.delay_seconds = 2.5
    client = HttpClient()

    response = client.post(page_url(invoice, "pay/stripe/"))
    assert response.status_code == 409
    # The invoice is in Russian, so is its page: "the payment service did not answer, try
    # again in a few minutes".
    assert "Платёжный сервис не ответил. Попробуйте ещё раз через несколько минут." in (
        response.content.decode()
    )
    (first,) = Payment.objects.filter(invoice=invoice)
    assert first.status == Payment.Status.CANCELED
    # The SDK tried twice with the same key: Stripe made one session from both.
    assert len(keys_sent) == 2 and keys_sent[0] == keys_sent[1] == f"checkout-{first.reference}"
    stripe_standin.delay_seconds = 0
    time.sleep(3)  # let the slow handlers finish
    assert len(stripe_standin.sessions) == 1

    # Stripe is fast again; the client presses Pay once more and is sent to a new session.
    response = client.post(page_url(invoice, "pay/stripe/"))
    assert response.status_code == 200
    second = Payment.objects.get(invoice=invoice, status=Payment.Status.PENDING)
    assert keys_sent[-1] == f"checkout-{second.reference}"
    session = stripe_standin.sessions[second.provider_payment_id]
    assert session["url"] in response.content.decode()

    # The client pays; Stripe's signed webhook is applied once, even when delivered twice.
    stripe_standin.pay(second.provider_payment_id)
    body = stripe_standin.event(second.provider_payment_id, "checkout.session.completed")
    for _delivery in range(2):
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(
                "/c/pay/webhooks/stripe/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=stripe_standin.sign(body),
            )
        run_event_tasks()
    succeeded = Payment.objects.filter(invoice=invoice, status=Payment.Status.SUCCEEDED)
    assert [p.pk for p in succeeded] == [second.pk]
    invoice.refresh_from_db()
    assert invoice.amount_due == 0
    assert receipts(invoice) == 1
    paid_sessions = [s for s in stripe_standin.sessions.values() if s["payment_status"] == "paid"]
    assert len(paid_sessions) == 1
