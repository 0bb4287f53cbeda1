"""Status letters: the client hears where their project is without a manager writing.

Sent by themselves when a won deal moves on (In work → Paid, or any move between won
stages: a reaction to ``deal.stage_changed``), and by a manager's click on the deal page with
a short note ("send a status update"). Both use the studio's ``status_update`` letter.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import translation

from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.deals.models import Deal, Event, Stage
from studiocrm.deals.services import check_can_edit
from studiocrm.flow import addressing
from studiocrm.flow.letters import send_letter
from studiocrm.notifications.models import Outbox

NOTE_MAX_LENGTH = 1000


class NoClientAddress(Exception):
    """The deal's contact has no email address."""


def _send(deal: Deal, stage: Stage, *, note: str, moved: bool, dedupe_key: str) -> bool:
    addressee = addressing.for_subject(None, deal)
    with translation.override(addressee.language):
        stage_name = str(stage.label)
    return send_letter(
        "status_update",
        to=addressee.to,
        deal=deal,
        language=addressee.language,
        context={"status": {"stage": stage_name, "note": note, "moved": moved}},
        dedupe_key=dedupe_key,
        reply_to=addressee.reply_to,
        manager=addressee.manager,
    )


def on_stage_changed(event: Event) -> None:
    """The reaction: a move between won stages (the work goes on) tells the client."""
    stages = Stage.objects.in_bulk([event.payload.get("from"), event.payload.get("to")])
    before, after = stages.get(event.payload.get("from")), stages.get(event.payload.get("to"))
    if before is None or after is None or before.pk == after.pk:
        return
    if before.kind != Stage.Kind.WON or after.kind != Stage.Kind.WON:
        return
    _send(event.deal, after, note="", moved=True, dedupe_key=f"status-update:stage:{event.pk}")


def send_status_update(deal: Deal, *, note: str, actor: User, key: str) -> bool:
    """A manager's "send a status update" with a short note. ``key`` is the form's one-time
    key: the same form sent twice sends one letter."""
    check_can_edit(actor, deal)
    note = note.strip()[:NOTE_MAX_LENGTH]
    with transaction.atomic():
        locked = (
            Deal.objects.select_for_update(of=("self",))
            .select_related("stage", "contact")
            .get(pk=deal.pk)
        )
        if not addressing.contact_email(locked):
            raise NoClientAddress
        dedupe_key = f"status-update:manual:{locked.pk}:{key[:40]}"
        if Outbox.objects.filter(dedupe_key=dedupe_key).exists():
            return False  # the same form again (a double click, a reload)
        sent = _send(locked, locked.stage, note=note, moved=False, dedupe_key=dedupe_key)
        audit.record("deal.status_update_sent", locked, actor=actor, data={"note": len(note)})
    return sent
