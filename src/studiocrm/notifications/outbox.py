"""Outbox: queue messages inside a business transaction, deliver them after commit.

``queue_email`` writes a row; the row's delivery task is enqueued on commit, so a rolled
back change sends nothing. A dedupe key is stored under a unique constraint: queueing the
same key twice keeps the first row, and a row is claimed atomically before sending, so one
key is never sent twice (unless a worker dies between the SMTP handshake and marking the row
sent; then the claim expires and the message may be retried — at least once, never lost).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from studiocrm.notifications.channels import DeliveryError, get_channel
from studiocrm.notifications.models import Outbox

__all__ = ["DeliveryError", "deliver", "deliver_due", "queue_email", "queue_message", "retry_now"]

log = logging.getLogger(__name__)

# Seconds to wait before attempt n+1 (after n failed attempts).
BACKOFF_SECONDS = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
CLAIM_SECONDS = 300
# Recording a sent message survives a database outage of up to about a minute.
RECORD_ATTEMPTS = 30
RECORD_RETRY_SECONDS = 2


def queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    body_html: str = "",
    deal: object | None = None,
    reply_to: str = "",
    from_email: str = "",
) -> Outbox:
    """Write an email to the outbox (see ``queue_message``)."""
    return queue_message(
        channel="email",
        to=to,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        body_html=body_html,
        deal=deal,
        reply_to=reply_to,
        from_email=from_email,
    )


def queue_message(
    *,
    channel: str,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    body_html: str = "",
    deal: object | None = None,
    reply_to: str = "",
    from_email: str = "",
) -> Outbox:
    """Write a message for a channel to the outbox; delivery is enqueued after commit.

    The subject is folded to one line: a newline in it (say, from a deal title) would make
    the mail library refuse the message at every attempt.
    """
    subject = " ".join(subject.split())
    existing = Outbox.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message = Outbox.objects.create(
                channel=channel,
                to=to,
                subject=subject[:300],
                body=body,
                body_html=body_html,
                dedupe_key=dedupe_key,
                deal=deal,
                reply_to=reply_to,
                from_email=from_email,
            )
    except IntegrityError:
        return Outbox.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


@task()
def deliver_outbox(outbox_id: int) -> str:
    """The delivery task of one message (enqueued on commit, and again for a retry)."""
    return deliver(outbox_id)


def enqueue_delivery(outbox_id: int, run_after: object | None = None) -> None:
    delivery = deliver_outbox.using(run_after=run_after) if run_after else deliver_outbox
    try:
        delivery.enqueue(outbox_id)
    except Exception:  # the sweeper picks the row up later; the message is not lost
        log.exception("could not enqueue delivery of outbox %s", outbox_id)


def claim(outbox_id: int) -> Outbox | None:
    """Atomically take a due message for sending; None if another worker has it or it is done."""
    now = timezone.now()
    due = Q(status__in=[Outbox.Status.QUEUED, Outbox.Status.RETRY], next_attempt_at__lte=now)
    stale = Q(status=Outbox.Status.SENDING, claimed_until__lt=now)
    lease = getattr(settings, "OUTBOX_CLAIM_SECONDS", CLAIM_SECONDS)
    claimed = Outbox.objects.filter(due | stale, pk=outbox_id).update(
        status=Outbox.Status.SENDING, claimed_until=now + timedelta(seconds=lease)
    )
    if not claimed:
        return None
    return Outbox.objects.get(pk=outbox_id)


def deliver(outbox_id: int) -> str:
    """Deliver one message if it is due. Returns the resulting status (for logs and tests)."""
    message = claim(outbox_id)
    if message is None:
        current = Outbox.objects.filter(pk=outbox_id).values_list("status", flat=True).first()
        return current or "missing"
    try:
        get_channel(message.channel).send(message)
    except DeliveryError as error:
        message.attempts += 1
        message.last_error = str(error)[:2000]
        message.claimed_until = None
        if error.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            message.status = Outbox.Status.FAILED
            log.warning("outbox %s failed permanently: %s", message.pk, error)
        else:
            message.status = Outbox.Status.RETRY
            delay = BACKOFF_SECONDS[min(message.attempts - 1, len(BACKOFF_SECONDS) - 1)]
            message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        message.save(
            update_fields=["attempts", "last_error", "claimed_until", "status", "next_attempt_at"]
        )
        if message.status == Outbox.Status.RETRY:
            enqueue_delivery(message.pk, run_after=message.next_attempt_at)
        return message.status
    message.attempts += 1
    message.status = Outbox.Status.SENT
    message.sent_at = timezone.now()
    message.claimed_until = None
    message.last_error = ""
    _record_sent(
        lambda: message.save(
            update_fields=["attempts", "status", "sent_at", "claimed_until", "last_error"]
        )
    )
    return message.status


def _record_sent(write: Callable[[], None]) -> None:
    """The message has left: its row must say so, or the sweeper sends it again once the
    claim expires. A database away for a moment (a restart, a failover) is waited for."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if attempt == RECORD_ATTEMPTS - 1 or connection.in_atomic_block:
                raise
            log.warning("outbox: database unavailable while recording a sent message; retrying")
            connection.close()
            time.sleep(RECORD_RETRY_SECONDS)


def due_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        Outbox.objects.filter(
            Q(status__in=[Outbox.Status.QUEUED, Outbox.Status.RETRY], next_attempt_at__lte=now)
            | Q(status=Outbox.Status.SENDING, claimed_until__lt=now)
        )
        # Oldest first, and in the order they were queued when due together (after an
        # outage the letters of one deal still arrive in the order they were written).
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_due(limit: int = 500) -> dict[str, int]:
    """Deliver everything due now (the sweeper and `manage.py outbox_flush` use this)."""
    results: dict[str, int] = {}
    for outbox_id in due_ids(limit):
        status = deliver(outbox_id)
        results[status] = results.get(status, 0) + 1
    return results


def retry_now(message: Outbox) -> None:
    """A manager asks to try a failed message again (e.g. after fixing an address).

    The attempt count starts over, so the message gets the full retry schedule again."""
    with transaction.atomic():
        updated = Outbox.objects.filter(
            pk=message.pk, status__in=[Outbox.Status.FAILED, Outbox.Status.RETRY]
        ).update(
            status=Outbox.Status.QUEUED, next_attempt_at=timezone.now(), last_error="", attempts=0
        )
        if updated:
            transaction.on_commit(lambda: enqueue_delivery(message.pk))
