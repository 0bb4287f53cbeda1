"""What an invoice owes and has received, recomputed from its rows.

Both ``billing.services`` (credit notes, voiding) and ``billing.payments`` (money in and
out) call ``refresh_invoice`` under the invoice's row lock; it lives here so neither has to
import the other.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.billing.models import ZERO, Invoice, Payment, Refund
from studiocrm.billing.providers import codes, provider_class
from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.money import round_money
from studiocrm.deals import events


def studio_today(studio: Studio | None = None) -> date:
    """Today in the studio's time zone: the date printed on documents."""
    studio = studio or Studio.load()
    try:
        zone = zoneinfo.ZoneInfo(studio.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return timezone.now().astimezone(zone).date()


# An invoice reaching these statuses is news for the deal (reminders, analytics).
_STATUS_EVENTS = {
    Invoice.Status.PAID: events.INVOICE_PAID,
    Invoice.Status.OVERDUE: events.INVOICE_OVERDUE,
}


@dataclass(frozen=True)
class Refresh:
    old_status: str
    new_status: str
    overpaid_before: Decimal
    overpaid_after: Decimal


def refresh_invoice(invoice: Invoice, *, actor: User | None = None) -> Refresh:
    """Recompute paid, overpaid, credited and status of a locked invoice from its rows.

    ``paid_amount`` never exceeds what is due (total less credit notes); whatever was
    received beyond it (net of refunds) is ``overpaid_amount``. Call inside a transaction
    holding ``select_for_update`` on the invoice.
    """
    received = sum_amounts(Payment.objects.filter(invoice=invoice, status=Payment.Status.SUCCEEDED))
    refunded = sum_amounts(
        Refund.objects.filter(payment__invoice=invoice, payment__status=Payment.Status.SUCCEEDED)
    )
    credited = sum_amounts(
        Invoice.objects.filter(corrects=invoice, kind=Invoice.Kind.CREDIT_NOTE).exclude(
            status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID]
        ),
        field="total",
    )
    net = max(ZERO, received - refunded)
    old_status, overpaid_before = invoice.status, invoice.overpaid_amount
    invoice.credited_amount = credited
    due_total = (
        ZERO if invoice.status == Invoice.Status.VOID else max(ZERO, invoice.total - credited)
    )
    invoice.paid_amount = min(net, due_total)
    invoice.overpaid_amount = net - invoice.paid_amount
    if not invoice.is_draft and not invoice.is_credit_note:
        invoice.status = _status_for(invoice, due_total, studio_today())
    if invoice.status == Invoice.Status.PAID and old_status != Invoice.Status.PAID:
        invoice.paid_at = timezone.now()
    elif invoice.status != Invoice.Status.PAID:
        invoice.paid_at = None
    if invoice.status == Invoice.Status.VOID and invoice.voided_at is None:
        invoice.voided_at = timezone.now()
        invoice.void_reason = invoice.void_reason or _("Fully credited")
    invoice.save(
        update_fields=[
            "credited_amount",
            "paid_amount",
            "overpaid_amount",
            "status",
            "paid_at",
            "voided_at",
            "void_reason",
            "updated_at",
        ]
    )
    if old_status != invoice.status:
        audit.record(
            "invoice.status_changed",
            invoice,
            actor=actor,
            data={"from": old_status, "to": invoice.status, "paid": str(invoice.paid_amount)},
        )
        if invoice.status in _STATUS_EVENTS:
            events.emit(_STATUS_EVENTS[invoice.status], invoice.deal, actor=actor, subject=invoice)
    if invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID):
        # Nothing is owed any more: a client's "I'll transfer" note is settled.
        invoice.payments.filter(status=Payment.Status.PENDING, provider__in=offline_codes()).update(
            status=Payment.Status.CANCELED, status_detail="invoice settled"
        )
    return Refresh(old_status, invoice.status, overpaid_before, invoice.overpaid_amount)


def _status_for(invoice: Invoice, due_total: Decimal, today: date) -> str:
    if invoice.status == Invoice.Status.VOID:
        return Invoice.Status.VOID
    if due_total <= 0:
        return Invoice.Status.VOID  # fully credited
    if invoice.paid_amount >= due_total:
        return Invoice.Status.PAID
    if invoice.due_date is not None and today > invoice.due_date:
        return Invoice.Status.OVERDUE
    if invoice.paid_amount > 0:
        return Invoice.Status.PARTIALLY_PAID
    return Invoice.Status.ISSUED


def sum_amounts(queryset, field: str = "amount") -> Decimal:  # noqa: ANN001 - any queryset
    return round_money(queryset.aggregate(total=Sum(field))["total"] or ZERO)


def offline_codes() -> list[str]:
    """Providers whose payments a person confirms (bank transfer), not a webhook."""
    return [code for code in codes() if not provider_class(code).online]
