"""The "Lead as received" section of the deal page (listed in settings.DEAL_PANELS)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.deals.models import Deal
from studiocrm.intake.models import ContactChange, Lead
from studiocrm.intake.services import can_decide


def lead_panel(request: HttpRequest, deal: Deal) -> str | None:
    """What the lead said (name, email, phone, company) and the changes it proposes to the
    existing contact, each with accept / reject for whoever may decide. Two queries."""
    lead = Lead.objects.filter(deal=deal).first()
    if lead is None:
        return None
    changes = list(
        ContactChange.objects.filter(lead=lead).select_related("contact__client", "decided_by")
    )
    for change in changes:
        change.may_accept = can_decide(request.user, change, accepting=True)
        change.may_reject = can_decide(request.user, change, accepting=False)
    return render_to_string(
        "intake/lead_panel.html",
        {"deal": deal, "lead": lead, "changes": changes},
        request=request,
    )


def email_panel(request: HttpRequest, deal: Deal) -> str | None:
    """The emails that came in about the deal (from the studio's mailbox) and their files."""
    from studiocrm.intake.models import InboundEmail

    emails = list(
        InboundEmail.objects.filter(deal=deal)
        .prefetch_related("attachments")
        .order_by("received_at")
    )
    if not emails:
        return None
    return render_to_string("intake/email_panel.html", {"emails": emails}, request=request)
