"""Who a client letter about a brief, a document, an invoice or a payment goes to, in which
language, and the plain data its template reads. Shared by the reaction table and the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import translation

from studiocrm.billing import services as billing_services
from studiocrm.billing.models import Invoice, Payment
from studiocrm.billing.providers import enabled_providers
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import Brief
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal
from studiocrm.documents import services as document_services
from studiocrm.documents.filters import format_amount, long_date
from studiocrm.documents.models import Document, Kind
from studiocrm.flow import checklist as checklists
from studiocrm.flow.letters import language_of


@dataclass
class Addressee:
    """A client letter's recipient, language, reply address and template data."""

    to: str
    language: str
    context: dict[str, Any] = field(default_factory=dict)
    reply_to: str = ""
    manager: User | None = None


def _manager_reply(manager: User | None) -> str:
    return manager.email if manager and manager.email else Studio.load().email


def contact_email(deal: Deal) -> str:
    contact = deal.contact if deal.contact_id else None
    return contact.email if contact and contact.email else ""


def for_brief(brief: Brief) -> Addressee:
    manager = brief.deal.manager or brief.sent_by
    return Addressee(
        to=brief.sent_to,
        language=brief.language,
        context={"brief": {"title": brief.title}, "link": brief_services.client_link(brief)},
        reply_to=_manager_reply(manager),
        manager=manager,
    )


def _links(documents: list[Document], language: str) -> list[dict[str, str]]:
    with translation.override(language):
        return [
            {"title": item.title, "url": document_services.client_url(item)} for item in documents
        ]


def for_documents(main: Document, documents: list[Document], *, version: int = 1) -> Addressee:
    deal = main.deal
    language = language_of(main.language)
    links = _links(documents, language)
    return Addressee(
        to=contact_email(deal),
        language=language,
        context={
            "document": {
                "title": main.title,
                "kind": main.kind,
                "updated": version > 1,
                "valid_until": _date(main.valid_until, language),
            },
            "links": links,
            "link": links[0]["url"],
        },
        reply_to=_manager_reply(deal.manager),
        manager=deal.manager,
    )


def for_document(document: Document) -> Addressee:
    """A contract with its appendices, or a proposal on its own."""
    parts = [document]
    if document.kind == Kind.CONTRACT:
        parts += list(
            Document.objects.filter(deal=document.deal, kind=Kind.APPENDIX)
            .exclude(pk=document.pk)
            .order_by("pk")
        )
    return for_documents(document, parts)


def _money(amount: Any, currency: str, language: str) -> str:
    return format_amount(amount, currency, language)


def _date(value: Any, language: str) -> str:
    return long_date(value, language) if value else ""


def invoice_data(invoice: Invoice, language: str) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "amount": _money(invoice.total, invoice.currency, language),
        "due_date": _date(invoice.due_date, language),
        "pay_online": any(getattr(provider, "online", False) for provider in enabled_providers()),
    }


def for_invoice(invoice: Invoice) -> Addressee:
    language = language_of(invoice.language)
    return Addressee(
        to=invoice.buyer.get("email", "") or contact_email(invoice.deal),
        language=language,
        context={
            "invoice": invoice_data(invoice, language),
            "link": billing_services.client_link(invoice.link_token()),
        },
        reply_to=invoice.seller.get("email", ""),
        manager=invoice.deal.manager,
    )


def for_payment(payment: Payment) -> Addressee:
    invoice = payment.invoice
    language = language_of(invoice.language)
    due = invoice.amount_due
    return Addressee(
        to=contact_email(invoice.deal) or invoice.buyer.get("email", ""),
        language=language,
        context={
            "invoice": invoice_data(invoice, language),
            "payment": {
                "amount": _money(payment.amount, payment.currency, language),
                "date": _date(payment.received_on, language),
                "still_due": _money(due, invoice.currency, language) if due else "",
            },
            **checklists.letter_context(invoice.deal, language),
        },
        reply_to=invoice.seller.get("email", ""),
        manager=invoice.deal.manager,
    )


def for_subject(subject: models.Model | None, deal: Deal) -> Addressee:
    """The addressee for whatever an event is about; the deal's contact otherwise."""
    if isinstance(subject, Brief):
        return for_brief(subject)
    if isinstance(subject, Document):
        return for_document(subject)
    if isinstance(subject, Invoice):
        return for_invoice(subject)
    if isinstance(subject, Payment):
        return for_payment(subject)
    if subject is not None and hasattr(subject, "document"):  # an Acceptance
        return for_document(subject.document)
    language = language_of(deal_language(deal))
    return Addressee(
        to=contact_email(deal),
        language=language,
        context=checklists.letter_context(deal, language),
        reply_to=_manager_reply(deal.manager),
        manager=deal.manager,
    )


def deal_language(deal: Deal) -> str:
    return billing_services.invoice_language(deal)
