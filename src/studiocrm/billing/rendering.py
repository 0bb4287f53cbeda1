"""The invoice as a document: the plain data the Russian and English layouts print, the
payment QR code, and the PDF (the same HTML through WeasyPrint)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from studiocrm.billing import qr
from studiocrm.billing.models import Invoice
from studiocrm.billing.services import buyer_details, seller_details
from studiocrm.billing.totals import amount_in_words
from studiocrm.core.models import Studio
from studiocrm.core.money import CURRENCIES, format_money, round_money
from studiocrm.portal.files import PrivateStorage

STYLESHEET = Path(__file__).parent / "static" / "billing" / "invoice-doc.css"
PAGE_CSS = (
    "@page { size: A4; margin: 14mm 12mm; } body { margin: 0; } .invoice-doc { max-width: none; }"
)
LAYOUTS = {"ru": "billing/document/invoice_ru.html", "en": "billing/document/invoice_en.html"}

log = logging.getLogger(__name__)


def bank_details(invoice: Invoice) -> qr.BankDetails:
    seller = invoice.seller or _live_seller()
    return qr.BankDetails(
        name=seller.get("name", ""),
        account=seller.get("bank_account", ""),
        bank_name=seller.get("bank_name", ""),
        bank_code=seller.get("bank_code", ""),
        correspondent_account=seller.get("correspondent_account", ""),
        tax_id=seller.get("tax_id", ""),
    )


def _live_seller() -> dict[str, str]:
    return seller_details(Studio.load())


def qr_purpose(invoice: Invoice) -> str:
    """The purpose line of a bank transfer; Russian accountants expect the VAT note in it."""
    purpose = invoice.purpose or invoice.number
    if invoice.currency != "RUB":
        return purpose
    with translation.override("ru"):
        if invoice.tax_amount > 0:
            return (
                f"{purpose}, в т.ч. НДС {invoice.vat_rate.normalize():f}% {invoice.tax_amount:.2f}"
            )
        return f"{purpose}, НДС не облагается"


def qr_payload_for(invoice: Invoice, amount: Decimal | None = None) -> str | None:
    """The payment QR payload for what is due (or ``amount``), or None without bank details."""
    if invoice.is_draft or invoice.is_credit_note:
        return None
    due = invoice.amount_due if amount is None else amount
    if due <= 0:
        return None
    return qr.payload_for(bank_details(invoice), due, invoice.currency, qr_purpose(invoice))


def qr_svg(payload: str | None) -> SafeString | str:
    """The payment code as inline SVG with an accessible name, or "" without a payload."""
    if not payload:
        return ""
    return mark_safe(qr.svg(payload, title=_("Payment QR code")))  # noqa: S308 - segno output


@dataclass(frozen=True)
class TransferField:
    """One line of the bank-transfer details: what the page shows and what "copy" copies."""

    key: str
    label: str
    value: str
    copy: str


def _plain_amount(amount: Decimal) -> str:
    """The amount as a banking app's amount field takes it: no grouping, two decimals, a
    comma in Russian."""
    text = f"{round_money(amount):.2f}"
    return text.replace(".", ",") if translation.get_language() == "ru" else text


def transfer_fields(invoice: Invoice) -> list[TransferField]:
    """The details a client types into a banking app to pay what is due, in the active
    language, each with the exact text to copy."""
    seller = invoice.seller or _live_seller()
    rub = invoice.currency == "RUB"
    due = invoice.amount_due
    rows = [
        ("name", _("Recipient"), seller.get("name", "")),
        ("tax_id", _("Tax ID"), seller.get("tax_id", "")),
        ("account", _("Account") if rub else _("Account / IBAN"), seller.get("bank_account", "")),
        ("bank_name", _("Bank"), seller.get("bank_name", "")),
        ("bank_code", _("BIC") if rub else _("BIC / SWIFT"), seller.get("bank_code", "")),
        (
            "correspondent_account",
            _("Correspondent account"),
            seller.get("correspondent_account", "") if rub else "",
        ),
    ]
    fields = [TransferField(key, str(label), value, value) for key, label, value in rows if value]
    fields.append(
        TransferField(
            "amount", _("Amount"), format_money(due, invoice.currency), _plain_amount(due)
        )
    )
    purpose = qr_purpose(invoice)
    fields.append(TransferField("purpose", _("Payment purpose"), purpose, purpose))
    return fields


def details_text(invoice: Invoice) -> str:
    """The payment details as plain text, to save or share."""
    lines = [_("Payment details for invoice No. %(number)s") % {"number": invoice.number}, ""]
    lines += [f"{field.label}: {field.copy}" for field in transfer_fields(invoice)]
    return "\n".join(lines) + "\n"


def document_context(invoice: Invoice, *, lines: list[Any] | None = None) -> dict[str, Any]:
    """What the invoice layouts print. Seller and buyer come from the frozen snapshot of an
    issued invoice (live studio and client details for a draft preview)."""
    seller = invoice.seller or _live_seller()
    buyer = invoice.buyer or buyer_details(invoice.deal.client, invoice.deal.contact)
    lines = lines if lines is not None else list(invoice.lines.all())
    payload = qr_payload_for(invoice)
    return {
        "invoice": invoice,
        "seller": seller,
        "buyer": buyer,
        "lines": lines,
        "line_count": len(lines),
        "currency_sign": CURRENCIES.get(invoice.currency, invoice.currency),
        "total_in_words": amount_in_words(invoice.total, invoice.currency, invoice.language),
        "vat_rate": invoice.vat_rate.normalize() if invoice.vat_rate else 0,
        "qr_payload": payload,
        "qr_svg": qr_svg(payload),
        "qr_kind": "gost" if invoice.currency == "RUB" else "epc",
        "corrects": invoice.corrects,
    }


def render_document(invoice: Invoice, *, lines: list[Any] | None = None) -> SafeString:
    """The invoice document (HTML fragment) in the invoice's language."""
    template = LAYOUTS.get(invoice.language, LAYOUTS["en"])
    with translation.override(invoice.language):
        return mark_safe(  # noqa: S308 - a rendered, autoescaped template
            render_to_string(template, document_context(invoice, lines=lines))
        )


def document_date(value: Any, language: str) -> str:
    if value is None:
        return ""
    with translation.override(language):
        return formats.date_format(value, "DATE_FORMAT")


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF. An issued invoice never changes, so its PDF is rendered once and
    kept in private storage under a hash of what it shows; a draft is rendered each time."""
    from weasyprint import CSS, HTML

    stylesheets = [CSS(filename=str(STYLESHEET)), CSS(string=PAGE_CSS)]
    html = render_to_string(
        "billing/document/pdf.html",
        {"document": render_document(invoice), "invoice": invoice},
    )
    if invoice.is_draft:
        return HTML(string=html).write_pdf(stylesheets=stylesheets)
    storage = PrivateStorage()
    digest = hashlib.sha256(
        json.dumps([invoice.number, html], ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:24]
    name = f"billing/invoices/{invoice.pk}-{digest}.pdf"
    if storage.exists(name):
        with storage.open(name, "rb") as cached:
            return cached.read()
    pdf = HTML(string=html).write_pdf(stylesheets=stylesheets)
    try:
        storage.save(name, ContentFile(pdf))
    except OSError as error:
        # A full disk (or a storage outage) only costs the cache: the client still gets
        # the PDF, printed again next time. Private files never appear half-written.
        log.warning("invoice %s: PDF not cached: %s", invoice.pk, error)
    return pdf
