"""Small helpers for the documents app's own (Django) templates."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from studiocrm.documents.filters import format_amount

register = template.Library()


@register.filter
def css_string(value: object) -> SafeString:
    """Text safe inside a double-quoted CSS string (the PDF's running headers)."""
    text = str(value or "")
    out = []
    for char in text:
        if char in "\"'\\<>&" or ord(char) < 32:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    # Every character that could end the string, the rule or the <style> element is a CSS
    # escape now, so the result needs no HTML escaping (which CSS would not undo).
    return mark_safe("".join(out))  # noqa: S308


@register.filter
def doc_money(value: object, currency: str = "") -> str:
    """An amount as documents print it, in the active language: "120 000 ₽", "€1,440"."""
    if value is None or value == "":
        return ""
    return format_amount(value, currency or "RUB", (get_language() or "en")[:2])
