"""Issue 14, finding 8, replayed as it was found: signed Stripe events posted to a running
server (Django's live_server on 127.0.0.1), Stripe being the stand-in of standins.py."""

from __future__ import annotations

import requests

from studiocrm.billing import payments
from studiocrm.billing.models import Payment, ProviderEvent
from tests.billing.conftest import only_payment, start_online

WEBHOOK = "/c/pay/webhooks/stripe/"


def test_on_a_real_server_a_session_stripe_does_not_know_is_answered_200_at_once(
    live_server, invoice, stripe_account, stripe_standin
):
    """Issue 14, finding 8, as found: a signed event about a session Stripe answers 404 for,
    posted to a running server, was answered 503 on every delivery. Now: 200, stored once,
    and the worker's task ends it for good."""
    payment = start_online(invoice, "stripe")
    body = stripe_standin.event(payment.provider_payment_id, "checkout.session.completed")
    del stripe_standin.sessions[payment.provider_payment_id]

    session = requests.Session()  # one connection, as Stripe keeps it open
    answers = [
        session.post(
            live_server.url + WEBHOOK,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_standin.sign(body),
            },
            timeout=10,
        )
        for _delivery in range(3)
    ]
    session.close()

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.content for answer in answers] == [b"accepted", b"duplicate", b"duplicate"]
    event = ProviderEvent.objects.get()
    assert payments.process_stored_event(event.pk) == "provider_refused"
    assert payments.process_stored_event(event.pk) == "provider_refused"
    assert only_payment(invoice).status == Payment.Status.PENDING
