"""The documents section of the deal page (listed in settings.DEAL_PANELS)."""

from __future__ import annotations

from django.db.models import Max, Prefetch
from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, Kind
from studiocrm.estimates import public as estimates
from studiocrm.portal.links import LinkTokenLost


def _link(document: Document) -> str:
    """The client link to copy, if the document has a working one."""
    if document.status == Document.Status.DRAFT or document.revoked_at is not None:
        return ""
    try:
        return services.client_url(document)
    except LinkTokenLost:  # SECRET_KEY changed: sending again issues a new link
        return ""


def documents_panel(request: HttpRequest, deal: Deal) -> str:
    """The deal's documents with status, version, views and acceptance, and the actions that
    fit: create the proposal (once there is a saved estimate), send, PDF, copy the link,
    create an acceptance act (once the contract is signed). Read-only; four queries."""
    documents = list(
        Document.objects.filter(deal=deal)
        .select_related("parent")
        .annotate(latest_version=Max("revisions__number"))
        .prefetch_related(
            Prefetch(
                "acceptances",
                queryset=Acceptance.objects.select_related("revision").order_by(
                    "-accepted_at", "-pk"
                ),
                to_attr="acceptance_list",
            )
        )
        .order_by("created_at", "pk")
    )
    editable = can_edit(request.user, deal)
    has_estimate = estimates.saved_estimates(deal).exists()
    items = []
    today = services.studio_today()
    for document in documents:
        items.append(
            {
                "document": document,
                "acceptance": document.acceptance_list[0] if document.acceptance_list else None,
                "link": _link(document),
                "expired": services.is_expired(document, today),
                "can_send": editable
                and document.status != Document.Status.ACCEPTED
                and not (
                    document.kind == Kind.APPENDIX
                    and document.parent is not None
                    and document.parent.status == Document.Status.DRAFT
                ),
            }
        )
    has_proposal = any(document.kind == Kind.PROPOSAL for document in documents)
    signed = any(
        document.kind == Kind.CONTRACT and document.acceptance_list for document in documents
    )
    return render_to_string(
        "documents/panel.html",
        {
            "deal": deal,
            "items": items,
            "editable": editable,
            "can_create_proposal": editable and has_estimate and not has_proposal,
            "needs_estimate": editable and not has_estimate and not has_proposal,
            "can_create_act": editable and signed,
        },
        request=request,
    )
