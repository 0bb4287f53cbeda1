"""Formatting helpers for deal and client pages. They format; they decide nothing."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlencode

from django import template
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString

from studiocrm.core.money import format_money

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    """`1200000|money:"RUB"` → "1 200 000 ₽"; empty for an unknown amount."""
    if value is None or value == "":
        return ""
    return format_money(value, currency)


@register.filter
def email_address(value: str | None) -> SafeString | str:
    """An email address that wraps after its "@" when the column is narrow
    ("laura.callahan@" / "northwind-traders.example"), never in the middle of a word; wrap
    it in ``class="address"`` so a part longer than the line still breaks. Escaped."""
    if not value:
        return ""
    local, at, domain = str(value).rpartition("@")
    if not at:
        return format_html("{}", value)
    return format_html("{}@<wbr>{}", local, domain)


@register.filter
def money_totals(totals: Iterable[tuple[str, Decimal]]) -> str:
    """Sums per currency joined with a middle dot: "1 200 000 ₽ · 3 000 €"."""
    return " · ".join(format_money(total, currency) for currency, total in totals)


@register.filter
def initials(user: object) -> str:
    """Two letters for a compact avatar: first and last name, else the username."""
    if user is None:
        return ""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first or last:
        return ((first[:1] + last[:1]) or first[:2]).upper()
    return (getattr(user, "username", "") or "?")[:2].upper()


@register.simple_tag
def query_with(query: QueryDict, **changes: object) -> str:
    """The current query string with some parameters replaced (None or "" removes one);
    the page number is dropped so a new filter or sort starts at page 1."""
    params = query.copy()
    params.pop("page", None)
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = str(value)
    return urlencode(sorted(params.items()), doseq=False) if params else ""
