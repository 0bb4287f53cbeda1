"""The kickoff checklist: "what to prepare" for the start of work, which the client ticks on
a page behind a link (``/c/k/<token>/``) instead of answering the manager item by item.

The studio keeps its list per language (``KickoffItem``, edited by the owner); when the
deposit arrives (``payment.received``, a reaction) the deal gets its own copy
(``Checklist``), which the kickoff letter links to. Every tick is an event
(``checklist.ticked``) on the deal; the manager sees the ticks on the deal page and hears
(the bell) once everything is ready. Ticking the same state again changes nothing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals.models import Deal
from studiocrm.flow import notify
from studiocrm.flow.catalog import KICKOFF_CHECKLIST
from studiocrm.flow.models import Checklist, ChecklistItem, KickoffItem
from studiocrm.portal.links import LinkTokenLost


def default_items(language: str) -> list[str]:
    """The studio's list in ``language`` (the shipped one if the owner emptied it)."""
    items = list(
        KickoffItem.objects.filter(language=language)
        .order_by("position", "pk")
        .values_list("text", flat=True)
    )
    return items or list(KICKOFF_CHECKLIST.get(language, KICKOFF_CHECKLIST["en"]))


def open_for(deal: Deal, language: str) -> Checklist:
    """The deal's checklist, made from the studio's list the first time (idempotent)."""
    existing = Checklist.objects.filter(deal=deal).first()
    if existing is not None:
        return existing
    checklist = Checklist(deal=deal, language=language)
    checklist.issue_token()
    try:
        with transaction.atomic():
            checklist.save()
    except IntegrityError:  # made by a simultaneous payment of the same deal
        return Checklist.objects.get(deal=deal)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(checklist=checklist, text=text, position=position)
        for position, text in enumerate(default_items(language))
    )
    return checklist


def client_url(checklist: Checklist) -> str:
    try:
        token = checklist.link_token()
    except LinkTokenLost:
        return ""
    return absolute_url(reverse("flow_client:checklist", args=[token]))


def letter_context(deal: Deal, language: str) -> dict[str, object]:
    """What the kickoff letter shows: the deal's list (or the studio's) and its link."""
    checklist = Checklist.objects.filter(deal=deal).first()
    if checklist is None:
        return {"checklist": default_items(language), "checklist_link": ""}
    return {
        "checklist": list(checklist.items.values_list("text", flat=True)),
        "checklist_link": client_url(checklist),
    }


class NoSuchItem(LookupError):
    """The item is not on this checklist (another deal's id, or made up)."""


def tick(checklist: Checklist, item_id: int, *, done: bool) -> ChecklistItem:
    """The client marks an item ready (or not). A tick that changes nothing (a replayed or
    double-sent request) records nothing."""
    with transaction.atomic():
        item = (
            ChecklistItem.objects.select_for_update()
            .filter(pk=item_id, checklist_id=checklist.pk)
            .first()
        )
        if item is None:
            raise NoSuchItem(item_id)
        if (item.done_at is not None) == done:
            return item
        item.done_at = timezone.now() if done else None
        item.save(update_fields=["done_at"])
        locked = Checklist.objects.select_for_update().select_related("deal").get(pk=checklist.pk)
        audit.record(
            "checklist.ticked", item, actor=None, data={"deal": locked.deal_id, "done": done}
        )
        events.emit(
            events.CHECKLIST_TICKED,
            locked.deal,
            subject=item,
            payload={"item": item.pk, "text": item.text, "done": done},
        )
        complete = not locked.items.filter(done_at__isnull=True).exists()
        if complete and locked.completed_at is None:
            locked.completed_at = timezone.now()
            locked.save(update_fields=["completed_at"])
            _tell_manager_ready(locked)
        elif not complete and locked.completed_at is not None:
            locked.completed_at = None
            locked.save(update_fields=["completed_at"])
    return item


def _tell_manager_ready(checklist: Checklist) -> None:
    notify.tell_manager(
        checklist.deal,
        gettext_noop("The client has everything ready for the kickoff"),
        key=f"checklist-ready:{checklist.pk}:{checklist.completed_at:%s}",
    )


def save_defaults(language: str, lines: list[str], *, actor: User) -> None:
    """The owner's "what to prepare" list in ``language``, one item per line."""
    items = [" ".join(line.split())[:300] for line in lines if line.strip()]
    with transaction.atomic():
        KickoffItem.objects.filter(language=language).delete()
        KickoffItem.objects.bulk_create(
            KickoffItem(language=language, text=text, position=position)
            for position, text in enumerate(items)
        )
        audit.record(
            "kickoff_checklist.saved",
            Studio.load(),
            actor=actor,
            data={"language": language, "items": len(items)},
        )
