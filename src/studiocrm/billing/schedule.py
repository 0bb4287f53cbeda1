"""The payment schedule of a deal's signed contract, read from the documents app.

``documents.services.payment_schedule(deal)`` is the source; this module only adapts it so
billing works (offering manual invoices only) while a deal has no signed contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from django.utils import timezone

from studiocrm.deals.models import Deal


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


def payment_schedule(deal: Deal) -> list[Any]:
    """The steps of the deal's signed contract, or [] when there is none (yet)."""
    try:
        from studiocrm.documents import services as document_services
    except ImportError:
        return []
    schedule = getattr(document_services, "payment_schedule", None)
    if schedule is None:
        return []
    return list(schedule(deal) or [])


def contract_reference(deal: Deal) -> tuple[str, date | None]:
    """The signed contract's number ("12/2026") and signing date, or ("", None)."""
    try:
        from studiocrm.documents import services as document_services
    except ImportError:
        return "", None
    signed = getattr(document_services, "signed_contract", None)
    contract = signed(deal) if signed is not None else None
    if contract is None:
        return "", None
    number = str(getattr(contract, "display_number", "") or "")
    acceptance_of = getattr(document_services, "latest_acceptance", None)
    acceptance = acceptance_of(contract) if acceptance_of is not None else None
    accepted_at = getattr(acceptance, "accepted_at", None)
    return number, (timezone.localdate(accepted_at) if accepted_at else None)


def documents_language(deal: Deal) -> str:
    """The language the client reads the deal's documents in: the signed contract's, else
    that of the newest document, else "" (no documents yet)."""
    try:
        from studiocrm.documents import services as document_services
        from studiocrm.documents.models import Document
    except ImportError:
        return ""
    contract = document_services.signed_contract(deal)
    if contract is not None:
        return contract.language
    return (
        Document.objects.filter(deal=deal)
        .order_by("-created_at", "-pk")
        .values_list("language", flat=True)
        .first()
        or ""
    )
