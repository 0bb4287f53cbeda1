"""What other apps may read of documents. Keep these names and meanings stable.

``payment_schedule(deal) -> list[PaymentStep]``
    The payments the client agreed to in the deal's signed contract (see
    ``documents.services.payment_schedule``); [] while the deal has no signed contract.
``signed_contract(deal) -> Document | None``
    The deal's signed contract, the most recent one if there are several.
``contract_reference(deal) -> tuple[str, date | None]``
    The signed contract's number ("12/2026") and signing date, or ("", None).
``documents_language(deal) -> str``
    The language the client reads the deal's documents in: the signed contract's, else
    that of the newest document, else "" (no documents yet).
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from studiocrm.deals.models import Deal
from studiocrm.documents.models import Document
from studiocrm.documents.services import (
    PaymentStep,
    latest_acceptance,
    payment_schedule,
    signed_contract,
)

__all__ = [
    "PaymentStep",
    "contract_reference",
    "documents_language",
    "payment_schedule",
    "signed_contract",
]


def contract_reference(deal: Deal) -> tuple[str, date | None]:
    contract = signed_contract(deal)
    if contract is None:
        return "", None
    acceptance = latest_acceptance(contract)
    accepted_at = acceptance.accepted_at if acceptance is not None else None
    return contract.display_number or "", (timezone.localdate(accepted_at) if accepted_at else None)


def documents_language(deal: Deal) -> str:
    contract = signed_contract(deal)
    if contract is not None:
        return contract.language
    return (
        Document.objects.filter(deal=deal)
        .order_by("-created_at", "-pk")
        .values_list("language", flat=True)
        .first()
        or ""
    )
