"""Outgoing webhooks: written with the event, sent after the commit, in order, once each.

``on_event`` is an event handler (``settings.EVENT_HANDLERS``): inside the emitting
transaction it only writes one ``Delivery`` per matching subscription and enqueues the
subscription's sending task on commit, so a rolled-back change sends nothing.

``send_subscription`` sends one subscription's deliveries oldest first. It claims the
subscription (as the outbox claims a message) so one worker sends at a time, stops at the
first failure and schedules a retry with exponential backoff: a receiver that is down gets
its events later, in order, each once it has answered 2xx. A receiver failing for
``WEBHOOK_PAUSE_AFTER_DAYS`` is paused and the owners are emailed; resuming sends the
backlog. A worker that dies between the receiver's 2xx and the write of "delivered" may
send that delivery again after the claim expires: receivers dedupe on
``StudioCRM-Delivery``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Event
from studiocrm.notifications.outbox import queue_email
from studiocrm.webhooks import http
from studiocrm.webhooks.models import Attempt, Delivery, Subscription

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "StudioCRM-Signature"
BACKOFF_SECONDS = [10, 30, 60, 300, 900, 1800, 3600]
CLAIM_SECONDS = 120
BATCH = 100


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (docs/api.md)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """The receiver's side of ``sign`` (the same code as the snippet in docs/api.md)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def build_payload(event: Event) -> dict[str, Any]:
    """What receivers get: the event and a snapshot of its deal at that moment."""
    deal = event.deal
    return {
        "id": event.pk,
        "event": event.name,
        "created_at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "object": {"type": event.object_type, "id": event.object_id} if event.object_type else None,
        "data": event.payload,
        "deal": None
        if deal is None
        else {
            "id": deal.pk,
            "title": deal.title,
            "stage": deal.stage_id,
            "client_id": deal.client_id,
            "contact_id": deal.contact_id,
            "manager_id": deal.manager_id,
            "currency": deal.currency,
            "expected_amount": deal.expected_amount,
            "estimated_amount": deal.estimated_amount,
        },
    }


def on_event(event: Event) -> None:
    """The event handler: one delivery per active subscription that asked for the event."""
    subscriptions = [
        pk
        for pk, names in Subscription.objects.values_list("pk", "events")
        if event.name in (names or [])
    ]
    if not subscriptions:
        return
    payload = json.loads(json.dumps(build_payload(event), cls=DjangoJSONEncoder))
    Delivery.objects.bulk_create(
        Delivery(subscription_id=pk, event=event, event_name=event.name, payload=payload)
        for pk in subscriptions
    )
    for pk in subscriptions:
        transaction.on_commit(lambda pk=pk: enqueue(pk))


@task()
def send_webhooks(subscription_id: int) -> str:
    return send_subscription(subscription_id)


def enqueue(subscription_id: int, run_after: object | None = None) -> None:
    sender = send_webhooks.using(run_after=run_after) if run_after else send_webhooks
    try:
        sender.enqueue(subscription_id)
    except Exception:  # the sweeper picks it up later; nothing is lost
        log.exception("could not enqueue webhooks of subscription %s", subscription_id)


def _claim(subscription_id: int) -> bool:
    now = timezone.now()
    return bool(
        Subscription.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=subscription_id,
            is_active=True,
        ).update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )


def _release(subscription_id: int) -> None:
    Subscription.objects.filter(pk=subscription_id).update(claimed_until=None)


def _pending(subscription_id: int) -> Delivery | None:
    return (
        Delivery.objects.filter(
            subscription_id=subscription_id,
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRY],
        )
        .order_by("pk")
        .first()
    )


def send_subscription(subscription_id: int) -> str:
    """Send what is due for one subscription, oldest first; stop at the first failure.
    Returns what happened (for logs and tests): "busy", "paused", "idle" (the oldest is
    not due yet), "sent:N" or "retry:N" (N delivered before a failure)."""
    if not _claim(subscription_id):
        active = Subscription.objects.filter(pk=subscription_id, is_active=True).exists()
        return "busy" if active else "paused"
    sent = 0
    try:
        subscription = Subscription.objects.get(pk=subscription_id)
        for _i in range(BATCH):
            delivery = _pending(subscription_id)
            if delivery is None:
                break
            if delivery.next_attempt_at > timezone.now():
                # Everything behind waits for the oldest (its retry is scheduled already):
                # receivers get events in order.
                break
            if not _send(subscription, delivery):
                return f"retry:{sent}"
            sent += 1
        else:
            enqueue(subscription_id)  # more than a batch waiting: continue in a new task
    finally:
        _release(subscription_id)
    return f"sent:{sent}" if sent else "idle"


def _send(subscription: Subscription, delivery: Delivery) -> bool:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "studiocrm-webhooks/1",
        "StudioCRM-Event": delivery.event_name,
        "StudioCRM-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    }
    response = http.post(subscription.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    now = timezone.now()
    Attempt.objects.create(
        delivery=delivery,
        status_code=response.status,
        duration_ms=response.duration_ms,
        error=response.error or ("" if response.ok else _("The receiver did not answer 2xx.")),
    )
    delivery.attempts += 1
    delivery.last_status_code = response.status
    delivery.last_error = response.error
    if response.ok:
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.save()
        Subscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        return True
    delivery.status = Delivery.Status.RETRY
    delay = BACKOFF_SECONDS[min(delivery.attempts - 1, len(BACKOFF_SECONDS) - 1)]
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()
    failing_since = subscription.failing_since or now
    if subscription.failing_since is None:
        Subscription.objects.filter(pk=subscription.pk).update(failing_since=now)
    if now - failing_since >= timedelta(days=settings.WEBHOOK_PAUSE_AFTER_DAYS):
        pause(subscription)
    else:
        enqueue(subscription.pk, run_after=delivery.next_attempt_at)
    return False


def pause(subscription: Subscription) -> None:
    """Stop sending to a receiver that keeps failing and tell the owners, once."""
    with transaction.atomic():
        paused = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
            is_active=False, paused_at=timezone.now()
        )
        if not paused:
            return
        audit.record("webhooks.subscription_paused", subscription, actor=None)
        link = absolute_url("/webhooks/")
        for owner in User.objects.filter(is_active=True, role=User.Role.OWNER).exclude(email=""):
            with translation.override(owner.language or Studio.load().locale):
                queue_email(
                    to=owner.email,
                    subject=_("A webhook was paused: %(url)s") % {"url": subscription.url},
                    body=_(
                        "The address %(url)s has not accepted webhooks for %(days)s days, so "
                        "studiocrm stopped sending to it. Events are kept: fix the receiver, "
                        "then resume the webhook and they go out in order.\n\n%(link)s"
                    )
                    % {
                        "url": subscription.url,
                        "days": settings.WEBHOOK_PAUSE_AFTER_DAYS,
                        "link": link,
                    },
                    dedupe_key=f"webhook-paused:{subscription.pk}:{timezone.now():%Y%m%d%H%M%S}",
                )


def deliver_due() -> dict[str, int]:
    """The sweeper (a periodic job): every active subscription with something due."""
    now = timezone.now()
    ids = (
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRY],
            next_attempt_at__lte=now,
            subscription__is_active=True,
        )
        .order_by("subscription_id")
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    results: dict[str, int] = {}
    for subscription_id in list(ids)[:500]:
        outcome = send_subscription(subscription_id).split(":")[0]
        if outcome != "idle":
            results[outcome] = results.get(outcome, 0) + 1
    return results
