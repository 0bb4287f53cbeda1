"""Invoice arithmetic: line amounts, tax per the studio's tax mode, amount in words.

Pure functions over Decimals, so the rules can be tested without a database. Tax is
computed once on the sum of the lines (not per line), which is how an accountant checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from studiocrm.core.models import Studio
from studiocrm.core.money import round_money
from studiocrm.documents.filters import amount_in_words as spell_amount

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Totals:
    """``subtotal`` is the sum of the lines as printed; ``total`` is what the client pays.
    With VAT included the tax is part of the subtotal; on top, it is added to it."""

    subtotal: Decimal
    tax: Decimal
    total: Decimal


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_money(quantity * unit_price)


def compute_totals(amounts: Iterable[Decimal], *, tax_mode: str, vat_rate: Decimal) -> Totals:
    """Totals of an invoice whose lines sum to ``amounts`` under ``tax_mode``."""
    subtotal = round_money(sum(amounts, ZERO))
    rate = Decimal(vat_rate or 0)
    if tax_mode == Studio.TaxMode.VAT_INCLUDED and rate > 0:
        tax = round_money(subtotal * rate / (HUNDRED + rate))
        return Totals(subtotal=subtotal, tax=tax, total=subtotal)
    if tax_mode == Studio.TaxMode.VAT_ON_TOP and rate > 0:
        tax = round_money(subtotal * rate / HUNDRED)
        return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax)
    return Totals(subtotal=subtotal, tax=ZERO, total=subtotal)


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """The total as an accountant writes it: "Одна тысяча двести рублей 45 копеек" in
    Russian, "One thousand, two hundred euro and 45 cents" in English. The words come from
    the documents' speller (``documents.filters.amount_in_words``), so an invoice and its
    contract name an amount alike; currencies it does not name get the number in words,
    then the code and the cents in digits."""
    words = spell_amount(amount, currency, language)
    if language != "ru":
        # "… euro 45 cents" → "… euro and 45 cents"; "… CHF 45" stays as it is.
        head, _sep, tail = words.rpartition(" ")
        head, _sep, digits = head.rpartition(" ")
        if head and digits.isdigit() and not tail.isdigit():
            words = f"{head} and {digits} {tail}"
    return words[:1].upper() + words[1:]
