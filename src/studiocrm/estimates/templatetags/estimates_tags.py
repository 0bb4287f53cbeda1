"""Formatting for the estimate templates: plain numbers for inputs, money for figures."""

from __future__ import annotations

from decimal import Decimal

from django import template

from studiocrm.core.money import format_money

register = template.Library()


@register.filter
def num(value: object) -> str:
    """A decimal without trailing zeros or exponent, for input values: 1.50 → "1.5"."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)  # what the person typed, shown back with the error
    if not number.is_finite():
        return str(value)
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@register.filter
def money(value: object, currency: str) -> str:
    return format_money(value or 0, currency)


@register.filter
def get(mapping: dict, key: object) -> object:
    return mapping.get(key, key) if isinstance(mapping, dict) else key
