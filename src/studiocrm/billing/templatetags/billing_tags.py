"""Formatting for invoices: amounts the way each document language writes them."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import translation

from studiocrm.billing.providers import UnknownProvider, provider_class
from studiocrm.core.money import format_money, round_money

register = template.Library()


@register.filter
def amount(value: Decimal | None) -> str:
    """`1231.5|amount` → "1 231,50" in Russian, "1,231.50" in English (the active language)."""
    if value is None or value == "":
        return ""
    number = f"{round_money(value):,.2f}"
    if (translation.get_language() or "en").startswith("ru"):
        return number.replace(",", "\u00a0").replace(".", ",")
    return number


@register.filter
def quantity(value: Decimal | None) -> str:
    """Quantities without trailing zeros: 1.000 → "1", 2.500 → "2.5" ("2,5" in Russian)."""
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    if (translation.get_language() or "en").startswith("ru"):
        return text.replace(".", ",")
    return text


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    """`1200|money:"RUB"` → "1 200 ₽"."""
    if value is None or value == "":
        return ""
    return format_money(value, currency)


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


@register.filter
def provider_name(code: str) -> str:
    """The payment method's display name for a provider code ("Bank transfer")."""
    try:
        return str(provider_class(code).name)
    except UnknownProvider:
        return code
