"""How the audit page names the billing app's actions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from studiocrm.billing.models import Invoice

VERBS = {
    "model:billing.payment": _("Payment"),
    "invoice.created": _("Created an invoice"),
    "invoice.updated": _("Changed a draft invoice"),
    "invoice.draft_deleted": _("Deleted a draft invoice"),
    "invoice.issued": _("Issued an invoice"),
    "invoice.link_replaced": _("Replaced an invoice link"),
    "invoice.status_changed": _("Invoice status changed"),
    "invoice.overpaid": _("An invoice was overpaid"),
    "invoice.voided": _("Voided an invoice"),
    "invoice.credit_note_created": _("Issued a credit note"),
    "payment.started": _("The client started an online payment"),
    "payment.received": _("Payment received"),
    "payment.recorded": _("Recorded a bank transfer"),
    "payment.refunded": _("Refunded a payment"),
    "payment.mismatch": _("A payment needs review"),
    "payment.succeeded": _("Payment succeeded"),
    "payment.failed": _("Payment failed"),
    "payment.canceled": _("Payment canceled"),
    "billing.provider_settings_changed": _("Changed payment provider settings"),
}


def format_value(verb: str, key: str, value: Any, memo: dict[str, Any]) -> str | None:
    if (
        verb == "invoice.status_changed"
        and key in {"from", "to"}
        and value in Invoice.Status.values
    ):
        return str(Invoice.Status(value).label)
    return None
