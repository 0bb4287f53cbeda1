"""Manager pages: invoice list and page, create (by hand or from the schedule), issue, void,
credit note, manual payments, refunds, and the owner's payment settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from studiocrm.billing import payments, services
from studiocrm.billing.forms import (
    CreditNoteForm,
    InvoiceForm,
    LineFormSet,
    ManualPaymentForm,
    ProviderAccountForm,
    RefundForm,
    VoidForm,
)
from studiocrm.billing.models import Invoice, Payment, new_reference
from studiocrm.billing.providers import codes, get_provider
from studiocrm.billing.rendering import render_document, render_pdf
from studiocrm.billing.services import BillingError, NotAllowed
from studiocrm.core.models import Studio
from studiocrm.core.permissions import owner_required
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.portal.links import LinkTokenLost


def _client_link(invoice: Invoice) -> str:
    """The client's link, derived again from the stored salt ("copy link")."""
    if invoice.is_draft or invoice.is_credit_note:
        return ""
    try:
        return services.client_link(invoice.link_token())
    except LinkTokenLost:
        return ""


def _invoice_or_404(pk: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.select_related("deal__client", "deal__manager", "corrects"), pk=pk
    )


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = Invoice.objects.select_related("deal__client").order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in Invoice.Status.values:
        invoices = invoices.filter(status=status)
    if request.GET.get("flag") == "overpaid":
        invoices = invoices.filter(overpaid_amount__gt=0)
    page = Paginator(invoices, 50).get_page(request.GET.get("page"))
    pending_transfers = (
        Payment.objects.filter(status=Payment.Status.PENDING, provider="bank_transfer")
        .select_related("invoice__deal")
        .order_by("created_at")[:20]
    )
    needs_review = (
        Payment.objects.filter(status=Payment.Status.MISMATCH)
        .select_related("invoice__deal")
        .order_by("created_at")[:20]
    )
    return render(
        request,
        "billing/list.html",
        {
            "page": page,
            "status": status,
            "statuses": Invoice.Status.choices,
            "pending_transfers": pending_transfers,
            "needs_review": needs_review,
            "query_string": urlencode(
                {key: value for key in ("status", "flag") if (value := request.GET.get(key))}
            ),
        },
    )


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    payments_list = list(invoice.payments.prefetch_related("refunds").select_related("recorded_by"))
    return render(
        request,
        "billing/detail.html",
        {
            "invoice": invoice,
            "deal": invoice.deal,
            "document": render_document(invoice),
            "payments": payments_list,
            "credit_notes": list(invoice.credit_notes.all()),
            "can_edit": can_edit(request.user, invoice.deal),
            "client_link": _client_link(invoice),
            "void_form": VoidForm(),
        },
    )


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    response = HttpResponse(render_pdf(invoice), content_type="application/pdf")
    name = invoice.number or f"draft-{invoice.pk}"
    response["Content-Disposition"] = f'inline; filename="invoice-{name}.pdf"'
    return response


def _edit_form_initial(deal: Deal, invoice: Invoice | None) -> dict[str, Any]:
    if invoice is None:
        studio = Studio.load()
        return {
            "due_days": 5,
            "language": services.invoice_language(deal),
            "tax_mode": studio.tax_mode,
            "vat_rate": studio.vat_rate,
        }
    return {
        "purpose": invoice.purpose,
        "due_days": invoice.due_days,
        "language": invoice.language,
        "tax_mode": invoice.tax_mode,
        "vat_rate": invoice.vat_rate,
        "notes": invoice.notes,
    }


def _edit(request: HttpRequest, deal: Deal, invoice: Invoice | None) -> HttpResponse:
    if not can_edit(request.user, deal):
        raise PermissionDenied
    lines_initial = (
        [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
            }
            for line in invoice.lines.all()
        ]
        if invoice
        else []
    )
    form = InvoiceForm(request.POST or None, initial=_edit_form_initial(deal, invoice))
    formset = LineFormSet(request.POST or None, initial=lines_initial, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            terms = {
                "purpose": data["purpose"],
                "notes": data["notes"],
                "due_days": data["due_days"],
                "language": data["language"],
                "tax_mode": data["tax_mode"],
                "vat_rate": data["vat_rate"],
            }
            if invoice is None:
                invoice = services.create_invoice(
                    deal, lines=formset.lines(), actor=request.user, **terms
                )
            else:
                invoice = services.update_draft(
                    invoice, lines=formset.lines(), actor=request.user, **terms
                )
        except NotAllowed as error:
            raise PermissionDenied from error
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Draft saved. Check it, then issue it to the client."))
            return redirect(invoice)
    return render(
        request,
        "billing/edit.html",
        {"form": form, "formset": formset, "deal": deal, "invoice": invoice},
    )


@login_required
def invoice_create(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.select_related("client", "contact"), pk=deal_id)
    return _edit(request, deal, None)


@login_required
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    if not invoice.is_draft:
        messages.error(
            request, _("Only a draft can be edited; correct an issued invoice with a credit note.")
        )
        return redirect(invoice)
    return _edit(request, invoice.deal, invoice)


def _act(request: HttpRequest, invoice: Invoice, action: Any, success: str) -> HttpResponse:
    """Run a service for a POST; a refusal becomes a message, a permission error a 403."""
    try:
        action()
    except NotAllowed as error:
        raise PermissionDenied from error
    except BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect(invoice)


@login_required
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)

    return _act(
        request,
        invoice,
        lambda: services.issue_invoice(invoice, actor=request.user),
        _("Invoice issued and sent to the client."),
    )


@login_required
@require_POST
def invoice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    deal = invoice.deal
    try:
        services.delete_draft(invoice, actor=request.user)
    except NotAllowed as error:
        raise PermissionDenied from error
    except BillingError as error:
        messages.error(request, str(error))
        return redirect(invoice)
    messages.success(request, _("Draft deleted."))
    return redirect(deal)


@login_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the invoice is void."))
        return redirect(invoice)
    return _act(
        request,
        invoice,
        lambda: services.void_invoice(
            invoice, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("Invoice voided. It keeps its number."),
    )


@login_required
@require_POST
def invoice_new_link(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)

    return _act(
        request,
        invoice,
        lambda: services.new_link(invoice, actor=request.user),
        _("New link sent to the client; the old one no longer works."),
    )


@login_required
@require_POST
def from_schedule(request: HttpRequest, deal_id: int, step: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=deal_id)
    if not can_edit(request.user, deal):
        raise PermissionDenied
    try:
        invoice, _token = services.create_from_schedule(deal, step, actor=request.user)
    except NotAllowed as error:
        raise PermissionDenied from error
    except BillingError as error:
        messages.error(request, str(error))
        return redirect(deal)
    messages.success(
        request,
        _("Invoice No. %(number)s issued and sent to the client.") % {"number": invoice.number},
    )
    return redirect(invoice)


def _form_page(
    request: HttpRequest,
    invoice: Invoice,
    form: Any,
    *,
    title: str,
    submit: str,
    extra: dict | None = None,
) -> HttpResponse:
    context = {"invoice": invoice, "form": form, "title": title, "submit": submit, **(extra or {})}
    return render(request, "billing/form.html", context)


@login_required
def credit_note(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    if not can_edit(request.user, invoice.deal):
        raise PermissionDenied
    form = CreditNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.create_credit_note(
                invoice,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Credit note %(number)s issued.") % {"number": note.number})
            return redirect(invoice)
    return _form_page(
        request,
        invoice,
        form,
        title=_("Credit note for invoice No. %(number)s") % {"number": invoice.number},
        submit=_("Issue credit note"),
    )


@login_required
def record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(pk)
    if not can_edit(request.user, invoice.deal):
        raise PermissionDenied
    pending = None
    if request.GET.get("pending"):
        pending = invoice.payments.filter(
            pk=request.GET["pending"] if request.GET["pending"].isdigit() else 0,
            status=Payment.Status.PENDING,
            provider="bank_transfer",
        ).first()
    form = ManualPaymentForm(request.POST or None, invoice=invoice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payments.record_manual_payment(
                invoice,
                amount=data["amount"],
                received_on=data["received_on"],
                note=data["note"],
                key=data["key"],
                pending=pending,
                actor=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(invoice)
    return _form_page(
        request,
        invoice,
        form,
        title=_("Record a bank transfer for invoice No. %(number)s") % {"number": invoice.number},
        submit=_("Record payment"),
        extra={"hint": _("More than is due is accepted and flagged as an overpayment.")},
    )


@login_required
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("invoice__deal"), pk=pk)
    invoice = payment.invoice
    if not can_edit(request.user, invoice.deal):
        raise PermissionDenied
    form = RefundForm(request.POST or None, initial={"key": new_reference()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payments.record_refund(
                payment,
                amount=data["amount"],
                note=data["note"],
                key=data["key"],
                actor=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Refund recorded."))
            return redirect(invoice)
    return _form_page(
        request,
        invoice,
        form,
        title=_("Record a refund for invoice No. %(number)s") % {"number": invoice.number},
        submit=_("Record refund"),
        extra={
            "hint": _(
                "Return the money through the provider's dashboard or your bank first; "
                "this records it."
            )
        },
    )


@owner_required
def provider_settings(request: HttpRequest) -> HttpResponse:
    providers = [get_provider(code) for code in codes()]
    saved_code = request.POST.get("provider") if request.method == "POST" else None
    forms_by_code = {
        provider.code: ProviderAccountForm(
            request.POST if provider.code == saved_code else None, provider=provider
        )
        for provider in providers
    }
    if saved_code in forms_by_code:
        form = forms_by_code[saved_code]
        if form.is_valid():
            services.save_provider_account(
                form.provider.account, form.changes(), actor=request.user
            )
            messages.success(request, _("Payment settings saved."))
            return redirect("billing:settings")
    sections = [
        {
            "provider": provider,
            "form": forms_by_code[provider.code],
            "webhook_url": absolute_url(reverse("billing_client:webhook", args=[provider.code]))
            if provider.online
            else "",
            "secrets": [
                {
                    "label": setting.label,
                    "hint": provider.account.secret_hint(setting.name),
                    "set_at": provider.account.secret_set_at(setting.name),
                }
                for setting in provider.settings_fields
                if setting.secret
            ],
        }
        for provider in providers
    ]
    return render(request, "billing/settings.html", {"sections": sections})
