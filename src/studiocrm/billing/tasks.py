"""Background work for billing: apply a stored webhook event, and ask the provider about one
payment right away (the client is back on our return page before the webhook arrived)."""

from __future__ import annotations

import logging

from django_tasks import task

from studiocrm.billing.models import Payment
from studiocrm.billing.payments import process_event_task, sync_payment
from studiocrm.billing.providers.base import ProviderError

__all__ = ["process_event_task", "sync_payment_task"]

log = logging.getLogger(__name__)


@task()
def sync_payment_task(payment_id: int) -> str:
    """Re-fetch a pending payment; idempotent, a no-op once it is settled."""
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.PENDING).first()
    if payment is None:
        return "settled"
    try:
        return sync_payment(payment)
    except ProviderError as error:
        log.warning("syncing payment %s failed: %s", payment_id, error)
        return "error"
