"""The dry run: what each row of a mapped table would create, update or skip, and why.

The same plan drives the import (``services.run_import``), computed again inside its
transaction, so the database is matched as it is at that moment. Matching: a contact by
email (case-insensitive) or phone (E.164 via phonenumbers), a client by INN, then by the
matched contact, then by its exact name; rows in the file match earlier rows the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.clients.validation import email_problem
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Stage
from studiocrm.transfer.mapping import FIELDS
from studiocrm.transfer.reading import Table, cell_text

CREATE, UPDATE, SKIP = "create", "update", "skip"
AMOUNT_MAX = Decimal("999999999999.99")
DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)
CURRENCY_SIGNS = {"₽": "RUB", "руб": "RUB", "р.": "RUB", "$": "USD", "€": "EUR", "£": "GBP"}
LIMITS = {
    "client_name": 300,
    "client_tax_id": 32,
    "contact_name": 200,
    "contact_last_name": 100,
    "contact_middle_name": 100,
    "contact_position": 200,
    "contact_email": 254,
    "contact_phone": 40,
    "deal_title": 300,
    "deal_notes": 10_000,
}
# How many rows a report keeps for the page (every row with an error is counted).
REPORT_ROWS = 500


@dataclass
class Ref:
    """An existing row (pk) or one this import creates (index into the plan's new list)."""

    pk: int | None = None
    new: int | None = None


@dataclass
class RowPlan:
    number: int  # line in the file (the header is line 1)
    action: str = SKIP
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    client: Ref | None = None
    contact: Ref | None = None
    deal: dict[str, Any] | None = None
    summary: str = ""


@dataclass
class Plan:
    rows: list[RowPlan]
    new_clients: list[dict[str, Any]] = field(default_factory=list)
    new_contacts: list[dict[str, Any]] = field(default_factory=list)
    client_updates: dict[int, dict[str, str]] = field(default_factory=dict)
    contact_updates: dict[int, dict[str, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        deals = sum(1 for row in self.rows if row.deal is not None and row.action != SKIP)
        return {
            "rows": len(self.rows),
            "create": sum(1 for row in self.rows if row.action == CREATE),
            "update": sum(1 for row in self.rows if row.action == UPDATE),
            "skip": sum(1 for row in self.rows if row.action == SKIP),
            "errors": sum(1 for row in self.rows if row.errors),
            "clients_created": len(self.new_clients),
            "contacts_created": len(self.new_contacts),
            "clients_updated": len(self.client_updates),
            "contacts_updated": len(self.contact_updates),
            "deals_created": deals,
        }

    def report(self) -> dict[str, Any]:
        """Counts plus the rows worth showing: every row with an error or warning first,
        then the others, at most REPORT_ROWS."""
        notable = [row for row in self.rows if row.errors or row.warnings]
        others = [row for row in self.rows if not (row.errors or row.warnings)]
        shown = (notable + others)[:REPORT_ROWS]
        shown.sort(key=lambda row: row.number)
        return {
            "counts": self.counts(),
            "rows": [
                {
                    "number": row.number,
                    "action": row.action,
                    "summary": row.summary,
                    "errors": row.errors,
                    "warnings": row.warnings,
                }
                for row in shown
            ],
        }


@lru_cache(maxsize=65536)
def _phone(raw: str) -> str:
    # Peer exports repeat a client's phone on each of its deals: parse each number once.
    return normalize_phone(raw)


@lru_cache(maxsize=65536)
def _email_ok(email: str) -> bool:
    # The rule every intake channel applies, so an import stores no address they refuse.
    return email_problem(email) is None


def parse_amount(raw: Any) -> tuple[Decimal | None, str]:
    """(amount, currency found beside it) from '1 500 000,50 ₽', '1,500.5', 150000.0."""
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return Decimal(str(raw)).quantize(Decimal("0.01")), ""
    text = str(raw).strip().replace("\u00a0", " ").replace("\u202f", " ")
    currency = ""
    lowered = text.lower()
    for sign, code in CURRENCY_SIGNS.items():
        if sign in lowered:
            currency = code
    match = re.fullmatch(
        r"([A-Za-z]{3})?\s*([-\d\s.,']+?)\s*([A-Za-z]{3})?",
        re.sub(r"(₽|руб\.?|р\.|\$|€|£)", "", text, flags=re.IGNORECASE).strip(),
    )
    if not match:
        raise ValueError(text)
    currency = (match.group(1) or match.group(3) or currency).upper()
    number = match.group(2).replace(" ", "").replace("'", "")
    if "," in number and "." in number:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        number = number.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in number:
        head, _sep, tail = number.rpartition(",")
        number = (
            f"{head.replace(',', '')}.{tail}" if len(tail) in (1, 2) else number.replace(",", "")
        )
    try:
        return Decimal(number).quantize(Decimal("0.01")), currency
    except InvalidOperation as error:
        raise ValueError(text) from error


def parse_date(raw: Any, zone: ZoneInfo) -> datetime | None:
    """An aware datetime from a cell (XLSX datetimes or the usual text forms), read in the
    studio's time zone."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(12))
    else:
        text = str(raw).strip()
        for pattern in DATE_FORMATS:
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
        if pattern in ("%d.%m.%Y", "%Y-%m-%d"):
            value = value.replace(hour=12)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zone)
    return value


def _unescape(text: str) -> str:
    """Our own exports prefix cells starting with = + - @ with an apostrophe (CSV
    injection guard); take it off again so an export imports back as it was."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


class Matcher:
    """What exists, loaded once (three queries), plus what the plan adds as it goes."""

    def __init__(self) -> None:
        self.by_email: dict[str, Ref] = {}
        self.by_phone: dict[str, Ref] = {}
        self.client_of_contact: dict[int, int] = {}
        self.contact_values: dict[int, dict[str, str]] = {}
        for pk, client_id, email, phone, phone_normalized, position in Contact.objects.values_list(
            "pk", "client_id", "email", "phone", "phone_normalized", "position"
        ).order_by("-pk"):
            if email:
                self.by_email[email.lower()] = Ref(pk=pk)
            if phone_normalized:
                self.by_phone[phone_normalized] = Ref(pk=pk)
            self.client_of_contact[pk] = client_id
            self.contact_values[pk] = {"email": email, "phone": phone, "position": position}
        self.by_tax_id: dict[str, Ref] = {}
        self.by_name: dict[str, Ref] = {}
        self.client_values: dict[int, dict[str, str]] = {}
        for pk, name, tax_id in Client.objects.values_list("pk", "name", "tax_id").order_by("-pk"):
            if tax_id:
                self.by_tax_id[tax_id] = Ref(pk=pk)
            self.by_name[name.strip().lower()] = Ref(pk=pk)
            self.client_values[pk] = {"tax_id": tax_id}
        self.users: dict[str, User] = {}
        for user in User.objects.filter(is_active=True):
            for key in (user.username, user.email, user.get_full_name()):
                if key:
                    self.users.setdefault(key.strip().lower(), user)


def build_plan(
    table: Table, mapping: dict[str, str], stage_mapping: dict[str, str], *, actor: User
) -> Plan:
    """Plan every row of ``table`` under ``mapping`` (column index -> field) and
    ``stage_mapping`` (the file's stage name -> stage code). Reads, never writes."""
    studio = Studio.load()
    zone = ZoneInfo(studio.time_zone)
    stages = {stage.code: stage for stage in Stage.objects.all()}
    matcher = Matcher()
    plan = Plan(rows=[])
    columns = {int(index): name for index, name in mapping.items() if name}
    seen_rows: dict[tuple, int] = {}
    formula_cells = table.formula_cells or set()
    for row_index, cells in enumerate(table.rows):
        row = RowPlan(number=row_index + 2)
        plan.rows.append(row)
        values: dict[str, Any] = {}
        for column, name in columns.items():
            if (row_index, column) in formula_cells:
                row.errors.append(
                    _("Column “%(column)s” holds a formula; export values, not formulas.")
                    % {"column": table.headers[column] if column < len(table.headers) else column}
                )
                continue
            value = cells[column] if column < len(cells) else None
            if name in ("deal_amount", "deal_created", "deal_closed"):
                values[name] = value
            else:
                values[name] = _unescape(
                    " ".join(cell_text(value).split()) if name != "deal_notes" else cell_text(value)
                )
        key = tuple(sorted((name, cell_text(value)) for name, value in values.items()))
        if key in seen_rows:
            row.summary = _("Same as row %(row)d") % {"row": seen_rows[key]}
            row.warnings.append(row.summary)
            continue
        seen_rows[key] = row.number
        _plan_row(row, values, plan, matcher, stages, stage_mapping, zone, studio, actor)
        if row.errors:
            row.action = SKIP
    return plan


def _plan_row(row, values, plan, matcher, stages, stage_mapping, zone, studio, actor) -> None:
    for name, limit in LIMITS.items():
        text = values.get(name) or ""
        if "\x00" in text:
            row.errors.append(_("Null characters are not allowed."))
        if len(text) > limit:
            row.errors.append(
                _("“%(field)s” is longer than %(limit)d characters.")
                % {"field": FIELDS[name], "limit": limit}
            )
    email = values.get("contact_email", "")
    if email and not _email_ok(email):
        row.errors.append(_("“%(email)s” is not an email address.") % {"email": email})
    phone = values.get("contact_phone", "")
    phone_normalized = _phone(phone) if phone else ""
    if phone and not phone_normalized:
        row.warnings.append(_("Phone “%(phone)s” is not a number we can match.") % {"phone": phone})
    tax_id = re.sub(r"\D", "", values.get("client_tax_id", ""))
    if values.get("client_tax_id") and len(tax_id) not in (10, 12):
        row.errors.append(_("INN must have 10 or 12 digits."))
    company = values.get("client_name", "")
    person = " ".join(
        part
        for part in (
            values.get("contact_name", ""),
            values.get("contact_middle_name", ""),
            values.get("contact_last_name", ""),
        )
        if part
    )[:200]
    title = values.get("deal_title", "")
    if not (company or person or email or phone):
        row.errors.append(_("The row names no company, contact, email or phone."))
    deal = None
    if title or values.get("deal_stage") or values.get("deal_amount") not in (None, ""):
        deal = _plan_deal(row, values, stages, stage_mapping, zone, studio, matcher)
        if not title:
            row.errors.append(_("A deal needs a name."))
    if row.errors:
        return
    # Contact.
    contact_ref = None
    if email:
        contact_ref = matcher.by_email.get(email.lower())
    if contact_ref is None and phone_normalized:
        contact_ref = matcher.by_phone.get(phone_normalized)
    # Client.
    client_ref = matcher.by_tax_id.get(tax_id) if tax_id else None
    if client_ref is None and contact_ref is not None:
        client_ref = (
            Ref(pk=matcher.client_of_contact[contact_ref.pk])
            if contact_ref.pk is not None
            else Ref(new=plan.new_contacts[contact_ref.new]["client"])
        )
    if client_ref is None and company:
        client_ref = matcher.by_name.get(company.lower())
    created: list[str] = []
    updated: list[str] = []
    if client_ref is None:
        name = company or person or email or phone
        plan.new_clients.append(
            {
                "name": name,
                "kind": Client.Kind.COMPANY if company else Client.Kind.PERSON,
                "tax_id": tax_id,
            }
        )
        client_ref = Ref(new=len(plan.new_clients) - 1)
        if tax_id:
            matcher.by_tax_id[tax_id] = client_ref
        matcher.by_name[name.lower()] = client_ref
        created.append(_("client %(name)s") % {"name": name})
    elif tax_id:
        current = (
            matcher.client_values[client_ref.pk]["tax_id"]
            if client_ref.pk is not None
            else plan.new_clients[client_ref.new]["tax_id"]
        )
        if not current:
            if client_ref.pk is not None:
                plan.client_updates.setdefault(client_ref.pk, {})["tax_id"] = tax_id
                matcher.client_values[client_ref.pk]["tax_id"] = tax_id
                updated.append(_("client's INN"))
            else:
                plan.new_clients[client_ref.new]["tax_id"] = tax_id
            matcher.by_tax_id[tax_id] = client_ref
    if contact_ref is None and (person or email or phone):
        plan.new_contacts.append(
            {
                "client": client_ref.new if client_ref.pk is None else None,
                "client_pk": client_ref.pk,
                "name": person or email or phone,
                "email": email,
                "phone": phone,
                "phone_normalized": phone_normalized,
                "position": values.get("contact_position", ""),
            }
        )
        contact_ref = Ref(new=len(plan.new_contacts) - 1)
        if email:
            matcher.by_email[email.lower()] = contact_ref
        if phone_normalized:
            matcher.by_phone[phone_normalized] = contact_ref
        created.append(_("contact %(name)s") % {"name": person or email or phone})
    elif contact_ref is not None:
        fill = {"email": email, "phone": phone, "position": values.get("contact_position", "")}
        current = (
            matcher.contact_values[contact_ref.pk]
            if contact_ref.pk is not None
            else plan.new_contacts[contact_ref.new]
        )
        changes = {key: value for key, value in fill.items() if value and not current.get(key)}
        if changes:
            current.update(changes)
            if contact_ref.pk is not None:
                plan.contact_updates.setdefault(contact_ref.pk, {}).update(changes)
                updated.append(_("contact's %(fields)s") % {"fields": ", ".join(changes)})
            else:
                if "phone" in changes:
                    current["phone_normalized"] = phone_normalized
            if email and "email" in changes:
                matcher.by_email[email.lower()] = contact_ref
            if phone_normalized and "phone" in changes:
                matcher.by_phone[phone_normalized] = contact_ref
    row.client = client_ref
    row.contact = contact_ref
    if deal is not None:
        row.deal = deal
        created.append(_("deal %(title)s") % {"title": title})
    if created:
        row.action = CREATE
    elif updated:
        row.action = UPDATE
    else:
        row.action = SKIP
        row.warnings.append(_("Already in the CRM; nothing new."))
    row.summary = "; ".join([*map(str, created), *map(str, updated)])


def _plan_deal(row, values, stages, stage_mapping, zone, studio, matcher) -> dict[str, Any]:
    deal: dict[str, Any] = {
        "title": values.get("deal_title", ""),
        "notes": values.get("deal_notes", ""),
    }
    stage_name = values.get("deal_stage", "")
    code = stage_mapping.get(stage_name) or "new"
    if code not in stages:
        row.errors.append(_("Stage “%(stage)s” is not mapped.") % {"stage": stage_name})
    deal["stage"] = code
    try:
        amount, currency = parse_amount(values.get("deal_amount"))
    except ValueError:
        row.errors.append(_("“%(value)s” is not an amount.") % {"value": values.get("deal_amount")})
        amount, currency = None, ""
    if amount is not None and not Decimal("0") <= amount <= AMOUNT_MAX:
        row.errors.append(_("The amount must be between 0 and 999 999 999 999."))
    deal["amount"] = amount
    currency = (values.get("deal_currency") or currency or studio.default_currency).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        row.errors.append(_("“%(value)s” is not a currency code.") % {"value": currency})
    deal["currency"] = currency
    for name in ("deal_created", "deal_closed"):
        try:
            deal[name] = parse_date(values.get(name), zone)
        except ValueError:
            row.errors.append(_("“%(value)s” is not a date.") % {"value": values.get(name)})
            deal[name] = None
    now = timezone.now()
    if deal["deal_created"] and deal["deal_created"] > now:
        row.errors.append(_("The creation date is in the future."))
    manager_name = values.get("deal_manager", "")
    deal["manager"] = None
    if manager_name:
        user = matcher.users.get(manager_name.strip().lower())
        if user is None:
            row.warnings.append(
                _("No user “%(name)s”: the deal stays unassigned.") % {"name": manager_name}
            )
        else:
            deal["manager"] = user.pk
    return deal
