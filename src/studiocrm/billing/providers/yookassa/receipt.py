"""The 54-FZ receipt YooKassa sends to the tax service for a rouble payment.

YooKassa's ``receipt`` object: one item per invoice line (description, quantity, price per
unit with VAT, ``vat_code``, ``payment_subject``, ``payment_mode``), the customer's email or
phone, and the studio's tax system code. Items add up to exactly the payment's amount, or
YooKassa refuses the payment.

The VAT code follows the invoice's tax mode and rate unless the owner fixes one in
Settings → Payments: no VAT → 1; otherwise the rate's code (20 % → 4, 22 % → 11 …), or for
payment before the work is handed over (full prepayment, prepayment, advance) the
calculated rate the tax code asks for then (20/120 → 6, 22/122 → 12 …).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.billing.models import Invoice, Payment
from studiocrm.core.models import Studio
from studiocrm.core.money import round_money

# YooKassa's vat_code for a rate, and for the calculated rate of a prepayment.
VAT_CODES = {Decimal(0): 2, Decimal(5): 7, Decimal(7): 8, Decimal(10): 3, Decimal(20): 4}
VAT_CODES[Decimal(22)] = 11
CALCULATED_VAT_CODES = {Decimal(0): 2, Decimal(5): 9, Decimal(7): 10, Decimal(10): 5}
CALCULATED_VAT_CODES.update({Decimal(20): 6, Decimal(22): 12})
NO_VAT_CODE = 1
PREPAYMENT_MODES = {"full_prepayment", "prepayment", "advance"}

TAX_SYSTEMS = (
    ("", _("Not sent")),
    ("1", _("1 — general (OSN)")),
    ("2", _("2 — simplified, income (USN)")),
    ("3", _("3 — simplified, income minus expenses (USN)")),
    ("4", _("4 — imputed income (ENVD)")),
    ("5", _("5 — unified agricultural tax (ESKhN)")),
    ("6", _("6 — patent (PSN)")),
)
VAT_CHOICES = (
    ("auto", _("Automatic")),
    ("1", _("1 — no VAT")),
    ("2", _("2 — VAT 0%")),
    ("3", _("3 — VAT 10%")),
    ("4", _("4 — VAT 20%")),
    ("5", _("5 — VAT 10/110")),
    ("6", _("6 — VAT 20/120")),
    ("7", _("7 — VAT 5%")),
    ("8", _("8 — VAT 7%")),
    ("9", _("9 — VAT 5/105")),
    ("10", _("10 — VAT 7/107")),
    ("11", _("11 — VAT 22%")),
    ("12", _("12 — VAT 22/122")),
)
PAYMENT_SUBJECTS = (
    ("service", _("Service")),
    ("job", _("Work")),
    ("commodity", _("Goods")),
    ("intellectual_activity", _("Intellectual property")),
    ("another", pgettext_lazy("subject of payment", "Other")),
)
PAYMENT_MODES = (
    ("full_prepayment", _("Full prepayment")),
    ("prepayment", _("Partial prepayment")),
    ("advance", _("Advance")),
    ("full_payment", _("Full payment")),
)


class ReceiptUnavailable(Exception):
    """No valid receipt can be made for the invoice (no customer contact, a VAT rate without
    a code); YooKassa is then not offered for it."""


def vat_code(invoice: Invoice, *, setting: str, payment_mode: str) -> int:
    if setting and setting != "auto":
        return int(setting)
    if invoice.tax_mode == Studio.TaxMode.NO_VAT or not invoice.tax_amount:
        return NO_VAT_CODE
    table = CALCULATED_VAT_CODES if payment_mode in PREPAYMENT_MODES else VAT_CODES
    code = table.get(Decimal(invoice.vat_rate).normalize())
    if code is None:
        raise ReceiptUnavailable(f"no YooKassa VAT code for {invoice.vat_rate}%")
    return code


def customer(invoice: Invoice) -> dict[str, str]:
    """Where the tax service sends the receipt: the contact's email, else their phone
    (digits, international form); with the company's name and INN when it has them."""
    contact = invoice.deal.contact if invoice.deal.contact_id else None
    email = (contact.email if contact else "") or invoice.buyer.get("email", "")
    phone = ""
    if contact is not None:
        phone = "".join(ch for ch in (contact.phone_normalized or contact.phone) if ch.isdigit())
    result: dict[str, str] = {}
    if email:
        result["email"] = email
    elif len(phone) >= 10:
        result["phone"] = phone
    else:
        raise ReceiptUnavailable("the client has no email or phone for the receipt")
    tax_id = "".join(ch for ch in invoice.buyer.get("tax_id", "") if ch.isdigit())
    if len(tax_id) in (10, 12):
        result["inn"] = tax_id
        if invoice.buyer.get("name"):
            result["full_name"] = str(invoice.buyer["name"])[:256]
    return result


def _gross_lines(invoice: Invoice) -> list[tuple[Any, Decimal]]:
    """Each line with its price to the client (VAT added on top shared out by amount, the
    cents left over on the last line), adding up to the invoice's total."""
    lines = list(invoice.lines.all())
    if invoice.tax_mode != Studio.TaxMode.VAT_ON_TOP or not invoice.tax_amount:
        return [(line, line.amount) for line in lines]
    base = sum((line.amount for line in lines), Decimal(0)) or Decimal(1)
    result, shared = [], Decimal(0)
    for index, line in enumerate(lines):
        if index == len(lines) - 1:
            tax = invoice.tax_amount - shared
        else:
            tax = round_money(invoice.tax_amount * line.amount / base)
            shared += tax
        result.append((line, line.amount + tax))
    return result


def _allocate(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """``total`` shared out in proportion to ``amounts``, rounded to kopecks, the rest on
    the last share: a partial payment's receipt still adds up exactly."""
    whole = sum(amounts, Decimal(0))
    if whole == total:
        return amounts
    shares, given = [], Decimal(0)
    for index, amount in enumerate(amounts):
        if index == len(amounts) - 1:
            shares.append(total - given)
        else:
            share = round_money(total * amount / whole) if whole else Decimal(0)
            shares.append(share)
            given += share
    return shares


def build_receipt(payment: Payment, options: dict[str, str]) -> dict[str, Any]:
    """The ``receipt`` object for ``payment`` (of ``payment.invoice``), with the owner's
    choices in ``options``. Raises ReceiptUnavailable when no valid receipt can be made."""
    invoice = payment.invoice
    mode = options.get("payment_mode") or "full_prepayment"
    subject = options.get("payment_subject") or "service"
    code = vat_code(invoice, setting=options.get("vat_code") or "auto", payment_mode=mode)
    lines = _gross_lines(invoice)
    if not lines:
        raise ReceiptUnavailable("the invoice has no lines")
    shares = _allocate([gross for _line, gross in lines], round_money(payment.amount))
    exact = shares == [gross for _line, gross in lines]
    items = []
    for (line, _gross), share in zip(lines, shares, strict=True):
        quantity, price = Decimal(1), share
        unit_price = (share / line.quantity).quantize(Decimal("0.01")) if line.quantity else share
        if exact and unit_price * line.quantity == share:
            quantity, price = line.quantity.normalize(), unit_price
        if share <= 0:
            continue
        items.append(
            {
                "description": line.description[:128],
                "quantity": f"{quantity:f}",
                "amount": {"value": f"{price:.2f}", "currency": invoice.currency},
                "vat_code": code,
                "payment_subject": subject,
                "payment_mode": mode,
            }
        )
    receipt: dict[str, Any] = {"customer": customer(invoice), "items": items}
    if options.get("tax_system_code"):
        receipt["tax_system_code"] = int(options["tax_system_code"])
    return receipt
