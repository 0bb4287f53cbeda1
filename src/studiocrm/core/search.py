"""Case-insensitive text search that also works for Cyrillic on SQLite."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q


def text_variants(query: str) -> set[str]:
    """Case variants of a search text. SQLite's LIKE folds only ASCII letters, so
    'ромашка' would not find 'Ромашка' there; PostgreSQL needs only the text itself."""
    if connection.vendor != "sqlite" or query.isascii():
        return {query}
    return {query, query.lower(), query.upper(), query.capitalize(), query.title()}


def icontains_any(fields: list[str], query: str) -> Q:
    """Rows where any of the fields contains the query, ignoring case."""
    condition = Q()
    for variant in sorted(text_variants(query)):
        for name in fields:
            condition |= Q(**{f"{name}__icontains": variant})
    return condition


def digits_count(text: str) -> int:
    return sum(character.isdigit() for character in text)
