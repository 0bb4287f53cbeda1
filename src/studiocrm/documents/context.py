"""The data a document template sees: one plain dict, built from the deal and its estimate.

Only dicts, lists, str, int, bool, None, ``Decimal`` and ``datetime.date`` go in: never a model
instance, a queryset or settings, so a template (which runs in the sandbox, see ``sandbox``)
can read what is listed here and nothing else. The same dict, as canonical JSON, is frozen in
every revision; ``canonical_json`` defines those bytes.

Shape (every key is always present; absent data is ``""``, ``None`` or ``[]``)::

    language            "ru" | "en": the document's language
    currency            ISO 4217 code of the deal, e.g. "RUB"
    document            {kind, title, number, date, sequence}
                        number: "12/2026" for a contract and its appendices and acts
    contract            {number, date} of the contract (for a contract, appendix, act) or None
    studio              {name, legal_name, tax_id, registration_number, address, email, phone,
                         website, bank_name, bank_account, bank_code, correspondent_account}
    client              {name, kind ("company"|"person"), legal_name, tax_id, kpp,
                         registration_number, address, signatory_name, signatory_position,
                         signatory_basis, signatory_name_genitive,
                         signatory_position_genitive, signatory_basis_genitive (the three
                         in the genitive case, for Russian contracts), bank_name,
                         bank_account, bank_code, correspondent_account, website}
    contact             {name, position, email, phone}
    manager             {name, email}
    deal                {id, title, description}
    brief               {submitted (bool), date, answers: [{key, section, question, answer}],
                         by_key: {key: answer as text}}
    estimate            None, or {title, tax_mode, tax_rate, tax_included (bool),
                         tax_on_top (bool), options: [option, ...]}
      option            {id, name, description, recommended (bool), lines: [line, ...],
                         pages: [line, ...], services: [line, ...], optional_lines: [...],
                         amount, discount, net, tax, total, optional_total, days,
                         timeline: [stage, ...]}; sums over the counted lines only
      line              {id, kind ("page"|"service"), name, description, category, depth,
                         quantity, unit, unit_price, amount, discount, net, tax, tax_rate,
                         total, optional (bool), selected (bool)}: amount = quantity ×
                         unit_price before any discount, net = amount − discount (line and
                         option discounts); selected is false for extras not chosen
      stage             {code, name, start_day, end_day, days}
    chosen              the option the document is about, with the client's optional lines:
                        for a contract/appendix/act the option accepted in the proposal; for a
                        proposal the main option as offered. None without an estimate.
    totals              {amount, discount, net, tax, total, total_in_words, tax_in_words, days}
                        of chosen: amount (sum of the counted lines' amounts) − discount = net;
                        net + tax = total with VAT on top, net = total otherwise
    timeline            chosen's stages (same shape as option.timeline)
    payment_schedule    [{number, label, percent, amount, amount_in_words, due_days}]

Money values are ``Decimal`` (strings once frozen); filters (``|money``, ``|words``,
``|date``) accept both.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio
from studiocrm.core.money import round_money
from studiocrm.documents import estimate_data
from studiocrm.documents.filters import amount_in_words, to_decimal
from studiocrm.documents.models import Document, Kind

ZERO = Decimal("0")
HUNDRED = Decimal("100")


class ScheduleError(ValueError):
    """A payment schedule that does not add up (the message is for the manager)."""


# Canonical JSON ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"not plain data: {type(value).__name__}")


def canonical_json(context: Mapping[str, Any]) -> str:
    """The frozen form of a context: sorted keys, no spaces, UTF-8 text, Decimals and dates as
    strings. Equal contexts always give equal bytes, so their SHA-256 can be recomputed."""
    return json.dumps(
        context, default=_plain, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


# Sections -----------------------------------------------------------------------------------


def studio_data(studio: Studio) -> dict[str, Any]:
    return {
        "name": studio.name,
        "legal_name": studio.legal_name or studio.name,
        "tax_id": studio.tax_id,
        "registration_number": studio.registration_number,
        "address": studio.address,
        "email": studio.email,
        "phone": studio.phone,
        "website": studio.website,
        "bank_name": studio.bank_name,
        "bank_account": studio.bank_account,
        "bank_code": studio.bank_code,
        "correspondent_account": studio.correspondent_account,
    }


# The fields of the deal's rows that a context reads. The client page loads only these and
# keys its cache on them (presenting.draft_inputs_key): keep them in step with the builders.
DEAL_FIELDS = ("title", "description", "currency")
CLIENT_FIELDS = (
    "name",
    "kind",
    "legal_name",
    "tax_id",
    "kpp",
    "registration_number",
    "address",
    "signatory_name",
    "signatory_position",
    "signatory_basis",
    "signatory_name_genitive",
    "signatory_position_genitive",
    "signatory_basis_genitive",
    "bank_name",
    "bank_account",
    "bank_code",
    "correspondent_account",
    "website",
)
CONTACT_FIELDS = ("name", "position", "email", "phone")
MANAGER_FIELDS = ("username", "first_name", "last_name", "email")


def _client_data(client: Any) -> dict[str, Any]:
    return {
        "name": client.name,
        "kind": client.kind,
        "legal_name": client.legal_name or client.name,
        "tax_id": client.tax_id,
        "registration_number": client.registration_number,
        "address": client.address,
        "signatory_name": client.signatory_name,
        "signatory_position": client.signatory_position,
        "signatory_basis": client.signatory_basis,
        "signatory_name_genitive": client.signatory_name_genitive,
        "signatory_position_genitive": client.signatory_position_genitive,
        "signatory_basis_genitive": client.signatory_basis_genitive,
        "kpp": client.kpp,
        "bank_name": client.bank_name,
        "bank_account": client.bank_account,
        "bank_code": client.bank_code,
        "correspondent_account": client.correspondent_account,
        "website": client.website,
    }


def _contact_data(contact: Any) -> dict[str, Any]:
    if contact is None:
        return {"name": "", "position": "", "email": "", "phone": ""}
    return {
        "name": contact.name,
        "position": contact.position,
        "email": contact.email,
        "phone": contact.phone,
    }


def _manager_data(user: Any) -> dict[str, Any]:
    if user is None:
        return {"name": "", "email": ""}
    return {"name": user.get_full_name() or user.username, "email": user.email}


# Payment schedule ---------------------------------------------------------------------------


def default_schedule(language: str) -> list[dict[str, Any]]:
    """50 % deposit, 50 % on acceptance of the work."""
    with translation.override(language):
        return [
            {"label": _("Deposit"), "percent": "50", "due_days": 3},
            {"label": _("On acceptance of the work"), "percent": "50", "due_days": 5},
        ]


def validate_schedule(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check and normalise a schedule: labels, percents adding up to exactly 100, due days."""
    if not steps:
        raise ScheduleError(_("Add at least one payment."))
    if len(steps) > 12:
        raise ScheduleError(_("At most 12 payments."))
    normalised = []
    total = ZERO
    for index, step in enumerate(steps, start=1):
        label = str(step.get("label", "")).strip()[:200]
        if not label:
            raise ScheduleError(_("Payment %(number)s needs a name.") % {"number": index})
        try:
            percent = to_decimal(step.get("percent"))
            due_days = int(step.get("due_days", 0))
        except (ValueError, TypeError) as error:
            raise ScheduleError(
                _("Payment %(number)s: percent and days must be numbers.") % {"number": index}
            ) from error
        if not percent.is_finite() or percent <= 0 or percent > HUNDRED:
            raise ScheduleError(
                _("Payment %(number)s: the percent must be above 0 and at most 100.")
                % {"number": index}
            )
        if due_days < 0 or due_days > 365:
            raise ScheduleError(
                _("Payment %(number)s: due days must be between 0 and 365.") % {"number": index}
            )
        percent = percent.quantize(Decimal("0.01"))
        total += percent
        normalised.append(
            {"label": label, "percent": format(percent.normalize(), "f"), "due_days": due_days}
        )
    if total != HUNDRED:
        raise ScheduleError(
            _("The payments add up to %(total)s %%, not 100 %%.") % {"total": total.normalize()}
        )
    return normalised


def schedule_amounts(
    steps: Sequence[Mapping[str, Any]], total: Decimal, currency: str, language: str
) -> list[dict[str, Any]]:
    """Amounts per step; the last step takes the rounding remainder so they sum to total."""
    rows = []
    remaining = total
    for index, step in enumerate(steps, start=1):
        percent = to_decimal(step["percent"])
        if index == len(steps):
            amount = remaining
        else:
            amount = round_money(total * percent / HUNDRED)
            remaining -= amount
        rows.append(
            {
                "number": index,
                "label": step["label"],
                "percent": percent,
                "amount": amount,
                "amount_in_words": amount_in_words(amount, currency, language),
                "due_days": int(step.get("due_days", 0)),
            }
        )
    return rows


# The whole context --------------------------------------------------------------------------


def _document_section(document: Document) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "title": document.title,
        "number": document.display_number,
        "date": document.issued_on,
        "sequence": document.sequence,
    }


def _contract_section(document: Document) -> dict[str, Any] | None:
    contract = document if document.kind == Kind.CONTRACT else None
    if contract is None and document.parent_id and document.kind in (Kind.APPENDIX, Kind.ACT):
        contract = document.parent
    if contract is None:
        return None
    return {"number": contract.display_number, "date": contract.issued_on}


def _totals(chosen: Mapping[str, Any] | None, currency: str, language: str) -> dict[str, Any]:
    if not chosen:
        return {
            "amount": ZERO,
            "discount": ZERO,
            "net": ZERO,
            "tax": ZERO,
            "total": ZERO,
            "total_in_words": amount_in_words(ZERO, currency, language),
            "tax_in_words": amount_in_words(ZERO, currency, language),
            "days": 0,
        }
    return {
        "amount": chosen["amount"],
        "discount": chosen["discount"],
        "net": chosen["net"],
        "tax": chosen["tax"],
        "total": chosen["total"],
        "total_in_words": amount_in_words(chosen["total"], currency, language),
        "tax_in_words": amount_in_words(chosen["tax"], currency, language),
        "days": chosen["days"],
    }


def build_context(
    document: Document,
    *,
    selection: Mapping[str, Any] | None = None,
    loaded: estimate_data.DealEstimate | None = None,
) -> dict[str, Any]:
    """The context of a document from the current state of its deal.

    ``selection`` ({"option", "optional"}) overrides the document's own. Deterministic: the
    same data gives the same dict, so an unchanged draft keeps its fingerprint.
    """
    deal = document.deal
    studio = Studio.load()
    language = document.language
    currency = deal.currency
    deal_estimate = loaded or estimate_data.DealEstimate(deal, language)
    estimate = deal_estimate.offered()
    chosen = None
    if estimate is not None:
        currency = estimate["currency"] or currency
        chosen = deal_estimate.chosen(selection if selection is not None else document.selection)
    totals = _totals(chosen, currency, language)
    schedule_steps = document.payment_schedule or default_schedule(language)
    return {
        "language": language,
        "currency": currency,
        "document": _document_section(document),
        "contract": _contract_section(document),
        "studio": studio_data(studio),
        "client": _client_data(deal.client),
        "contact": _contact_data(deal.contact),
        "manager": _manager_data(deal.manager),
        "deal": {
            "id": deal.pk,
            "title": estimate_data.project_title(deal),
            "description": deal.description,
        },
        "brief": estimate_data.brief_for_deal(deal, language),
        "estimate": estimate,
        "chosen": chosen,
        "totals": totals,
        "timeline": chosen["timeline"] if chosen else [],
        "payment_schedule": schedule_amounts(schedule_steps, totals["total"], currency, language),
    }
