"""Gapless numbering per series and year, safe under concurrency."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from studiocrm.core.models import Sequence


def next_number(series: str, year: int) -> int:
    """Take the next number of a series. Call inside the transaction that uses the number,
    so a rollback returns it and numbers stay gapless."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside transaction.atomic()")
    try:
        with transaction.atomic():
            Sequence.objects.get_or_create(series=series, year=year)
    except IntegrityError:
        pass  # created concurrently by another transaction
    sequence = Sequence.objects.select_for_update().get(series=series, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value
