"""The owner's changes to webhook subscriptions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.webhooks import delivery
from studiocrm.webhooks.models import Subscription


def create(
    *, url: str, events: list[str], description: str, actor: User
) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown once; stored encrypted to sign with)."""
    secret = delivery.new_secret()
    with transaction.atomic():
        subscription = Subscription.objects.create(
            url=url, events=sorted(events), description=description, secret=secret, created_by=actor
        )
        audit.record("webhooks.subscription_created", subscription, actor=actor, data={"url": url})
    return subscription, secret


def update(
    subscription: Subscription, *, url: str, events: list[str], description: str, actor: User
) -> Subscription:
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.url, subscription.events = url, sorted(events)
        subscription.description = description
        subscription.save(update_fields=["url", "events", "description"])
        audit.record("webhooks.subscription_updated", subscription, actor=actor, data={"url": url})
    return subscription


def regenerate_secret(subscription: Subscription, *, actor: User) -> str:
    secret = delivery.new_secret()
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        locked.secret = secret
        locked.save(update_fields=["secret"])
        audit.record("webhooks.secret_regenerated", locked, actor=actor)
    return secret


def set_active(subscription: Subscription, active: bool, *, actor: User) -> None:
    """Pause or resume by hand. Resuming sends the backlog, in order, now."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.is_active == active:
            return
        locked.is_active = active
        locked.paused_at = None if active else timezone.now()
        locked.failing_since = None
        locked.save(update_fields=["is_active", "paused_at", "failing_since"])
        audit.record("webhooks.subscription_updated", locked, actor=actor, data={"active": active})
        if active:
            locked.deliveries.filter(status__in=["pending", "retry"]).update(
                next_attempt_at=timezone.now()
            )
            transaction.on_commit(lambda: delivery.enqueue(locked.pk))


def delete(subscription: Subscription, *, actor: User) -> None:
    with transaction.atomic():
        audit.record(
            "webhooks.subscription_deleted",
            subscription,
            actor=actor,
            data={"url": subscription.url},
        )
        subscription.delete()
