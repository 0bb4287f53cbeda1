"""Money helpers: Decimal only, one rounding rule, one way to print an amount."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal
from django.conf import settings
from django.utils import translation

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    return Decimal(value)  # type: ignore[arg-type]


def round_money(value: object) -> Decimal:
    """Round to cents, half up (the rule accountants expect)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


CURRENCIES = {
    "RUB": "₽",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "KZT": "₸",
    "BYN": "Br",
    "UAH": "₴",
}


# Where English puts the symbol before the number ("€1,440"); everything else after it.
SYMBOL_FIRST_IN_ENGLISH = frozenset({"USD", "GBP", "EUR"})


def group_digits(amount: Decimal, places: int, language: str) -> str:
    """1234567.5 → "1 234 567,50" (ru) or "1,234,567.50" (en): the locale's separators
    (CLDR, through Babel), half-up rounding to ``places``."""
    quantum = Decimal(1).scaleb(-places) if places > 0 else Decimal(1)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    group, decimal = separators(language)
    if group is None:
        pattern = "#,##0." + "0" * places if places > 0 else "#,##0"
        return format_decimal(rounded, format=pattern, locale=language, decimal_quantization=True)
    # Python's own grouping, then the locale's symbols: the same text as Babel's pattern
    # formatting for locales that group by threes, at a twentieth of the cost (an estimate
    # page prints thousands of amounts).
    text = f"{rounded:,.{places}f}" if places > 0 else f"{rounded:,.0f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", group)


@functools.cache
def separators(language: str) -> tuple[str | None, str]:
    """The group and decimal symbols of a language, or (None, "") when its numbers are not
    grouped by threes (Babel formats those itself)."""
    from babel import Locale
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        locale = Locale.parse(language)
    except (ValueError, LookupError):
        return None, ""
    grouping = locale.decimal_formats.get(None)
    if grouping is None or grouping.grouping != (3, 3):
        return None, ""
    return get_group_symbol(locale), get_decimal_symbol(locale)


def format_money(
    value: object, currency: str, language: str | None = None, *, cents: bool = False
) -> str:
    """An amount as people read it in ``language`` (default: the active language), the one
    helper for pages, emails and PDFs: "425 386,25 ₽" in Russian, "€1,440" and
    "425,386.25 ₽" in English. Whole amounts drop ",00" unless ``cents``."""
    language = (language or translation.get_language() or settings.LANGUAGE_CODE)[:2]
    amount = round_money(value or 0)
    places = 2 if cents or amount != amount.to_integral_value() else 0
    number = group_digits(amount, places, language)
    symbol = CURRENCIES.get(currency, currency)
    if language == "en" and currency in SYMBOL_FIRST_IN_ENGLISH:
        sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
        return f"{sign}{symbol}{digits}"
    return f"{number}\u00a0{symbol}"
