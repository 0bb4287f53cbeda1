"""Data to preview a letter with: a real deal's (its latest brief, document, invoice or
payment), completed with sample values where the deal has nothing yet, so every
placeholder renders while the owner edits."""

from __future__ import annotations

from typing import Any

from django.db import models

from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Deal
from studiocrm.documents.models import Document, Kind
from studiocrm.flow import addressing
from studiocrm.flow.catalog import KICKOFF_CHECKLIST
from studiocrm.flow.letters import base_context

SAMPLE = {
    "ru": {
        "brief": {"title": "Корпоративный сайт"},
        "document": {
            "title": "Коммерческое предложение № 12",
            "kind": "proposal",
            "updated": False,
            "valid_until": "15 мая 2027 г.",
        },
        "invoice": {
            "number": "12",
            "amount": "120 000 ₽",
            "due_date": "12 мая 2027 г.",
            "pay_online": True,
            "buyer": "ООО «Ромашка»",
            "status": "Выставлен",
        },
        "payment": {
            "amount": "60 000 ₽",
            "date": "8 мая 2027 г.",
            "still_due": "",
            "method": "Банковский перевод",
            "overpaid": "1 000 ₽",
            "reported": "59 000 ₽",
            "detail": "",
        },
        "comment": "Уточните, пожалуйста, сколько будет товаров в каталоге.",
        "lead": {
            "contact": "Ирина Петрова",
            "email": "irina@example.com",
            "phone": "+7 900 000-00-00",
            "description": "Нужен сайт для пекарни с онлайн-заказом.",
        },
        "acceptance": {
            "name": "Ирина Петрова",
            "email": "irina@example.com",
            "version": 2,
            "option": "Корпоративный сайт",
            "total": "120 000 ₽",
        },
        "together": [],
        "question": {
            "text": "Можно ли оплатить в два этапа?",
            "who": "Ирина",
            "email": "irina@example.com",
        },
        "task": {"title": "Позвонить клиенту"},
        "email": {"sender": "irina@example.com", "subject": "Фотографии для сайта"},
        "rule": {"name": "Сделка без движения 7 дней"},
        "day": "8 мая 2027 г.",
        "tasks": [{"time": "11:00", "title": "Позвонить клиенту", "deal": "Сайт пекарни"}],
        "client_actions": [
            {"label": "Клиент открыл счёт", "deal": "Сайт пекарни", "link": "https://example.com/"}
        ],
        "idle": [
            {
                "title": "Лендинг для автосервиса",
                "stage": "Предложение отправлено",
                "since": "28 апреля 2027 г.",
                "link": "https://example.com/",
            }
        ],
        "idle_days": 7,
        "status": {
            "stage": "В работе",
            "note": "Дизайн главной страницы готов, на этой неделе показываем макет.",
            "moved": False,
        },
    },
    "en": {
        "brief": {"title": "Company website"},
        "document": {
            "title": "Proposal No. 12",
            "kind": "proposal",
            "updated": False,
            "valid_until": "15 May 2027",
        },
        "invoice": {
            "number": "12",
            "amount": "$1,200",
            "due_date": "12 May 2027",
            "pay_online": True,
            "buyer": "Acme Ltd",
            "status": "Issued",
        },
        "payment": {
            "amount": "$600",
            "date": "8 May 2027",
            "still_due": "",
            "method": "Bank transfer",
            "overpaid": "$10",
            "reported": "$590",
            "detail": "",
        },
        "comment": "Please tell us how many products the catalogue will hold.",
        "lead": {
            "contact": "Jane Doe",
            "email": "jane@example.com",
            "phone": "+44 20 0000 0000",
            "description": "A site for a bakery with online orders.",
        },
        "acceptance": {
            "name": "Jane Doe",
            "email": "jane@example.com",
            "version": 2,
            "option": "Company website",
            "total": "$1,200",
        },
        "together": [],
        "question": {
            "text": "Can we pay in two steps?",
            "who": "Jane",
            "email": "jane@example.com",
        },
        "task": {"title": "Call the client"},
        "email": {"sender": "jane@example.com", "subject": "Photos for the site"},
        "rule": {"name": "Deal idle for 7 days"},
        "day": "8 May 2027",
        "tasks": [{"time": "11:00", "title": "Call the client", "deal": "Bakery website"}],
        "client_actions": [
            {
                "label": "The client opened the invoice",
                "deal": "Bakery website",
                "link": "https://example.com/",
            }
        ],
        "idle": [
            {
                "title": "Landing page for a garage",
                "stage": "Proposal sent",
                "since": "28 April 2027",
                "link": "https://example.com/",
            }
        ],
        "idle_days": 7,
        "status": {
            "stage": "In work",
            "note": "The home page design is ready; we will show you the mock-up this week.",
            "moved": False,
        },
    },
}


def _subject_for(key: str, deal: Deal) -> models.Model | None:
    if key.startswith("brief"):
        return Brief.objects.filter(deal=deal).order_by("-pk").first()
    if key.startswith("proposal"):
        return Document.objects.filter(deal=deal, kind=Kind.PROPOSAL).order_by("-pk").first()
    if key.startswith(("contract", "signing", "signed")):
        return Document.objects.filter(deal=deal, kind=Kind.CONTRACT).order_by("-pk").first()
    if key.startswith(("invoice", "payment_due", "payment_overdue")):
        return Invoice.objects.filter(deal=deal).exclude(number="").order_by("-pk").first()
    if key in ("payment_received", "kickoff"):
        return (
            Payment.objects.filter(invoice__deal=deal, status=Payment.Status.SUCCEEDED)
            .order_by("-pk")
            .first()
        )
    return None


def context_for(key: str, language: str, deal: Deal | None) -> tuple[dict[str, Any], Deal | None]:
    """The context a letter would get on ``deal`` (the newest deal when None; sample data
    alone in a studio without deals)."""
    deal = (
        deal or Deal.objects.select_related("contact", "client", "manager").order_by("-pk").first()
    )
    sample = SAMPLE.get(language, SAMPLE["en"])
    if deal is None:
        example = Deal(title=sample["brief"]["title"])
        context = {**base_context(example), **sample, "link": "https://example.com/"}
        context["links"] = [{"title": sample["document"]["title"], "url": context["link"]}]
        context["checklist"] = KICKOFF_CHECKLIST.get(language, KICKOFF_CHECKLIST["en"])
        context["checklist_link"] = context["document_link"] = context["link"]
        return context, None
    link = absolute_url(deal.get_absolute_url())
    context: dict[str, Any] = {
        **base_context(deal),
        **sample,
        "link": link,
        "links": [{"title": sample["document"]["title"], "url": link}],
        "checklist": KICKOFF_CHECKLIST.get(language, KICKOFF_CHECKLIST["en"]),
        "checklist_link": link,
        "document_link": link,
    }
    if deal.stage_id:
        context["deal"] = {**context["deal"], "stage": deal.stage.name}
    subject = _subject_for(key, deal)
    if subject is not None:
        real = addressing.for_subject(subject, deal).context
        context.update(real)
    return context, deal
