"""Every state change of a deal, its tasks and notes goes through these functions.

Each one runs in one transaction, locks what it changes, writes the audit row and the
outbox rows in that transaction, and leaves work for after the commit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.clients.models import Client, Contact
from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.deals import events
from studiocrm.deals.models import (
    LOST,
    NEW,
    OTHER_LOST_REASON,
    Deal,
    LostReason,
    Note,
    Source,
    Stage,
    StageChange,
    Task,
)


class DealError(Exception):
    """A change the caller asked for that the deal's state does not allow."""


class NotAllowed(DealError):
    pass


def can_edit(user: User, deal: Deal) -> bool:
    """Owners edit every deal; a manager edits their own deals and unassigned ones."""
    return user.is_active and (user.is_owner or deal.manager_id in (None, user.pk))


def check_can_edit(actor: User | None, deal: Deal, *, error: type[Exception] = NotAllowed) -> None:
    """Raise ``error`` unless ``actor`` may change the deal (``None`` is the system itself).
    Every app's services check their changes to a deal's things here."""
    if actor is not None and not can_edit(actor, deal):
        raise error(_("Only the responsible manager or an owner can change this deal."))


def pick_manager() -> User | None:
    """Who gets the next new lead, by the studio's rule. Locks the studio row so two
    concurrent leads do not go to the same manager by accident."""
    studio = Studio.objects.select_for_update().get(pk=Studio.load().pk)
    managers = list(User.objects.filter(is_active=True, role=User.Role.MANAGER).order_by("pk"))
    if studio.assignment_rule == Studio.Assignment.DEFAULT_MANAGER or not managers:
        if studio.default_manager and studio.default_manager.is_active:
            return studio.default_manager
        return (
            managers[0] if managers else User.objects.filter(is_active=True).order_by("pk").first()
        )
    last_pk = studio.last_assigned_manager_id or 0
    chosen = next((m for m in managers if m.pk > last_pk), managers[0])
    studio.last_assigned_manager = chosen
    studio.save(update_fields=["last_assigned_manager"])
    return chosen


def create_deal(
    *,
    title: str,
    client: Client,
    contact: Contact | None,
    actor: User | None,
    manager: User | None = None,
    source: str = Source.OTHER,
    description: str = "",
    currency: str | None = None,
    expected_amount: Decimal | None = None,
    intake_key: str | None = None,
    notify_manager: bool = False,
    utm: dict[str, str] | None = None,
) -> Deal:
    """Open a deal in stage `new` and emit ``lead.received``. With notify_manager, the
    reactions email the manager a link that opens the deal in one click."""
    with transaction.atomic():
        deal = Deal.objects.create(
            title=title[:300],
            client=client,
            contact=contact,
            manager=manager,
            source=source,
            stage_id=NEW,
            currency=currency or Studio.load().default_currency,
            expected_amount=expected_amount,
            description=description,
            intake_key=intake_key,
            **{f"utm_{key}": (value or "")[:100] for key, value in (utm or {}).items()},
        )
        StageChange.objects.create(deal=deal, from_stage=None, to_stage_id=NEW, by=actor)
        audit.record("deal.created", deal, actor=actor, data={"source": source})
        events.emit(
            events.LEAD_RECEIVED,
            deal,
            actor=actor,
            subject=deal,
            payload={"source": source, "notify_manager": notify_manager},
        )
    return deal


def move_deal(
    deal: Deal,
    to_stage: str,
    *,
    actor: User | None,
    lost_reason: str = "",
    reason: LostReason | None = None,
) -> Deal:
    """Move a deal to another stage, recording the change. Moving to `lost` needs a reason
    from the studio's list or a comment (a comment alone files the deal under "Other")."""
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal.pk)
        check_can_edit(actor, deal)
        stage = Stage.objects.filter(pk=to_stage).first()
        if stage is None:
            raise DealError(_("Unknown stage."))
        if stage.pk == deal.stage_id:
            return deal
        is_lost = stage.kind == Stage.Kind.LOST
        if is_lost and reason is None and not lost_reason.strip():
            raise DealError(_("Say why the deal was lost."))
        if is_lost and reason is None:
            reason = LostReason.objects.filter(code=OTHER_LOST_REASON).first()
        from_stage = deal.stage_id
        was_won = deal.stage.kind == Stage.Kind.WON
        now = timezone.now()
        deal.stage = stage
        deal.stage_changed_at = now
        if stage.is_open:
            deal.closed_at = None
        elif not (deal.closed_at and was_won and stage.kind == Stage.Kind.WON):
            # Won once (in work), then paid: the deal was won when the deposit came in.
            deal.closed_at = now
        deal.lost_reason = lost_reason.strip()[:300] if is_lost else ""
        deal.lost_reason_choice = reason if is_lost else None
        deal.save(
            update_fields=[
                "stage",
                "stage_changed_at",
                "closed_at",
                "lost_reason",
                "lost_reason_choice",
                "updated_at",
            ]
        )
        StageChange.objects.create(
            deal=deal, from_stage_id=from_stage, to_stage=stage, by=actor, at=now
        )
        audit.record(
            "deal.stage_changed",
            deal,
            actor=actor,
            data={
                "from": from_stage,
                "to": stage.pk,
                "lost_reason": deal.lost_reason,
                "reason": deal.lost_reason_choice_id,
            },
        )
        events.emit(
            events.STAGE_CHANGED,
            deal,
            actor=actor,
            payload={"from": from_stage, "to": stage.pk, "lost_reason": deal.lost_reason},
        )
    return deal


def advance_deal(deal: Deal, stage_code: str, *, actor: User | None) -> bool:
    """Move an active deal forward to ``stage_code`` if it is before it; never backwards,
    never out of lost or paid (a deal in work moves on to paid). The one rule for the moves
    the system makes by itself (brief submitted, proposal accepted, payment received).
    Returns whether the deal moved."""
    with transaction.atomic():
        current = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
        target = Stage.objects.filter(pk=stage_code).first()
        if target is None or not current.stage.is_active:
            return False
        if current.stage.position >= target.position:
            return False
        move_deal(current, stage_code, actor=actor)
    return True


def mark_lost(
    deal: Deal, comment: str, *, actor: User | None, reason: LostReason | None = None
) -> Deal:
    return move_deal(deal, LOST, actor=actor, lost_reason=comment, reason=reason)


def assign_deal(deal: Deal, manager: User | None, *, actor: User) -> Deal:
    """Give the deal to a manager. Owners reassign any deal; a manager may take an
    unassigned deal for themselves."""
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal.pk)
        if not actor.is_owner and not (deal.manager_id is None and manager == actor):
            raise NotAllowed(_("Only an owner can reassign a deal."))
        previous = deal.manager_id
        deal.manager = manager
        deal.save(update_fields=["manager", "updated_at"])
        audit.record(
            "deal.assigned",
            deal,
            actor=actor,
            data={"from": previous, "to": manager.pk if manager else None},
        )
    return deal


def update_deal(deal: Deal, *, actor: User, **fields: object) -> Deal:
    """Change the deal's descriptive fields (title, contact, source, amounts, currency)."""
    allowed = {"title", "contact", "source", "currency", "expected_amount", "description"}
    unknown = set(fields) - allowed
    if unknown:
        raise DealError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        check_can_edit(actor, locked)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, fields[name])
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
            audit.record("deal.updated", locked, actor=actor, data={"fields": changed})
    return locked


def rename_stages(names: dict[str, str], *, actor: User) -> list[str]:
    """Set the names the studio sees for stages; an empty name shows the translated default.

    Codes, order and kinds never change here. Returns the codes whose name changed.
    """
    changed: list[str] = []
    with transaction.atomic():
        for stage in Stage.objects.select_for_update().filter(pk__in=list(names)):
            name = names[stage.pk].strip()[:100]
            if name != stage.name:
                previous = stage.name
                stage.name = name
                stage.save(update_fields=["name"])
                audit.record(
                    "stage.renamed", stage, actor=actor, data={"from": previous, "to": name}
                )
                changed.append(stage.pk)
    return changed


def set_stage_probabilities(probabilities: dict[str, int], *, actor: User) -> list[str]:
    """Set each open stage's win probability (percent) used to weigh the pipeline.

    Won and lost stages keep 100 and 0. Returns the codes whose probability changed."""
    changed: list[str] = []
    with transaction.atomic():
        stages = Stage.objects.select_for_update().filter(
            pk__in=list(probabilities), kind=Stage.Kind.OPEN
        )
        for stage in stages:
            value = probabilities[stage.pk]
            if not 0 <= value <= 100:
                raise DealError(_("A probability is a percentage from 0 to 100."))
            if value != stage.probability:
                audit.record(
                    "stage.probability_set",
                    stage,
                    actor=actor,
                    data={"from": stage.probability, "to": value},
                )
                stage.probability = value
                stage.save(update_fields=["probability"])
                changed.append(stage.pk)
    return changed


def save_lost_reason(
    reason: LostReason | None, *, name: str, active: bool, actor: User
) -> LostReason:
    """Add a lost reason to the studio's list (reason=None) or rename / hide one.

    Reasons are never deleted: deals keep pointing at them; a hidden one is no longer
    offered. A default reason with an empty name shows its translated default."""
    name = name.strip()[:100]
    with transaction.atomic():
        if reason is None:
            if not name:
                raise DealError(_("A new reason needs a name."))
            last = LostReason.objects.order_by("-position").values_list("position", flat=True)
            reason = LostReason.objects.create(
                name=name, active=active, position=(last.first() or 0) + 1
            )
            audit.record("lost_reason.created", reason, actor=actor, data={"name": name})
            return reason
        locked = LostReason.objects.select_for_update().get(pk=reason.pk)
        if not name and not locked.code:
            raise DealError(_("A reason needs a name."))
        if (locked.name, locked.active) != (name, active):
            audit.record(
                "lost_reason.updated",
                locked,
                actor=actor,
                data={"from": [locked.name, locked.active], "to": [name, active]},
            )
            locked.name, locked.active = name, active
            locked.save(update_fields=["name", "active"])
    return locked


def add_note(deal: Deal, text: str, *, actor: User) -> Note:
    text = text.strip()
    if not text:
        raise DealError(_("A note cannot be empty."))
    with transaction.atomic():
        check_can_edit(actor, deal)
        note = Note.objects.create(deal=deal, author=actor, text=text[:10_000])
        audit.record("deal.note_added", deal, actor=actor, data={"note": note.pk})
    return note


def add_task(
    *, title: str, due_at: datetime, assignee: User, actor: User | None, deal: Deal | None = None
) -> Task:
    """Schedule a reminder for a manager; the worker emails it when it falls due."""
    title = title.strip()
    if not title:
        raise DealError(_("A task needs a title."))
    with transaction.atomic():
        if deal is not None:
            check_can_edit(actor, deal)
        task = Task.objects.create(
            title=title[:300], due_at=due_at, assignee=assignee, deal=deal, created_by=actor
        )
        audit.record("task.created", task, actor=actor, data={"deal": deal.pk if deal else None})
    return task


def complete_task(task: Task, *, actor: User, done: bool = True) -> Task:
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if not (actor.is_owner or task.assignee_id == actor.pk):
            raise NotAllowed(_("Only the assignee or an owner can complete this task."))
        if task.done == done:
            return task
        task.done = done
        task.done_at = timezone.now() if done else None
        task.save(update_fields=["done", "done_at"])
        audit.record("task.done" if done else "task.reopened", task, actor=actor)
    return task


def close_task(task_id: int, *, reason: dict[str, object]) -> bool:
    """The system closes a reminder that no longer needs doing (the brief came back, the
    contract went out). Returns whether an open task was closed."""
    closed = Task.objects.filter(pk=task_id, done=False).update(done=True, done_at=timezone.now())
    if closed:
        audit.record("task.done", Task(pk=task_id), actor=None, data=reason)
    return bool(closed)


def send_due_reminders() -> int:
    """Mark each due task reminded once and emit ``task.due`` (a periodic job of the worker;
    the reactions email the assignee)."""
    now = timezone.now()
    sent = 0
    due = Task.objects.filter(done=False, reminded_at__isnull=True, due_at__lte=now).filter(
        Q(assignee__is_active=True)
    )
    for task_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("assignee", "deal")
                .filter(pk=task_id, reminded_at__isnull=True, done=False)
                .first()
            )
            if task is None:
                continue
            task.reminded_at = now
            task.save(update_fields=["reminded_at"])
            events.emit(events.TASK_DUE, task.deal, subject=task)
            sent += 1 if task.assignee.email else 0
    return sent


def set_estimated_amount(deal: Deal, amount: Decimal | None, *, actor: User | None) -> Deal:
    """Record the value of the deal's current estimate (called when an estimate is saved)."""
    if amount is not None and amount < 0:
        raise DealError(_("An amount cannot be negative."))
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        check_can_edit(actor, locked)
        if locked.estimated_amount != amount:
            previous = locked.estimated_amount
            locked.estimated_amount = amount
            locked.save(update_fields=["estimated_amount", "updated_at"])
            audit.record(
                "deal.estimated_amount_set",
                locked,
                actor=actor,
                data={
                    "from": None if previous is None else str(previous),
                    "to": None if amount is None else str(amount),
                },
            )
    return locked
