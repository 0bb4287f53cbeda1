"""How a client reaches an invoice: by its link token only (DESIGN.md §5).

Wrong, revoked and expired tokens get 404 and count against the address's budget; over the
budget every token gets 429 for a while, so guessing is pointless. Pages behind a token are
never cached, indexed or referred onward.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from studiocrm.billing.models import Invoice
from studiocrm.core.http import client_ip
from studiocrm.core.models import Studio
from studiocrm.core.urls_util import absolute_url
from studiocrm.notifications.outbox import queue_email
from studiocrm.portal.links import record_view

BAD_TOKEN_GROUP = "billing:bad-token"  # noqa: S105 - a rate-limit group name
BAD_TOKEN_RATE = "20/m"  # noqa: S105 - wrong links per minute per address


def _address(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def private_headers(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _over_budget(request: HttpRequest, *, count: bool) -> bool:
    return is_ratelimited(
        request, group=BAD_TOKEN_GROUP, key=_address, rate=BAD_TOKEN_RATE, increment=count
    )


def find_invoice(request: HttpRequest, token: str) -> Invoice:
    """The issued invoice this token opens, or Http404 (and one more strike for the address)."""
    queryset = Invoice.objects.select_related("deal__manager", "deal__contact", "deal__client")
    invoice = Invoice.find_by_token(
        token,
        queryset=queryset.filter(kind=Invoice.Kind.INVOICE).exclude(status=Invoice.Status.DRAFT),
    )
    if invoice is None:
        _over_budget(request, count=True)
        raise Http404
    return invoice


def client_invoice_view(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Decorate a view taking ``(request, invoice, ...)`` reached at ``<token>/...``."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if _over_budget(request, count=False):
            response = HttpResponse(
                _("Too many wrong links from your address. Try again in a minute."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            return private_headers(response)
        invoice = find_invoice(request, token)
        with translation.override(invoice.language):
            response = view(request, invoice, *args, token=token, **kwargs)
        return private_headers(response)

    return wrapper


def record_client_view(invoice: Invoice) -> None:
    """Count the view; on the very first one, tell the responsible manager."""
    if not record_view(invoice):
        return
    manager = invoice.deal.manager
    if manager is None or not manager.email or not manager.is_active:
        return
    with translation.override(manager.language or Studio.load().locale):
        queue_email(
            to=manager.email,
            subject=_("The client opened invoice No. %(number)s") % {"number": invoice.number},
            body=render_to_string(
                "billing/email/invoice_viewed.txt",
                {"invoice": invoice, "link": absolute_url(invoice.get_absolute_url())},
            ),
            dedupe_key=f"billing-invoice-viewed:{invoice.pk}",
            deal=invoice.deal,
        )
