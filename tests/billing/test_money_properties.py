"""Hypothesis: whatever order payments, provider confirmations (and their replays), refunds
and credit notes arrive in, what counts as paid minus refunds never exceeds the invoice
total, and no money received is lost (the excess is kept as the overpaid amount)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studiocrm.billing import payments, services
from studiocrm.billing.models import Invoice, Payment, Refund
from studiocrm.billing.providers.base import ProviderPayment
from studiocrm.billing.services import BillingError, LineInput

pytestmark = pytest.mark.django_db

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("transfer"), amounts),
        st.tuples(st.just("online"), amounts),
        st.tuples(st.just("replay"), st.integers(0, 9)),
        st.tuples(st.just("refund"), st.integers(0, 9), amounts),
        st.tuples(st.just("credit"), amounts),
    ),
    max_size=12,
)


def _confirm(payment: Payment) -> str:
    fetched = ProviderPayment(
        provider_payment_id=payment.provider_payment_id,
        status=ProviderPayment.SUCCEEDED,
        amount=payment.amount,
        currency=payment.currency,
        reference=payment.reference,
    )
    with transaction.atomic():
        return payments._apply_fetched("stripe", fetched)


def _sum(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal("0")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(total=amounts, steps=operations)
def test_paid_minus_refunds_never_exceeds_the_total_and_nothing_is_lost(
    deal, manager, total, steps
):
    invoice = services.create_invoice(
        deal, lines=[LineInput("Work", Decimal(1), total)], actor=manager
    )
    services.issue_invoice(invoice, actor=manager, notify_client=False)
    online: list[Payment] = []
    for step in steps:
        invoice.refresh_from_db()
        try:
            if step[0] == "transfer":
                payments.record_manual_payment(
                    invoice, amount=step[1], received_on=invoice.issue_date, actor=manager
                )
            elif step[0] == "online":
                payment = Payment.objects.create(
                    invoice=invoice,
                    provider="stripe",
                    provider_payment_id=f"cs_{uuid.uuid4().hex}",
                    amount=step[1],
                    currency=invoice.currency,
                )
                assert _confirm(payment) == "applied"
                online.append(payment)
            elif step[0] == "replay" and online:
                assert _confirm(online[step[1] % len(online)]) == "unchanged"
            elif step[0] == "refund":
                received = list(invoice.payments.filter(status=Payment.Status.SUCCEEDED))
                if received:
                    payments.record_refund(
                        received[step[1] % len(received)], amount=step[2], actor=manager
                    )
            elif step[0] == "credit":
                services.create_credit_note(invoice, amount=step[1], reason="fix", actor=manager)
        except BillingError:
            pass  # a refused operation; the invariants below must still hold

        invoice = Invoice.objects.get(pk=invoice.pk)
        received = _sum(Payment.objects.filter(invoice=invoice, status=Payment.Status.SUCCEEDED))
        refunded = _sum(Refund.objects.filter(payment__invoice=invoice))
        assert invoice.paid_amount <= invoice.total - invoice.credited_amount <= invoice.total
        assert invoice.paid_amount >= 0 and invoice.overpaid_amount >= 0
        assert invoice.paid_amount + invoice.overpaid_amount == received - refunded
        for payment in invoice.payments.all():
            assert _sum(payment.refunds.all()) <= payment.amount
        if invoice.status == Invoice.Status.PAID:
            assert invoice.amount_due == 0
