"""The client's kickoff checklist page, reached only through its link token (``/c/k/``).

Ticks are POSTs (htmx swaps the one item; without JavaScript the page reloads). The token
in the URL is the secret, as on the other client pages (``portal.pages``); a tick for an
item of another checklist is the same 404 as a wrong token.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studiocrm.flow import checklist as checklists
from studiocrm.flow.models import Checklist
from studiocrm.portal.pages import client_link_page, render_portal


def _token(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["token"]) if request.resolver_match else ""


@require_GET
@client_link_page(Checklist)
def page(request: HttpRequest, checklist: Checklist) -> HttpResponse:
    items = list(checklist.items.all())
    return render_portal(
        request,
        "flow/client/checklist.html",
        {
            "checklist": checklist,
            "items": items,
            "done_count": sum(1 for item in items if item.done_at),
            "token": _token(request),
        },
    )


@require_POST
@client_link_page(Checklist, count_views=False)
def tick(request: HttpRequest, checklist: Checklist, item_id: int) -> HttpResponse:
    done = request.POST.get("done")
    if done not in ("0", "1"):
        return HttpResponseBadRequest()
    try:
        item = checklists.tick(checklist, item_id, done=done == "1")
    except checklists.NoSuchItem as error:
        raise Http404 from error
    if request.headers.get("HX-Request") == "true":
        return render_portal(
            request,
            "flow/client/_item.html",
            {"item": item, "token": _token(request)},
        )
    return redirect(reverse("flow_client:checklist", args=[_token(request)]) + f"#item-{item.pk}")
