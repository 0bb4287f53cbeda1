"""The automation section of the deal page (listed in settings.DEAL_PANELS): the pause
switch, the timers waiting and fired, and each automatic letter's delivery status."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.flow import checklist as checklists
from studiocrm.flow.models import Checklist, DealPause, Timer
from studiocrm.notifications.models import Outbox


def automation_panel(request: HttpRequest, deal: Deal) -> str:
    timers = list(
        Timer.objects.filter(deal=deal).select_related("rule").order_by("-due_at", "-pk")[:30]
    )
    keys = [f"rule:{timer.rule.code}:{timer.event_id}" for timer in timers]
    letters = {
        message.dedupe_key: message for message in Outbox.objects.filter(dedupe_key__in=keys)
    }
    rows = [
        {"timer": timer, "message": letters.get(key)}
        for timer, key in zip(timers, keys, strict=True)
    ]
    checklist = Checklist.objects.filter(deal=deal).first()
    checklist_items = list(checklist.items.all()) if checklist else []
    return render_to_string(
        "flow/panel.html",
        {
            "checklist": checklist,
            "status_key": uuid.uuid4().hex,
            "status_updates": list(
                Outbox.objects.filter(deal=deal, dedupe_key__startswith="status-update:").order_by(
                    "-created_at"
                )[:5]
            ),
            "checklist_items": checklist_items,
            "checklist_done": sum(1 for item in checklist_items if item.done_at),
            "checklist_link": checklists.client_url(checklist) if checklist else "",
            "deal": deal,
            "timers": rows,
            "paused": DealPause.objects.filter(deal=deal).exists(),
            "can_edit": can_edit(request.user, deal),
        },
        request=request,
    )
