"""The invoices section of the deal page (listed in settings.DEAL_PANELS)."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.billing.models import Invoice
from studiocrm.billing.schedule import payment_schedule
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit

log = logging.getLogger(__name__)


def billing_panel(request: HttpRequest, deal: Deal) -> str:
    """The deal's invoices with status and what is paid, the payment-schedule steps of the
    signed contract with a one-click "Issue invoice" for each step not yet invoiced, and a
    link to an invoice by hand. Read-only; two queries plus the schedule's own."""
    invoices = list(
        Invoice.objects.filter(deal=deal).select_related("corrects").order_by("created_at", "pk")
    )
    try:
        steps = payment_schedule(deal)
    except Exception:  # a broken schedule must not hide the invoices
        log.exception("payment schedule of deal %s could not be read", deal.pk)
        steps = []
    live_steps = {
        invoice.schedule_step: invoice
        for invoice in invoices
        if invoice.schedule_step is not None
        and invoice.kind == Invoice.Kind.INVOICE
        and invoice.status != Invoice.Status.VOID
    }
    rows = [{"step": step, "invoice": live_steps.get(step.number)} for step in steps]
    pending_review = (
        Invoice.objects.filter(
            Q(overpaid_amount__gt=0) | Q(payments__status="mismatch"), deal=deal
        ).exists()
        if invoices
        else False
    )
    return render_to_string(
        "billing/panel.html",
        {
            "deal": deal,
            "invoices": invoices,
            "steps": rows,
            "can_edit": can_edit(request.user, deal),
            "attention": pending_review,
        },
        request=request,
    )
