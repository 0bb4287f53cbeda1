from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def cell(value: Any, kind: str, unit: str = "month") -> str:
    """One table cell, formatted by the column's kind; empty figures show a dash."""
    if value is None or value == "":
        return "—"
    if kind == "link" and isinstance(value, tuple):
        pk, title = value
        return format_html('<a href="{}">{}</a>', reverse("deals:detail", args=[pk]), title)
    if isinstance(value, date):
        return format_date(value, "j M Y" if kind == "period" and unit == "week" else "M Y")
    if kind == "money":
        return number_format(value, 2, use_l10n=True, force_grouping=True)
    if kind in ("percent", "days", "number") and isinstance(value, (int, float, Decimal)):
        return number_format(value, 1, use_l10n=True, force_grouping=True)
    if kind == "int" and isinstance(value, (int, float, Decimal)):
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    return str(value)
