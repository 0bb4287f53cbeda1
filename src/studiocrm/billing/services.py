"""Invoices: create (by hand or from the payment schedule), issue, void, correct.

Every function runs in one transaction, locks the invoice it changes, writes the audit row
and queues email through the outbox in that transaction. Money received is in
``billing.payments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from studiocrm.billing.ledger import refresh_invoice, studio_today
from studiocrm.billing.models import Invoice, InvoiceLine, ProviderAccount
from studiocrm.billing.schedule import (
    ScheduleStep,
    contract_reference,
    documents_language,
    payment_schedule,
)
from studiocrm.billing.totals import compute_totals, line_amount
from studiocrm.billing.workdays import add_working_days
from studiocrm.clients.models import Client, Contact
from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.money import round_money
from studiocrm.core.numbering import next_number
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Deal

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
MAX_LINES = 100
SECRET_FIELDS = {"secret_key", "webhook_secret"}


class BillingError(Exception):
    """A change the invoice's state does not allow; the message is for the user."""


class NotAllowed(BillingError):
    pass


class ScheduleStepInvoiced(BillingError):
    """The schedule step already has a live invoice."""


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""


def lock_invoice(pk: int) -> Invoice:
    """The invoice, locked for the rest of the transaction (only its own row), with its deal.
    Lock order everywhere: invoice, then payment, then deal."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("deal__client", "deal__contact", "deal__manager")
        .get(pk=pk)
    )


def check_can_edit(actor: User | None, deal: Deal) -> None:
    """Raise NotAllowed unless ``actor`` may change the deal's invoices (None = system)."""
    deal_services.check_can_edit(actor, deal, error=NotAllowed)


def format_number(series: str, year: int, sequence: int) -> str:
    """ "2026-0007" for invoices, "CN-2026-0002" for credit notes."""
    prefix = "" if series == INVOICE_SERIES else f"{series}-"
    return f"{prefix}{year}-{sequence:04d}"


def seller_details(studio: Studio) -> dict[str, str]:
    """The studio's legal and bank details as frozen into an issued invoice."""
    return {
        "name": studio.legal_name or studio.name,
        "brand": studio.name,
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


def buyer_details(client: Client, contact: Contact | None) -> dict[str, str]:
    return {
        "name": client.legal_name or client.name,
        "tax_id": client.tax_id,
        "registration_number": client.registration_number,
        "address": client.address,
        "contact": contact.name if contact else "",
        "email": contact.email if contact else "",
    }


def _clean_lines(lines: Sequence[LineInput]) -> list[LineInput]:
    cleaned = [line for line in lines if line.description.strip()]
    if not cleaned:
        raise BillingError(_("An invoice needs at least one line."))
    if len(cleaned) > MAX_LINES:
        raise BillingError(_("An invoice can have at most %(count)s lines.") % {"count": MAX_LINES})
    for line in cleaned:
        if line.quantity <= 0 or line.unit_price < 0:
            raise BillingError(_("Quantities must be positive and prices not negative."))
    return cleaned


def _write_lines(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line.description.strip()[:500],
            quantity=line.quantity,
            unit=line.unit.strip()[:20],
            unit_price=round_money(line.unit_price),
            amount=line_amount(line.quantity, line.unit_price),
        )
        for position, line in enumerate(lines, start=1)
    )
    totals = compute_totals(
        [line_amount(line.quantity, line.unit_price) for line in lines],
        tax_mode=invoice.tax_mode,
        vat_rate=invoice.vat_rate,
    )
    invoice.subtotal, invoice.tax_amount, invoice.total = totals.subtotal, totals.tax, totals.total


def invoice_language(deal: Deal) -> str:
    """The language of a new invoice for the deal: the language of its signed contract (or
    of its newest document), so an English client gets the English invoice and emails;
    the studio's language when the deal has no documents."""
    language = documents_language(deal)
    if language in dict(settings.LANGUAGES):
        return language
    return Studio.load().locale


def create_invoice(
    deal: Deal,
    *,
    lines: Sequence[LineInput],
    actor: User | None,
    purpose: str = "",
    notes: str = "",
    due_days: int | None = None,
    language: str | None = None,
    schedule_step: int | None = None,
    tax_mode: str | None = None,
    vat_rate: Decimal | None = None,
) -> Invoice:
    """Create a draft invoice for the deal in the deal's currency, with the studio's tax
    mode and VAT rate and the deal's documents' language (``invoice_language``) unless
    given. Nothing is numbered or sent yet."""
    lines = _clean_lines(lines)
    studio = Studio.load()
    with transaction.atomic():
        check_can_edit(actor, deal)
        invoice = Invoice(
            deal=deal,
            currency=deal.currency,
            tax_mode=tax_mode or studio.tax_mode,
            vat_rate=studio.vat_rate if vat_rate is None else vat_rate,
            language=language or invoice_language(deal),
            purpose=purpose.strip()[:200],
            notes=notes.strip(),
            due_days=5 if due_days is None else due_days,
            schedule_step=schedule_step,
            created_by=actor,
        )
        # Drafts hold a token too (the field is unique); issuing replaces it.
        invoice.issue_token()
        invoice.save()
        _write_lines(invoice, lines)
        invoice.save(update_fields=["subtotal", "tax_amount", "total"])
        audit.record(
            "invoice.created",
            invoice,
            actor=actor,
            data={"deal": deal.pk, "total": str(invoice.total), "step": schedule_step},
        )
    return invoice


def update_draft(
    invoice: Invoice,
    *,
    lines: Sequence[LineInput],
    actor: User,
    purpose: str = "",
    notes: str = "",
    due_days: int = 5,
    language: str | None = None,
    tax_mode: str | None = None,
    vat_rate: Decimal | None = None,
) -> Invoice:
    """Change a draft's lines and terms. Issued invoices never change."""
    lines = _clean_lines(lines)
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if not invoice.is_draft:
            raise BillingError(
                _("Only a draft can be edited; correct an issued invoice with a credit note.")
            )
        invoice.purpose = purpose.strip()[:200]
        invoice.notes = notes.strip()
        invoice.due_days = due_days
        invoice.language = language or invoice.language
        invoice.tax_mode = tax_mode or invoice.tax_mode
        if vat_rate is not None:
            invoice.vat_rate = vat_rate
        _write_lines(invoice, lines)
        invoice.save()
        audit.record("invoice.updated", invoice, actor=actor, data={"total": str(invoice.total)})
    return invoice


def delete_draft(invoice: Invoice, *, actor: User) -> None:
    """Delete a draft (it never had a number, so no gap appears)."""
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if not invoice.is_draft:
            raise BillingError(
                _("Issued invoices are never deleted; void it or issue a credit note.")
            )
        audit.record("invoice.draft_deleted", invoice, actor=actor, data={"deal": invoice.deal_id})
        invoice.delete()


def _reference_date(day: date, language: str) -> str:
    """A date in the payment reference as the invoice itself writes dates: "05.12.2026" in
    Russian (what banks expect there), "5 December 2026" in English (the page shows no
    other short date beside it)."""
    return formats.date_format(day, "SHORT_DATE_FORMAT" if language == "ru" else "DATE_FORMAT")


def _default_purpose(invoice: Invoice, contract: tuple[str, date | None]) -> str:
    number, signed_on = contract
    with translation.override(invoice.language):
        purpose = _("Payment of invoice No. %(number)s of %(date)s") % {
            "number": invoice.number,
            "date": _reference_date(invoice.issue_date, invoice.language),
        }
        if number and signed_on:
            purpose += ", " + _("contract No. %(contract)s of %(date)s") % {
                "contract": number,
                "date": _reference_date(signed_on, invoice.language),
            }
        elif number:
            purpose += ", " + _("contract No. %(contract)s") % {"contract": number}
    return purpose[:200]


def issue_invoice(invoice: Invoice, *, actor: User | None, notify_client: bool = True) -> str:
    """Number the draft (next in its series for the year, under the sequence's row lock),
    freeze seller and buyer details, set the dates and emit ``invoice.issued`` (the
    reactions move the deal to `invoiced` if it was before it and email the client the
    link). Returns the client link's token."""
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        deal = invoice.deal
        check_can_edit(actor, deal)
        if not invoice.is_draft:
            raise BillingError(_("This invoice is already issued."))
        if invoice.total <= 0 and not invoice.is_credit_note:
            raise BillingError(_("An invoice must be for more than zero."))
        studio = Studio.load()
        today = studio_today(studio)
        invoice.year = today.year
        invoice.sequence_number = next_number(invoice.series, today.year)
        invoice.number = format_number(invoice.series, today.year, invoice.sequence_number)
        invoice.issue_date = today
        # The contract's "within N working days": weekends and public holidays skipped.
        invoice.due_date = add_working_days(today, invoice.due_days)
        invoice.seller = seller_details(studio)
        invoice.buyer = buyer_details(deal.client, deal.contact)
        if not invoice.purpose:
            invoice.purpose = _default_purpose(invoice, contract_reference(deal))
        invoice.status = Invoice.Status.ISSUED
        invoice.issued_at = timezone.now()
        token = invoice.issue_token()
        invoice.save()
        audit.record(
            "invoice.issued",
            invoice,
            actor=actor,
            data={"number": invoice.number, "total": str(invoice.total)},
        )
        events.emit(
            events.INVOICE_ISSUED,
            deal,
            actor=actor,
            subject=invoice,
            payload={"notify_client": notify_client, "total": str(invoice.total)},
        )
    return token


def client_link(token: str) -> str:
    return absolute_url(reverse("billing_client:invoice", args=[token]))


def record_first_view(invoice: Invoice) -> None:
    """The client opened the invoice for the first time (the portal calls this once)."""
    with transaction.atomic():
        events.emit(events.INVOICE_FIRST_VIEWED, invoice.deal, subject=invoice)


def new_link(invoice: Invoice, *, actor: User, notify_client: bool = True) -> str:
    """Replace the client link of an issued invoice (the old one stops working) and email
    the new one. Returns the new token."""
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if invoice.is_draft or invoice.is_credit_note:
            raise BillingError(_("Only an issued invoice has a client link."))
        token = invoice.issue_token()
        invoice.revoked_at = None
        invoice.save(update_fields=["token_hash", "token_salt", "revoked_at"])
        audit.record("invoice.link_replaced", invoice, actor=actor)
        events.emit(
            events.INVOICE_LINK_RENEWED,
            invoice.deal,
            actor=actor,
            subject=invoice,
            payload={"notify_client": notify_client},
        )
    return token


def save_provider_account(
    account: ProviderAccount, changes: dict[str, Any], *, actor: User
) -> ProviderAccount:
    """Store a provider's settings (owners only). Secrets are replaced only when a new value
    is given; the audit row names the fields that changed, never their values."""
    if not actor.is_owner:
        raise NotAllowed(_("Only an owner can change payment settings."))
    with transaction.atomic():
        account = ProviderAccount.objects.select_for_update(of=("self",)).get(pk=account.pk)
        changed = []
        now = timezone.now()
        for name, value in changes.items():
            if getattr(account, name) == value:
                continue
            setattr(account, name, value)
            changed.append(name)
            if name in SECRET_FIELDS:
                setattr(account, f"{name}_set_at", now)
                changed.append(f"{name}_set_at")
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
            audit.record(
                "billing.provider_settings_changed",
                account,
                actor=actor,
                data={
                    "provider": account.provider,
                    "fields": [f for f in changed if not f.endswith("_set_at")],
                },
            )
    return account


def create_from_schedule(
    deal: Deal,
    step_number: int,
    *,
    actor: User | None,
    steps: Sequence[ScheduleStep] | None = None,
) -> tuple[Invoice, str]:
    """One click: create and issue the invoice for step ``step_number`` of the deal's
    payment schedule (from the signed contract unless ``steps`` is given). Raises
    ScheduleStepInvoiced if the step already has a live invoice (a double click included).
    Returns the invoice and its client link token."""
    steps = list(steps) if steps is not None else payment_schedule(deal)
    step = next((item for item in steps if int(item.number) == int(step_number)), None)
    if step is None:
        raise BillingError(_("The payment schedule has no such step."))
    if step.currency and step.currency != deal.currency:
        raise BillingError(_("The schedule's currency differs from the deal's."))
    try:
        with transaction.atomic():
            taken = (
                Invoice.objects.filter(
                    deal=deal, kind=Invoice.Kind.INVOICE, schedule_step=step.number
                )
                .exclude(status=Invoice.Status.VOID)
                .exists()
            )
            if taken:
                raise ScheduleStepInvoiced(_("This payment step is already invoiced."))
            invoice = create_invoice(
                deal,
                lines=[
                    LineInput(
                        description=str(step.label), quantity=Decimal(1), unit_price=step.amount
                    )
                ],
                actor=actor,
                due_days=step.due_days if step.due_days is not None else None,
                schedule_step=step.number,
                tax_mode=_schedule_tax_mode(),
            )
            token = issue_invoice(invoice, actor=actor)
    except IntegrityError as error:
        raise ScheduleStepInvoiced(_("This payment step is already invoiced.")) from error
    invoice.refresh_from_db()
    return invoice, token


def _schedule_tax_mode() -> str:
    """Schedule amounts are what the client pays (the estimate's total, VAT included when the
    studio adds it on top), so a step's invoice shows the VAT inside that amount instead of
    adding it a second time."""
    mode = Studio.load().tax_mode
    return Studio.TaxMode.VAT_INCLUDED if mode == Studio.TaxMode.VAT_ON_TOP else mode


def void_invoice(invoice: Invoice, *, actor: User, reason: str) -> Invoice:
    """Void an issued invoice nobody has paid: it keeps its number and stays on record.
    An invoice with money received is corrected by a credit note instead."""
    reason = reason.strip()
    if not reason:
        raise BillingError(_("Say why the invoice is void."))
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if invoice.is_draft:
            raise BillingError(_("Delete a draft instead of voiding it."))
        if invoice.status == Invoice.Status.VOID:
            return invoice
        if invoice.is_credit_note:
            raise BillingError(_("A credit note cannot be voided."))
        if invoice.paid_amount > 0 or invoice.overpaid_amount > 0:
            raise BillingError(
                _("Money was received for this invoice; issue a credit note instead.")
            )
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = timezone.now()
        invoice.void_reason = reason[:300]
        invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        audit.record("invoice.voided", invoice, actor=actor, data={"reason": invoice.void_reason})
    return invoice


def create_credit_note(invoice: Invoice, *, amount: Decimal, reason: str, actor: User) -> Invoice:
    """Issue a credit note reducing what ``invoice`` asks for by ``amount`` (VAT included
    in it at the invoice's rate). If more was already paid than remains due, the excess is
    flagged as an overpayment to return."""
    reason = reason.strip()
    amount = round_money(amount)
    if not reason:
        raise BillingError(_("Say what the credit note corrects."))
    if amount <= 0:
        raise BillingError(_("The amount must be more than zero."))
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if invoice.is_credit_note or invoice.is_draft or invoice.status == Invoice.Status.VOID:
            raise BillingError(_("Only an issued invoice can be corrected by a credit note."))
        creditable = invoice.total - invoice.credited_amount
        if amount > creditable:
            raise BillingError(
                _("A credit note can be for at most %(amount)s.") % {"amount": f"{creditable:.2f}"}
            )
        tax_mode = (
            Studio.TaxMode.NO_VAT
            if invoice.tax_mode == Studio.TaxMode.NO_VAT
            else Studio.TaxMode.VAT_INCLUDED
        )
        note = Invoice(
            deal=invoice.deal,
            kind=Invoice.Kind.CREDIT_NOTE,
            corrects=invoice,
            series=CREDIT_NOTE_SERIES,
            currency=invoice.currency,
            language=invoice.language,
            tax_mode=tax_mode,
            vat_rate=invoice.vat_rate,
            purpose=reason[:200],
            due_days=0,
            created_by=actor,
        )
        note.issue_token()
        note.save()
        _write_lines(note, [LineInput(description=reason, quantity=Decimal(1), unit_price=amount)])
        note.save(update_fields=["subtotal", "tax_amount", "total"])
        audit.record(
            "invoice.credit_note_created",
            note,
            actor=actor,
            data={"invoice": invoice.number, "amount": str(amount)},
        )
        issue_invoice(note, actor=actor, notify_client=False)
        refresh_invoice(invoice, actor=actor)
    note.refresh_from_db()
    return note
