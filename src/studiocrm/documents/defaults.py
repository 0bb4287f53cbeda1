"""The templates a new studio starts with, and a sample deal to preview templates on.

Sources live in ``default_templates/<kind>.<language>.html``; a studio may edit its copies
freely and reset one to the shipped text at any time.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio
from studiocrm.documents.context import default_schedule, schedule_amounts, studio_data
from studiocrm.documents.filters import amount_in_words, long_date
from studiocrm.documents.models import DocumentTemplate, Kind
from studiocrm.estimates.public import unit_label

DEFAULTS_DIR = Path(__file__).resolve().parent / "default_templates"
LANGUAGES = ("ru", "en")


@cache
def default_source(kind: str, language: str) -> str:
    path = DEFAULTS_DIR / f"{kind}.{language if language in LANGUAGES else 'en'}.html"
    return path.read_text(encoding="utf-8")


def refresh_unedited(template_model: Any, previous: dict[tuple[str, str], str]) -> None:
    """For data migrations: move every template whose source is exactly the previous shipped
    text (``previous``: SHA-256 by kind and language) to the current shipped text. A
    template the studio changed differs from that text and is kept."""
    for template in template_model.objects.all():
        expected = previous.get((template.kind, template.language))
        if expected and hashlib.sha256(template.source.encode()).hexdigest() == expected:
            template.source = default_source(template.kind, template.language)
            template.save(update_fields=["source"])


def default_name(kind: str, language: str) -> str:
    with translation.override(language):
        return str(Kind(kind).label)


def ensure_default_templates() -> None:
    """Create any missing template (kind × language) from the shipped defaults."""
    existing = set(DocumentTemplate.objects.values_list("kind", "language"))
    for kind in Kind.values:
        for language in LANGUAGES:
            if (kind, language) in existing:
                continue
            try:
                with transaction.atomic():
                    DocumentTemplate.objects.create(
                        kind=kind,
                        language=language,
                        name=default_name(kind, language),
                        source=default_source(kind, language),
                        payment_schedule=default_schedule(language),
                    )
            except IntegrityError:
                continue  # made at the same moment by another request


def template_for(kind: str, language: str) -> DocumentTemplate:
    """The studio's template for a kind in a language (created from the default if absent)."""
    found = DocumentTemplate.objects.filter(kind=kind, language=language).first()
    if found is None:
        ensure_default_templates()
        found = DocumentTemplate.objects.get(kind=kind, language=language)
    return found


# A sample deal for the editor's preview ------------------------------------------------------


def _line(
    identifier: int,
    kind: str,
    name: str,
    quantity: str,
    unit: str,
    unit_price: str,
    *,
    depth: int = 0,
    optional: bool = False,
    selected: bool = True,
    description: str = "",
) -> dict[str, Any]:
    price = Decimal(unit_price)
    amount = (Decimal(quantity) * price).quantize(Decimal("0.01"))
    return {
        "id": str(identifier),
        "kind": kind,
        "name": name,
        "description": description,
        "category": "",
        "depth": depth,
        "quantity": Decimal(quantity),
        "unit": unit,
        "unit_label": unit_label(unit, quantity),
        "unit_price": price,
        "amount": amount,
        "discount": Decimal("0"),
        "net": amount,
        "tax_rate": Decimal("0"),
        "tax": Decimal("0"),
        "total": amount,
        "optional": optional,
        "selected": selected,
    }


def _option(
    identifier: int,
    name: str,
    lines: list[dict[str, Any]],
    stages: list[tuple[str, str, int]],
    *,
    recommended: bool,
) -> dict[str, Any]:
    counted = [line for line in lines if not line["optional"] or line["selected"]]
    total = sum((line["total"] for line in counted), Decimal("0"))
    optional_total = sum(
        (line["total"] for line in lines if line["optional"] and not line["selected"]),
        Decimal("0"),
    )
    timeline = []
    day = 0
    for code, stage_name, days in stages:
        timeline.append(
            {
                "code": code,
                "name": stage_name,
                "start_day": day,
                "end_day": day + days,
                "days": days,
            }
        )
        day += days
    pages = [line for line in lines if line["kind"] == "page"]
    services = [line for line in lines if line["kind"] == "service"]
    return {
        "id": str(identifier),
        "name": name,
        "recommended": recommended,
        "discount_percent": Decimal("0"),
        "lines": pages + services,
        "pages": pages,
        "services": services,
        "optional_lines": [line for line in lines if line["optional"]],
        "amount": total,
        "discount": Decimal("0"),
        "net": total,
        "tax": Decimal("0"),
        "total": total,
        "optional_total": optional_total,
        "days": day,
        "timeline": timeline,
    }


def sample_context(kind: str, language: str) -> dict[str, Any]:
    """A made-up deal in the shape of ``context.build_context``, for previews."""
    ru = language == "ru"
    currency = "RUB" if ru else "EUR"
    scale = Decimal("1") if ru else Decimal("0.012")

    def price(value: int) -> str:
        return str((Decimal(value) * scale).quantize(Decimal("1")))

    page, service = "page", "piece"  # units; their names agree with the quantities
    with translation.override(language):
        basic_lines = [
            _line(1, "page", "Главная" if ru else "Home", "1", page, price(45000)),
            _line(2, "page", "О компании" if ru else "About us", "1", page, price(18000)),
            _line(3, "page", "Услуги" if ru else "Services", "1", page, price(22000)),
            _line(
                4,
                "page",
                "Страница услуги" if ru else "Service page",
                "4",
                page,
                price(9000),
                depth=1,
            ),
            _line(5, "page", "Контакты" if ru else "Contacts", "1", page, price(12000)),
            _line(
                6,
                "service",
                "Адаптивная вёрстка" if ru else "Responsive layout",
                "1",
                service,
                price(30000),
            ),
        ]
        standard_lines = [
            *basic_lines,
            _line(7, "page", "Блог" if ru else "Blog", "1", page, price(25000)),
            _line(8, "service", "Базовое SEO" if ru else "Basic SEO", "1", service, price(20000)),
            _line(
                9,
                "service",
                "Копирайтинг" if ru else "Copywriting",
                "8",
                page,
                price(3500),
                optional=True,
                selected=False,
            ),
        ]
    with translation.override(language):
        stage_names = [
            ("analysis", _("Analysis"), 3),
            ("design", _("Design"), 10),
            ("development", _("Development"), 15),
            ("testing", _("Testing"), 4),
            ("launch", _("Launch"), 2),
        ]
    options = [
        _option(
            11,
            "Старт" if ru else "Start",
            basic_lines,
            [(code, name, max(1, days * 2 // 3)) for code, name, days in stage_names],
            recommended=False,
        ),
        _option(12, "Бизнес" if ru else "Business", standard_lines, stage_names, recommended=True),
    ]
    chosen = options[1]
    studio = studio_data(Studio.load())
    totals = {
        "amount": chosen["amount"],
        "discount": chosen["discount"],
        "net": chosen["net"],
        "tax": chosen["tax"],
        "total": chosen["total"],
        "total_in_words": amount_in_words(chosen["total"], currency, language),
        "tax_in_words": amount_in_words(chosen["tax"], currency, language),
        "days": chosen["days"],
    }
    number = "7/2026"
    date = datetime.date(2026, 3, 12)
    with translation.override(language):
        brief_rows = [
            (
                "goal",
                _("Goal"),
                "Привлекать заявки на ремонт квартир" if ru else "Win more renovation leads",
            ),
            (
                "audience",
                _("Audience"),
                "Владельцы квартир в Москве" if ru else "Flat owners in Berlin",
            ),
            (
                "features",
                _("Features"),
                "Калькулятор, портфолио, блог" if ru else "Calculator, portfolio, blog",
            ),
            ("deadline", _("Deadline"), long_date("2026-05-01", language)),
        ]
    return {
        "language": language,
        "currency": currency,
        "document": {
            "kind": kind,
            "title": default_name(kind, language),
            "number": "" if kind == Kind.PROPOSAL else number,
            "date": date,
            "sequence": 1,
        },
        "contract": None if kind == Kind.PROPOSAL else {"number": number, "date": date},
        "studio": studio,
        "client": {
            "name": "ООО «Ремонт Плюс»" if ru else "Renovate GmbH",
            "kind": "company",
            "legal_name": "Общество с ограниченной ответственностью «Ремонт Плюс»"
            if ru
            else "Renovate GmbH",
            "tax_id": "7705123456" if ru else "DE123456789",
            "registration_number": "1157746000000" if ru else "HRB 12345",
            "address": "123100, г. Москва, ул. Примерная, д. 1" if ru else "Musterstraße 1, Berlin",
            "signatory_name": "Иванов Иван Иванович" if ru else "Jonas Weber",
            "signatory_position": "Генеральный директор" if ru else "Managing Director",
            "signatory_basis": "Устав" if ru else "",
            "signatory_name_genitive": "Иванова Ивана Ивановича" if ru else "",
            "signatory_position_genitive": "Генерального директора" if ru else "",
            "signatory_basis_genitive": "Устава" if ru else "",
            "kpp": "770501001" if ru else "",
            "bank_name": "",
            "bank_account": "",
            "bank_code": "",
            "correspondent_account": "",
            "website": "",
        },
        "contact": {
            "name": "Иван Иванов" if ru else "Jonas Weber",
            "position": "",
            "email": "client@example.com",
            "phone": "",
        },
        "manager": {"name": "Анна" if ru else "Anna", "email": studio["email"]},
        "deal": {
            "id": 0,
            "title": "Сайт для ремонтной компании" if ru else "Website for a renovation company",
            "description": "",
        },
        "brief": {
            "submitted": True,
            "date": date,
            "answers": [
                {"key": key, "section": "", "question": str(question), "answer": answer}
                for key, question, answer in brief_rows
            ],
            "by_key": {key: answer for key, _question, answer in brief_rows},
        },
        "estimate": {
            "title": "Сайт" if ru else "Website",
            "currency": currency,
            "tax_mode": "no_vat",
            "tax_included": False,
            "tax_on_top": False,
            "has_tax": False,
            "options": options,
        },
        "chosen": chosen,
        "totals": totals,
        "timeline": chosen["timeline"],
        "payment_schedule": schedule_amounts(
            default_schedule(language), totals["total"], currency, language
        ),
    }
