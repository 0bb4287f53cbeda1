"""Rules as data: an event starts a timer; when it is due and its condition still holds, the
rule's action runs.

``schedule(event)`` (called by ``flow.reactions.react`` in the emitting transaction) writes
one ``Timer`` per matching enabled rule — unique per rule and event, so an event handled
twice schedules once. ``fire_due`` (a periodic job) claims due timers with a conditional
UPDATE, so several workers never fire the same one, and fires each in its own transaction:
the deal's pause, the rule's filters and its condition are checked again at that moment (no
reminder for a brief submitted in the meantime). Letters carry the dedupe key
``rule:<code>:<event>``: a rule that fires twice sends once. A failing action marks its
timer failed and stops no other timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studiocrm.billing import services as billing_services
from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.core.models import Studio
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import NEW, Deal, Event, Note, StageChange
from studiocrm.documents import public as documents_public
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document
from studiocrm.flow import addressing, calendar, manager_letters, notify
from studiocrm.flow.letters import send_letter
from studiocrm.flow.messages import manager_language, responsible_manager
from studiocrm.flow.models import DealPause, Rule, Timer

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300

Condition = Callable[[Any, Deal, Event], bool]


def load_subject(event: Event) -> models.Model | None:
    if not event.object_type or not event.object_id:
        return None
    try:
        model = apps.get_model(event.object_type)
    except (LookupError, ValueError):
        return None
    return model.objects.filter(pk=event.object_id).first()


def _document_of(subject: Any) -> Document | None:
    if isinstance(subject, Document):
        return subject
    return getattr(subject, "document", None)


def _invoice_of(subject: Any) -> Invoice | None:
    if isinstance(subject, Invoice):
        return subject
    if isinstance(subject, Payment):
        return subject.invoice
    return None


def _brief_not_submitted(subject: Any, deal: Deal, event: Event) -> bool:
    return isinstance(subject, Brief) and subject.status != Brief.Status.SUBMITTED


def _not_accepted(subject: Any, deal: Deal, event: Event) -> bool:
    """Sent and waiting for the client (a proposal past its validity waits no more)."""
    document = _document_of(subject)
    return (
        document is not None
        and document.status == Document.Status.SENT
        and not document_services.is_expired(document)
    )


def _not_opened(subject: Any, deal: Deal, event: Event) -> bool:
    document = _document_of(subject)
    return (
        _not_accepted(subject, deal, event)
        and not Event.objects.filter(
            name="document.first_viewed",
            object_type="documents.document",
            object_id=str(document.pk),
        ).exists()
    )


def _contract_not_signed(subject: Any, deal: Deal, event: Event) -> bool:
    return _not_accepted(subject, deal, event) and documents_public.signed_contract(deal) is None


def _invoice_unpaid(subject: Any, deal: Deal, event: Event) -> bool:
    invoice = _invoice_of(subject)
    return invoice is not None and invoice.status in (
        Invoice.Status.ISSUED,
        Invoice.Status.PARTIALLY_PAID,
        Invoice.Status.OVERDUE,
    )


def _same_stage(subject: Any, deal: Deal, event: Event) -> bool:
    """Nothing moved the deal since the event, and it is still open."""
    return deal.closed_at is None and deal.stage_changed_at <= event.at


def _lead_untouched(subject: Any, deal: Deal, event: Event) -> bool:
    """Still new, no note, no stage move and no brief since the lead came in."""
    return (
        deal.stage.code == NEW
        and not Note.objects.filter(deal=deal, created_at__gt=event.at).exists()
        and not StageChange.objects.filter(deal=deal, at__gt=event.at).exists()
    )


def _first_payment(subject: Any, deal: Deal, event: Event) -> bool:
    """The deal's first payment (the deposit that starts the project)."""
    if not isinstance(subject, Payment):
        return False
    return not Payment.objects.filter(
        invoice__deal=deal, status=Payment.Status.SUCCEEDED, pk__lt=subject.pk
    ).exists()


CONDITIONS: dict[str, tuple[Any, Condition]] = {
    "always": (gettext_lazy("always"), lambda subject, deal, event: True),
    "brief_not_submitted": (gettext_lazy("the brief is not submitted"), _brief_not_submitted),
    "not_accepted": (gettext_lazy("the document is not accepted or signed"), _not_accepted),
    "not_opened": (gettext_lazy("the document is not opened"), _not_opened),
    "contract_not_signed": (gettext_lazy("the contract is not signed"), _contract_not_signed),
    "invoice_unpaid": (gettext_lazy("the invoice is not paid"), _invoice_unpaid),
    "same_stage": (gettext_lazy("the deal stays in the same stage"), _same_stage),
    "lead_untouched": (gettext_lazy("nobody has touched the new lead"), _lead_untouched),
    "first_payment": (gettext_lazy("it is the deal's first payment"), _first_payment),
}


def _subject_matches(rule: Rule, subject: Any, deal: Deal) -> bool:
    """The rule's filters: kind of document, stage, amount, language."""
    if rule.kind:
        document = _document_of(subject)
        if document is None or document.kind != rule.kind:
            return False
    if rule.stage and deal.stage.code != rule.stage:
        return False
    if rule.min_amount is not None and (deal.amount or 0) < rule.min_amount:
        return False
    if rule.language:
        language = addressing.for_subject(subject, deal).language
        if language != rule.language:
            return False
    return True


# --- Scheduling ------------------------------------------------------------------------


def due_time(rule: Rule, event: Event, subject: Any) -> datetime | None:
    zone = Studio.load().time_zone
    start = event.at
    if rule.anchor == Rule.Anchor.DUE_DATE:
        invoice = _invoice_of(subject)
        if invoice is None or invoice.due_date is None:
            return None
        start = datetime.combine(invoice.due_date, calendar.WORK_START, tzinfo=ZoneInfo(zone))
    elif rule.anchor == Rule.Anchor.VALID_UNTIL:
        document = _document_of(subject)
        if document is None or document.valid_until is None:
            return None
        start = datetime.combine(document.valid_until, calendar.WORK_START, tzinfo=ZoneInfo(zone))
    moment = calendar.shift(start, rule.delay, rule.unit, zone)
    if rule.quiet_hours and rule.action == Rule.Action.EMAIL_CLIENT:
        moment = calendar.next_working_moment(moment, zone)
    return moment


def schedule(event: Event) -> list[Timer]:
    """Write the timers of the enabled rules that start at this event (the event handler
    calls it in the emitting transaction)."""
    if event.deal is None:
        return []
    rules = [rule for rule in _enabled_rules() if rule.event == event.name]
    timers = []
    subject = getattr(event, "subject", None)
    for rule in rules:
        if not _subject_matches(rule, subject, event.deal):
            continue
        due_at = due_time(rule, event, subject)
        if due_at is None:
            continue
        timer, _created = Timer.objects.get_or_create(
            rule=rule, event=event, defaults={"deal": event.deal, "due_at": due_at}
        )
        if rule.condition == "same_stage":
            # Only the latest stage move can leave the deal idle: earlier waits are void.
            Timer.objects.filter(rule=rule, deal=event.deal, status=Timer.Status.PENDING).exclude(
                pk=timer.pk
            ).update(status=Timer.Status.SKIPPED, result="superseded by a later stage move")
        timers.append(timer)
    return timers


def _enabled_rules() -> list[Rule]:
    return list(Rule.objects.filter(enabled=True))


# --- Firing ----------------------------------------------------------------------------


def claim_seconds() -> int:
    """How long a claim lasts before another worker may take the timer over."""
    return getattr(settings, "AUTOMATION_CLAIM_SECONDS", CLAIM_SECONDS)


def claim_due(limit: int, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` due timers for this worker (one conditional UPDATE each)."""
    now = now or timezone.now()
    candidates = list(
        Timer.objects.filter(
            Q(status=Timer.Status.PENDING, due_at__lte=now)
            | Q(status=Timer.Status.RUNNING, claimed_until__lt=now)
        )
        .order_by("due_at")
        .values_list("pk", "status")[:limit]
    )
    claimed = []
    for pk, status in candidates:
        taken = (
            Timer.objects.filter(pk=pk, status=status)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(
                status=Timer.Status.RUNNING, claimed_until=now + timedelta(seconds=claim_seconds())
            )
        )
        if taken:
            claimed.append(pk)
    return claimed


def fire_due(limit: int = 500) -> dict[str, int]:
    """The periodic job: fire every due timer. Returns counts per outcome."""
    results: dict[str, int] = {}
    for pk in claim_due(limit):
        status = fire(pk)
        results[status] = results.get(status, 0) + 1
    return results


def fire(timer_id: int) -> str:
    timer = Timer.objects.select_related("rule", "deal", "event").get(pk=timer_id)
    try:
        with transaction.atomic():
            status, result = _run(timer)
    except Exception as error:  # one broken rule or deal must not stop the other timers
        status, result = Timer.Status.FAILED, f"{type(error).__name__}: {error}"
        log.exception("rule %s on deal %s failed", timer.rule.code, timer.deal_id)
    Timer.objects.filter(pk=timer.pk).update(
        status=status, result=str(result)[:300], fired_at=timezone.now(), claimed_until=None
    )
    return status


def _run(timer: Timer) -> tuple[str, str]:
    rule, event = timer.rule, timer.event
    deal = Deal.objects.select_for_update().select_related("stage").get(pk=timer.deal_id)
    if not rule.enabled:
        return Timer.Status.SKIPPED, "rule switched off"
    # "This client wants no reminders": letters to the client stop; the manager's own
    # alerts and tasks go on.
    if rule.action == Rule.Action.EMAIL_CLIENT and DealPause.objects.filter(deal=deal).exists():
        return Timer.Status.SKIPPED, "paused for this client"
    subject = load_subject(event)
    event.subject = subject  # type: ignore[attr-defined]
    label_condition = CONDITIONS.get(rule.condition)
    if label_condition is None:
        return Timer.Status.FAILED, f"unknown condition {rule.condition}"
    if not label_condition[1](subject, deal, event) or not _subject_matches(rule, subject, deal):
        return Timer.Status.SKIPPED, "condition no longer holds"
    return Timer.Status.DONE, ACTIONS[rule.action](rule, deal, event, subject)


# --- Actions ---------------------------------------------------------------------------


def _dedupe(rule: Rule, event: Event) -> str:
    return f"rule:{rule.code}:{event.pk}"


def email_client_action(rule: Rule, deal: Deal, event: Event, subject: Any) -> str:
    addressee = addressing.for_subject(subject, deal)
    sent = send_letter(
        rule.template_key,
        to=addressee.to,
        deal=deal,
        language=addressee.language,
        context=addressee.context,
        dedupe_key=_dedupe(rule, event),
        reply_to=addressee.reply_to,
        manager=addressee.manager,
    )
    return "letter queued" if sent else "no client address"


def notify_manager_action(rule: Rule, deal: Deal, event: Event, subject: Any) -> str:
    manager = responsible_manager(deal)
    if manager is not None:
        with translation.override(manager_language(manager)):
            text = f"{_(rule.name)}: {deal.title}"
        notify.notify(manager, deal, text, key=_dedupe(rule, event))
    rule_name = ""
    if manager is not None:
        with translation.override(manager_language(manager)):
            rule_name = _(rule.name)
    sent = manager_letters.rule_notice(
        manager, deal, rule_name=rule_name, dedupe_key=_dedupe(rule, event)
    )
    return "manager notified" if sent else "no manager address"


def create_task_action(rule: Rule, deal: Deal, event: Event, subject: Any) -> str:
    manager = responsible_manager(deal)
    if manager is None:
        return "no manager"
    with translation.override(manager_language(manager)):
        title = _(rule.task_title or rule.name)
    task = deal_services.add_task(
        title=title,
        due_at=timezone.now() + timedelta(hours=rule.task_due_hours),
        assignee=manager,
        actor=None,
        deal=deal,
    )
    return f"task {task.pk}"


def advance_action(rule: Rule, deal: Deal, event: Event, subject: Any) -> str:
    moved = deal_services.advance_deal(deal, rule.target_stage, actor=None)
    return "deal moved" if moved else "deal already there"


def issue_next_invoice_action(rule: Rule, deal: Deal, event: Event, subject: Any) -> str:
    """The first step of the signed schedule with no live invoice — only once every earlier
    step is paid (a manager who already invoiced the deposit by hand must not see the final
    payment go out with it)."""
    steps = documents_public.payment_schedule(deal)
    live = {
        invoice.schedule_step: invoice
        for invoice in Invoice.objects.filter(
            deal=deal, kind=Invoice.Kind.INVOICE, schedule_step__isnull=False
        ).exclude(status=Invoice.Status.VOID)
    }
    step = next((item for item in steps if int(item.number) not in live), None)
    if step is None:
        return "nothing left to invoice"
    if any(invoice.status != Invoice.Status.PAID for invoice in live.values()):
        return "an earlier invoice of the schedule is not paid yet"
    invoice, _token = billing_services.create_from_schedule(
        deal, step.number, actor=None, steps=steps
    )
    return f"invoice {invoice.number}"


ACTIONS: dict[str, Callable[[Rule, Deal, Event, Any], str]] = {
    Rule.Action.EMAIL_CLIENT: email_client_action,
    Rule.Action.NOTIFY_MANAGER: notify_manager_action,
    Rule.Action.CREATE_TASK: create_task_action,
    Rule.Action.ADVANCE_DEAL: advance_action,
    Rule.Action.ISSUE_NEXT_INVOICE: issue_next_invoice_action,
}
