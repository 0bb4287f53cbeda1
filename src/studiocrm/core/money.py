"""Money helpers: Decimal only, one rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

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


def format_money(value: object, currency: str) -> str:
    amount = round_money(value or 0)
    whole = f"{amount:,.2f}".replace(",", "\u00a0")
    if whole.endswith(".00"):
        whole = whole[:-3]
    return f"{whole}\u00a0{CURRENCIES.get(currency, currency)}"
