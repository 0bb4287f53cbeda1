"""What the client sees: the invoice behind its link, the PDF, "Pay", the return page that
tells the truth, and the providers' webhooks.

Every page behind a token goes through ``portal.pages.client_link_page`` (404 for wrong,
revoked or expired tokens, rate limited; private headers; first view noticed; no CSRF cookie:
the token is the secret).
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from studiocrm.billing import payments, qr, services
from studiocrm.billing.models import BANK_TRANSFER, Invoice, Payment
from studiocrm.billing.providers import (
    UnknownProvider,
    enabled_providers,
    get_provider,
    providers_for,
)
from studiocrm.billing.providers.base import Instructions, WebhookRejected
from studiocrm.billing.rendering import (
    details_text,
    qr_payload_for,
    qr_svg,
    render_document,
    render_pdf,
    transfer_fields,
)
from studiocrm.billing.tasks import sync_payment_task
from studiocrm.core.urls_util import absolute_url
from studiocrm.portal.pages import client_link_page, render_portal

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 256 * 1024
# Each press of "Pay" opens a payment at the provider; a person needs a few, a script more.
PAY_RATE = "10/m"


def _queryset():  # noqa: ANN202 - a queryset of Invoice
    return (
        Invoice.objects.select_related("deal__manager", "deal__contact", "deal__client")
        .filter(kind=Invoice.Kind.INVOICE)
        .exclude(status=Invoice.Status.DRAFT)
    )


def _token(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["token"]) if request.resolver_match else ""


def _page(
    request: HttpRequest, invoice: Invoice, *, error: str = "", status: int = 200
) -> HttpResponse:
    payable = invoice.is_open and invoice.amount_due > 0
    enabled = enabled_providers() if payable else []
    offered = [provider for provider in enabled if provider.accepts(invoice)]
    online = [provider for provider in offered if provider.online]
    # Say why when a method the studio has switched on does not take this currency.
    if payable and not offered:
        method_note = "none"
    elif online or not any(provider.online for provider in enabled):
        method_note = ""
    else:
        method_note = "no_online"
    return render_portal(
        request,
        "billing/client/invoice.html",
        {
            "invoice": invoice,
            "token": _token(request),
            "document": render_document(invoice),
            "providers": online,
            "bank_transfer": next((p for p in offered if not p.online), None),
            "method_note": method_note,
            "credit_notes": invoice.credit_notes.exclude(status=Invoice.Status.DRAFT),
            "pay_error": error,
        },
        status=status,
    )


@require_GET
@client_link_page(Invoice, on_first_view=services.record_first_view, queryset=_queryset)
def invoice_page(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    return _page(request, invoice)


@require_GET
@client_link_page(Invoice, count_views=False, queryset=_queryset)
def invoice_pdf(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    response = HttpResponse(render_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invoice-{invoice.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@client_link_page(Invoice, count_views=False, queryset=_queryset)
def pay(request: HttpRequest, invoice: Invoice, provider: str) -> HttpResponse:
    """POST: start paying with ``provider``. Bank transfer answers with a redirect to its
    own page (post-redirect-get: a reload shows the page again and records nothing);
    online providers forward the client to the provider. A GET (a bookmarked or reloaded
    old URL) goes back to the page it came from instead of a bare 405."""
    token = _token(request)
    if request.method != "POST":
        if provider == BANK_TRANSFER:
            return redirect("billing_client:bank_transfer", token)
        return redirect("billing_client:invoice", token)
    if is_ratelimited(request, group="billing-pay", key="ip", rate=PAY_RATE, increment=True):
        return _page(
            request, invoice, error=_("Too many attempts. Please wait a minute."), status=429
        )

    def return_url(payment: Payment) -> str:
        return absolute_url(reverse("billing_client:returned", args=[token, payment.reference]))

    try:
        _payment, result = payments.start_payment(invoice, provider, return_url=return_url)
    except payments.PaymentUnavailable as error:
        return _page(request, invoice, error=str(error), status=409)
    if isinstance(result, Instructions):
        # 303: the browser GETs the page, so a reload shows it again and posts nothing.
        return HttpResponseRedirect(
            reverse("billing_client:bank_transfer", args=[token]), status=303
        )
    # A page that forwards the client, not a 302: a redirect after a form post to the
    # provider's origin would be blocked by our Content-Security-Policy's form-action.
    return render_portal(
        request, "billing/client/redirect.html", {"invoice": invoice, "url": result.url}
    )


def _bank_transfer_or_404(invoice: Invoice) -> str:
    """The payment code payload ("" for a currency without one) when the invoice can be
    paid by bank transfer now; Http404 when it cannot (paid, void, method off)."""
    if not (invoice.is_open and invoice.amount_due > 0):
        raise Http404
    if not any(not provider.online for provider in providers_for(invoice)):
        raise Http404
    return qr_payload_for(invoice) or ""


@require_GET
@client_link_page(Invoice, count_views=False, queryset=_queryset)
def bank_transfer(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """The bank-transfer page at its own URL: details with copy buttons, the payment code,
    and ways to save or share both. Shows what is due now; changes nothing."""
    token = _token(request)
    if not (invoice.is_open and invoice.amount_due > 0):
        return redirect("billing_client:invoice", token)
    payload = _bank_transfer_or_404(invoice)
    return render_portal(
        request,
        "billing/client/bank_transfer.html",
        {
            "invoice": invoice,
            "token": token,
            "amount": invoice.amount_due,
            "fields": transfer_fields(invoice),
            "qr_svg": qr_svg(payload),
            "qr_kind": "gost" if invoice.currency == "RUB" else "epc",
            "share_text": details_text(invoice),
        },
    )


@require_GET
@client_link_page(Invoice, count_views=False, queryset=_queryset)
def bank_transfer_file(request: HttpRequest, invoice: Invoice, kind: str) -> HttpResponse:
    """The payment code as PNG or SVG, or the details as text, to save or share."""
    payload = _bank_transfer_or_404(invoice)
    name = f"payment-{invoice.number}"
    if kind == "txt":
        body: bytes = details_text(invoice).encode("utf-8")
        content_type = "text/plain; charset=utf-8"
    elif not payload:
        raise Http404
    elif kind == "png":
        body, content_type = qr.png_file(payload), "image/png"
        name += "-qr"
    else:
        body, content_type = qr.svg_file(payload), "image/svg+xml"
        name += "-qr"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@client_link_page(Invoice, count_views=False, queryset=_queryset)
def returned(request: HttpRequest, invoice: Invoice, reference: str) -> HttpResponse:
    """Where the provider sends the client back. It shows what we know, not what the URL
    claims: pending until the webhook or a re-fetch confirms the payment."""
    payment = Payment.objects.filter(invoice=invoice, reference=reference[:32]).first()
    if payment is None:
        raise Http404
    if payment.status == Payment.Status.PENDING and not request.htmx:
        # Ask the provider now rather than wait for the webhook or the next sweep.
        try:
            sync_payment_task.enqueue(payment.pk)
        except Exception:  # the reconciliation sweep still gets there
            log.exception("could not enqueue a sync of payment %s", payment.pk)
    context = {"invoice": invoice, "payment": payment, "token": _token(request)}
    if request.htmx:
        return render_portal(request, "billing/client/_payment_status.html", context)
    return render_portal(request, "billing/client/returned.html", context)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's notification: verify it, store it once, answer. 2xx for everything we
    accepted (``accepted`` for a new event, ``duplicate`` for a replay, ``ignored`` for an
    event not about a payment), 4xx for what we refuse, 503 only when it cannot be stored.
    The re-fetch and apply run in a task (payments.process_stored_event), so the answer
    never waits for the provider's API and a permanent re-fetch error is not retried by
    the provider forever."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse("bad length", status=400, content_type="text/plain")
    if length > MAX_WEBHOOK_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    try:
        handler = get_provider(provider)
    except UnknownProvider:
        return HttpResponse("unknown provider", status=404, content_type="text/plain")
    if not handler.online:
        return HttpResponse("no webhooks", status=404, content_type="text/plain")
    try:
        event = handler.verify_webhook(request)
    except WebhookRejected as error:
        log.warning("%s webhook rejected: %s", provider, error)
        return HttpResponse("rejected", status=error.status, content_type="text/plain")
    try:
        stored = payments.store_event(handler, event)
    except Exception:
        # Nothing was committed; the provider retries.
        log.exception("%s webhook %s could not be stored", provider, event.event_id)
        return HttpResponse("retry later", status=503, content_type="text/plain")
    if not stored.created:
        return HttpResponse("duplicate", status=200, content_type="text/plain")
    return HttpResponse(stored.event.outcome or "accepted", status=200, content_type="text/plain")
