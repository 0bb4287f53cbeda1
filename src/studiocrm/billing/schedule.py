"""The payment schedule of a deal's signed contract, read through ``documents.public``.

Billing offers invoices per schedule step once the contract is signed, and manual invoices
before and beside that.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from studiocrm.deals.models import Deal
from studiocrm.documents import public as documents


class ScheduleStep(Protocol):
    """What billing reads from a ``documents.services.PaymentStep``."""

    number: int
    label: str
    amount: Decimal
    currency: str
    percent: Decimal | None
    due_days: int | None


@dataclass(frozen=True)
class Step:
    """A schedule step billing can build itself (tests, and callers passing a schedule in)."""

    number: int
    label: str
    amount: Decimal
    currency: str
    percent: Decimal | None = None
    due_days: int | None = None


def payment_schedule(deal: Deal) -> list[ScheduleStep]:
    """The steps of the deal's signed contract, or [] when there is none (yet)."""
    return list(documents.payment_schedule(deal))


contract_reference = documents.contract_reference
documents_language = documents.documents_language
