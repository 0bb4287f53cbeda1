"""What happens on a deal: one vocabulary, and the one way to say it happened.

A domain service that changes something a client, a manager or a report cares about calls
``emit`` inside its own transaction. ``emit`` writes an ``Event`` row and then calls, in that
same transaction, each handler listed in ``settings.EVENT_HANDLERS`` (dotted paths, imported
on first use — today the ``flow`` app's reaction table). The reactions either write rows in
that transaction (a stage move, an outbox message, a task) or leave work for after the commit
(delivery, PDFs), so a change and its consequences commit or roll back together, and a
rolled-back change sends nothing. Domain apps never send mail or move a deal for another
app: they emit, and the layer above reacts.

A handler is ``handler(event: Event) -> None``. ``event.subject`` is the object the event is
about (an unsaved reference is never passed), loaded by the emitter, so handlers need no
extra query to read it. A handler must not call ``emit`` for the same event again, and must
not do network I/O (queue it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string

from studiocrm.core.models import User
from studiocrm.deals.models import Deal, Event

# The vocabulary. Payloads are small and JSON-safe (ids, numbers as strings, codes).
LEAD_RECEIVED = "lead.received"  # payload: notify_manager
STAGE_CHANGED = "deal.stage_changed"  # payload: from, to, lost_reason
BRIEF_SENT = "brief.sent"  # subject: Brief
BRIEF_LINK_RESENT = "brief.link_resent"  # subject: Brief; payload: sent_count
BRIEF_FIRST_VIEWED = "brief.first_viewed"  # subject: Brief
BRIEF_SUBMITTED = "brief.submitted"  # subject: Brief
BRIEF_REOPENED = "brief.reopened"  # subject: Brief
ESTIMATE_SAVED = "estimate.saved"  # subject: Estimate; payload: total
DOCUMENT_SENT = "document.sent"  # subject: the main Document; payload: documents, revisions
DOCUMENT_FIRST_VIEWED = "document.first_viewed"  # subject: Document
PROPOSAL_ACCEPTED = "proposal.accepted"  # subject: Acceptance; payload: total
PROPOSAL_EXPIRED = "proposal.expired"  # subject: the proposal Document; payload: valid_until
CONTRACT_ISSUED = "contract.issued"  # subject: the contract Document
DOCUMENT_SIGNED = "document.signed"  # subject: Acceptance (contract, appendix or act)
CONTRACT_SIGNED = "contract.signed"  # subject: the contract Document (every part signed)
DOCUMENT_QUESTION = "document.question"  # subject: Document; payload: note, name, email
INVOICE_ISSUED = "invoice.issued"  # subject: Invoice; payload: notify_client
INVOICE_LINK_RENEWED = "invoice.link_renewed"  # subject: Invoice; payload: notify_client
INVOICE_FIRST_VIEWED = "invoice.first_viewed"  # subject: Invoice
INVOICE_OVERDUE = "invoice.overdue"  # subject: Invoice
PAYMENT_RECEIVED = "payment.received"  # subject: Payment; payload: overpaid, settled
PAYMENT_FAILED = "payment.failed"  # subject: Payment (failed or canceled at the provider)
PAYMENT_NEEDS_REVIEW = "payment.needs_review"  # subject: Payment (amount/currency mismatch)
INVOICE_PAID = "invoice.paid"  # subject: Invoice
TASK_DUE = "task.due"  # subject: Task
CHECKLIST_TICKED = "checklist.ticked"  # subject: flow ChecklistItem; payload: item, text, done
EMAIL_RECEIVED = "email.received"  # subject: intake InboundEmail; payload: note, from, subject

VOCABULARY = (
    LEAD_RECEIVED,
    STAGE_CHANGED,
    BRIEF_SENT,
    BRIEF_LINK_RESENT,
    BRIEF_FIRST_VIEWED,
    BRIEF_SUBMITTED,
    BRIEF_REOPENED,
    ESTIMATE_SAVED,
    DOCUMENT_SENT,
    DOCUMENT_FIRST_VIEWED,
    PROPOSAL_ACCEPTED,
    PROPOSAL_EXPIRED,
    CONTRACT_ISSUED,
    DOCUMENT_SIGNED,
    CONTRACT_SIGNED,
    DOCUMENT_QUESTION,
    INVOICE_ISSUED,
    INVOICE_LINK_RENEWED,
    INVOICE_FIRST_VIEWED,
    INVOICE_OVERDUE,
    PAYMENT_RECEIVED,
    PAYMENT_FAILED,
    PAYMENT_NEEDS_REVIEW,
    INVOICE_PAID,
    TASK_DUE,
    CHECKLIST_TICKED,
    EMAIL_RECEIVED,
)

Handler = Callable[[Event], None]


class UnknownEvent(ValueError):
    """An event name outside the vocabulary: a typo would otherwise react to nothing."""


@cache
def _load(paths: tuple[str, ...]) -> tuple[Handler, ...]:
    return tuple(import_string(path) for path in paths)


def handlers() -> tuple[Handler, ...]:
    return _load(tuple(getattr(settings, "EVENT_HANDLERS", ())))


def emit(
    name: str,
    deal: Deal | None,
    *,
    actor: User | None = None,
    subject: models.Model | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Record that ``name`` happened on ``deal`` and let the reactions run, now, inside the
    caller's transaction. Call it after the change is saved, with the object it is about."""
    if name not in VOCABULARY:
        raise UnknownEvent(name)
    event = Event.objects.create(
        deal=deal,
        name=name,
        actor=actor,
        object_type=subject._meta.label_lower if subject is not None else "",
        object_id=str(subject.pk) if subject is not None else "",
        payload=payload or {},
    )
    event.subject = subject  # type: ignore[attr-defined]
    event.deal = deal
    for handler in handlers():
        handler(event)
    return event
