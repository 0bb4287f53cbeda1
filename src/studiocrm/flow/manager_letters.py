"""The letters the studio's CRM writes to its own managers (new lead, viewed, accepted,
signed, question, paid…): like the client letters they are the owner's templates
(``flow.catalog.MANAGER_LETTERS``, Settings → Letters), rendered in the sandbox from the plain
data built here, in the reader's language. Who reads each is decided by the caller
(``flow.reactions``, ``flow.rules``).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from studiocrm.billing.models import Invoice, Payment
from studiocrm.billing.providers import UnknownProvider, provider_class
from studiocrm.briefs.models import Brief
from studiocrm.core.models import User
from studiocrm.core.money import format_money
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Deal, Task
from studiocrm.documents.filters import long_date
from studiocrm.documents.models import Acceptance, Document
from studiocrm.flow.letters import send_manager_letter
from studiocrm.flow.messages import manager_language


def _deal_link(deal: Deal) -> str:
    return absolute_url(deal.get_absolute_url())


def new_lead(recipient: User | None, deal: Deal) -> bool:
    contact = deal.contact if deal.contact_id else None
    return send_manager_letter(
        "manager_new_lead",
        recipient,
        deal,
        context={
            "lead": {
                "contact": contact.name if contact else "",
                "email": contact.email if contact else "",
                "phone": contact.phone if contact else "",
                "description": deal.description,
            },
            "link": _deal_link(deal),
        },
        dedupe_key=f"deal-new:{deal.pk}",
    )


def client_email(
    recipient: User | None, deal: Deal, *, sender: str, subject: str, key: str
) -> bool:
    """A client's email landed on the deal (intake's mailbox); the manager answers from
    their own mail: Reply-To is the client."""
    return send_manager_letter(
        "manager_client_email",
        recipient,
        deal,
        context={"email": {"sender": sender, "subject": subject}, "link": _deal_link(deal)},
        dedupe_key=key,
        reply_to=sender,
    )


def about_brief(recipient: User | None, brief: Brief, *, key: str, dedupe_key: str) -> bool:
    return send_manager_letter(
        key,
        recipient,
        brief.deal,
        context={"brief": {"title": brief.title}, "link": absolute_url(brief.get_absolute_url())},
        dedupe_key=dedupe_key,
    )


def _document(document: Document, language: str) -> dict[str, Any]:
    return {
        "title": document.title,
        "kind": document.kind,
        "valid_until": long_date(document.valid_until, language) if document.valid_until else "",
    }


def about_document(
    recipient: User | None,
    document: Document,
    *,
    key: str,
    dedupe_key: str,
    extra: dict[str, Any] | None = None,
    reply_to: str = "",
) -> bool:
    language = manager_language(recipient) if recipient else document.language
    return send_manager_letter(
        key,
        recipient,
        document.deal,
        context={
            "document": _document(document, language),
            "link": _deal_link(document.deal),
            "document_link": absolute_url(document.get_absolute_url()),
            **(extra or {}),
        },
        dedupe_key=dedupe_key,
        reply_to=reply_to,
    )


def acceptance_data(acceptance: Acceptance, together: list[Document]) -> dict[str, Any]:
    selection = acceptance.selection or {}
    option = selection.get("option_name", "")
    if option and selection.get("optional_names"):
        option += " + " + ", ".join(selection["optional_names"])
    total = selection.get("total")
    return {
        "acceptance": {
            "name": acceptance.signer_name,
            "email": acceptance.signer_email,
            "version": acceptance.revision.number,
            "option": option,
            "total": format_money(total, selection.get("currency", "")) if option and total else "",
        },
        "together": [part.title for part in together],
    }


def _method(code: str) -> str:
    try:
        return str(provider_class(code).name)
    except UnknownProvider:
        return code


def invoice_viewed(recipient: User | None, invoice: Invoice) -> bool:
    return send_manager_letter(
        "manager_invoice_viewed",
        recipient,
        invoice.deal,
        context={
            "invoice": {"number": invoice.number, "buyer": invoice.buyer.get("name", "")},
            "link": absolute_url(invoice.get_absolute_url()),
        },
        dedupe_key=f"billing-invoice-viewed:{invoice.pk}",
    )


def about_payment(recipient: User | None, payment: Payment, *, key: str, dedupe_key: str) -> bool:
    invoice = payment.invoice
    language = manager_language(recipient) if recipient else invoice.language
    with translation.override(language):
        data = {
            "invoice": {"number": invoice.number, "status": str(invoice.get_status_display())},
            "payment": {
                "amount": format_money(payment.amount, payment.currency, language),
                "method": _method(payment.provider),
                "overpaid": format_money(invoice.overpaid_amount, invoice.currency, language),
                "reported": format_money(
                    payment.reported_amount, payment.reported_currency or payment.currency
                )
                if getattr(payment, "reported_amount", None) is not None
                else "",
                "detail": getattr(payment, "status_detail", ""),
            },
            "link": absolute_url(invoice.get_absolute_url()),
        }
    return send_manager_letter(key, recipient, invoice.deal, context=data, dedupe_key=dedupe_key)


def task_due(task: Task, link: str) -> bool:
    context: dict[str, Any] = {"task": {"title": task.title}, "link": link}
    if task.deal is None:
        context["deal"] = {"title": ""}
    return send_manager_letter(
        "manager_task_due",
        task.assignee,
        task.deal,
        context=context,
        dedupe_key=f"task-due:{task.pk}",
    )


def rule_notice(recipient: User | None, deal: Deal, *, rule_name: str, dedupe_key: str) -> bool:
    """``rule_name`` already in the recipient's language."""
    return send_manager_letter(
        "manager_rule_notice",
        recipient,
        deal,
        context={
            "rule": {"name": rule_name},
            "deal": {"title": deal.title, "stage": deal.stage.name if deal.stage_id else ""},
            "link": _deal_link(deal),
        },
        dedupe_key=dedupe_key,
    )
