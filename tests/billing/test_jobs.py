"""The worker's periodic billing jobs: overdue marking and the reconciliation sweep."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, Payment

pytestmark = pytest.mark.django_db


def test_an_unpaid_invoice_past_its_due_date_becomes_overdue(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.issue_date - timedelta(days=1))
    assert payments.mark_overdue() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OVERDUE
    assert payments.mark_overdue() == 0


def test_a_partly_paid_invoice_past_due_is_overdue_and_keeps_what_was_paid(invoice, manager):
    payments.record_manual_payment(
        invoice, amount=Decimal("100"), received_on=invoice.issue_date, actor=manager
    )
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.issue_date - timedelta(days=1))
    payments.mark_overdue()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OVERDUE
    assert invoice.paid_amount == Decimal("100.00")


def test_paying_an_overdue_invoice_makes_it_paid(invoice, manager):
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.issue_date - timedelta(days=1))
    payments.mark_overdue()
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_an_invoice_not_yet_due_stays_issued(invoice):
    assert payments.mark_overdue() == 0
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED


def test_a_payment_that_never_reached_the_provider_is_abandoned(invoice):
    payment = Payment.objects.create(
        invoice=invoice, provider="stripe", amount=invoice.total, currency="RUB"
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert payments.reconcile_pending() == {"orphaned": 1}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED


def test_reconciliation_never_touches_bank_transfers(invoice, bank_transfer_account):
    pending, _result = payments.start_payment(invoice, "bank_transfer", return_url=lambda p: "")
    Payment.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert payments.reconcile_pending() == {}
    pending.refresh_from_db()
    assert pending.status == Payment.Status.PENDING
