"""The brief section of the deal page (listed in settings.DEAL_PANELS)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.briefs import client_form, services
from studiocrm.briefs import questions as q
from studiocrm.briefs.forms import SendBriefForm
from studiocrm.briefs.models import Brief
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit


def brief_panel(request: HttpRequest, deal: Deal) -> str:
    """The deal's briefs: the latest one's answers in compact form (unanswered required
    questions flagged) with links, and the form to send a brief. Read-only; four queries."""
    briefs = list(Brief.objects.filter(deal=deal).order_by("-created_at", "-pk"))
    latest = briefs[0] if briefs else None
    editable = can_edit(request.user, deal)
    context = {
        "deal": deal,
        "briefs": briefs,
        "latest": latest,
        "can_edit": editable,
    }
    if latest is not None:
        context["sections"] = client_form.build(
            latest.questions, latest.answers, files=latest.files.all(), flag_missing=True
        )
        context["answered"], context["total"] = q.progress(latest.questions, latest.answers)
    open_brief = any(brief.is_editable_by_client for brief in briefs)
    if editable:
        context["send_form"] = SendBriefForm(
            deal=deal, initial_template=services.suggested_template(deal)
        )
        context["send_collapsed"] = open_brief or latest is not None
    return render_to_string("briefs/panel.html", context, request=request)
