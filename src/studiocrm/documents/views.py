"""Manager pages for documents: the editors (document and template), sending, versions,
certificates and PDFs. Views validate input and call one service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from studiocrm.clients.services import missing_details
from studiocrm.core.http import safe_next
from studiocrm.core.middleware import csp_inline_styles
from studiocrm.core.permissions import owner_required
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.documents import defaults, reference, sandbox, services
from studiocrm.documents.context import build_context, default_schedule
from studiocrm.documents.forms import DocumentForm, TemplateForm, parse_schedule, schedule_to_text
from studiocrm.documents.models import Acceptance, Document, DocumentTemplate, Kind, Revision
from studiocrm.documents.presenting import (
    certificate_context,
    certificate_html,
    page_state,
    pdf_download,
    raw_download,
)
from studiocrm.portal.links import LinkTokenLost

View = Callable[..., HttpResponse]


def login_required_htmx(view: View) -> View:
    """login_required that tells htmx to load the login page instead of swapping it in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_active:
            return view(request, *args, **kwargs)
        login = f"{reverse('login')}?{urlencode({'next': request.path})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login
            return response
        return redirect(login)

    return wrapper


def _document(pk: int) -> Document:
    return get_object_or_404(
        Document.objects.select_related("deal", "deal__client", "deal__contact", "deal__manager"),
        pk=pk,
    )


def _link(document: Document) -> str:
    if document.status == Document.Status.DRAFT:
        return ""
    try:
        return services.client_url(document)
    except LinkTokenLost:  # SECRET_KEY changed: sending again issues a new link
        return ""


def _require_edit(request: HttpRequest, document: Document) -> None:
    if not can_edit(request.user, document.deal):
        raise PermissionDenied(_("Only the responsible manager or an owner can change this deal."))


def srcdoc(html: str, language: str = "en") -> str:
    """A whole page around a document body, for the sandboxed preview iframe: no script runs
    in it and it cannot reach this page (the template is studio-written HTML)."""
    return render_to_string(
        "documents/_preview_doc.html",
        {
            "html": html,
            "language": language,
            "css_urls": [
                static("documents/document.css"),
                static("documents/document-screen.css"),
            ],
        },
    )


def problem_details(problem: sandbox.TemplateProblem | None, source: str) -> dict[str, Any]:
    """A template problem for the editor: the message, its line number and that line's text,
    so the author sees which line is meant."""
    line_text = ""
    if problem is not None and problem.line:
        lines = source.splitlines()
        if 0 < problem.line <= len(lines):
            line_text = lines[problem.line - 1].strip()[:200]
    return {"problem": problem, "problem_line_text": line_text}


def _preview_fragment(
    request: HttpRequest,
    html: str = "",
    problem: Any = None,
    language: str = "en",
    source: str = "",
) -> HttpResponse:
    # 200 even for a template problem: htmx swaps only 2xx, and the message must show.
    return render(
        request,
        "documents/_preview.html",
        {
            "srcdoc": srcdoc(html, language) if problem is None else "",
            **problem_details(problem, source),
        },
    )


# Deal actions ---------------------------------------------------------------------------------


@login_required_htmx
@require_POST
def create_proposal(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=deal_pk)
    try:
        document = services.create_proposal(deal, actor=request.user)
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except services.DocumentError as error:
        messages.error(request, str(error))
        return redirect(deal.get_absolute_url())
    messages.success(request, _("Proposal ready. Check it and send it to the client."))
    return redirect(document.get_absolute_url())


@login_required_htmx
@require_POST
def create_act(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=deal_pk)
    try:
        document = services.create_act(deal, actor=request.user)
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except services.DocumentError as error:
        messages.error(request, str(error))
        return redirect(deal.get_absolute_url())
    return redirect(document.get_absolute_url())


# The document editor --------------------------------------------------------------------------


@csp_inline_styles
@login_required_htmx
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(pk)
    editable = can_edit(request.user, document.deal)
    initial = {
        "title": document.title,
        "source": document.source,
        "schedule": schedule_to_text(
            document.payment_schedule or default_schedule(document.language)
        ),
    }
    form = DocumentForm(request.POST or None, initial=initial)
    source_problem: dict[str, Any] = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.update_document(
                    document,
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    source=form.cleaned_data["source"],
                    schedule=form.cleaned_data["schedule"],
                )
            except services.TemplateInvalid as error:
                source_problem = problem_details(error.problem, form.cleaned_data["source"])
                form.add_error("source", str(error.problem))
            except services.DocumentError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Saved. The client sees this version on the next reload.")
                )
                return redirect(document.get_absolute_url())
    state = page_state(document)
    revisions = list(
        Revision.objects.filter(document=document)
        .select_related("acceptance")
        .order_by("-number")
        .only(
            "number",
            "reason",
            "created_at",
            "fingerprint",
            "document_id",
            "title",
            "acceptance__signer_name",
            "acceptance__accepted_at",
            "acceptance__id",
        )
    )
    context = build_context(document)
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "deal": document.deal,
            "form": form,
            "editable": editable,
            "state": state,
            "revisions": revisions,
            "placeholders": reference.placeholder_rows(context),
            "filters": reference.FILTERS,
            "usage": reference.USAGE,
            "client_url": _link(document),
            "srcdoc": srcdoc(state.html, document.language) if not state.problem else "",
            "state_problem": problem_details(state.problem, document.source),
            "source_problem": source_problem,
            "children": list(document.children.order_by("kind", "sequence")),
            "missing_details": _missing_for_send(document),
            **_validity(document),
        },
    )


def _validity(document: Document) -> dict[str, Any]:
    """The proposal's validity: the date the send form proposes (the current one while it
    lasts, else the studio's default from today) and whether it has passed."""
    if document.kind != Kind.PROPOSAL:
        return {}
    today = services.studio_today()
    current = document.valid_until
    return {
        "today": today,
        "expired": services.is_expired(document, today),
        "valid_until_default": current
        if current and current >= today
        else services.default_valid_until(today),
    }


def _valid_until(request: HttpRequest) -> date | None:
    """The date the manager typed in the send form; None when empty or malformed."""
    value = request.POST.get("valid_until", "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _missing_for_send(document: Document) -> list[str]:
    """What the client's details lack for a contract that is not signed yet."""
    if document.kind != Kind.CONTRACT or document.status == Document.Status.ACCEPTED:
        return []
    return missing_details(document.deal.client)


@login_required_htmx
@require_POST
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Live preview of unsaved source on the document's real data (htmx)."""
    document = _document(pk)
    source = request.POST.get("source", "")
    schedule_text = request.POST.get("schedule")
    if schedule_text is not None:
        try:
            document.payment_schedule = parse_schedule(schedule_text)
        except Exception as error:  # a half-typed schedule: preview with the saved one
            return _preview_fragment(request, problem=sandbox.TemplateProblem(str(error)))
    try:
        html = sandbox.render_source(source, build_context(document))
    except sandbox.TemplateProblem as problem:
        return _preview_fragment(request, problem=problem, source=source)
    return _preview_fragment(request, html=html, language=document.language)


@login_required_htmx
@require_POST
def send(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(pk)
    _require_edit(request, document)
    missing = _missing_for_send(document)
    if missing and request.POST.get("without_details") != "1":
        # A contract without the client's details is weak on paper: the manager decides.
        messages.warning(
            request,
            _(
                "Not sent: the client's details lack %(fields)s. Fill them in on the client's "
                "card, or send anyway and the client will be asked for them on the contract "
                "page."
            )
            % {"fields": ", ".join(missing)},
        )
        return redirect(f"{document.get_absolute_url()}#missing-details")
    try:
        revision = services.send_document(
            document, actor=request.user, valid_until=_valid_until(request)
        )
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except services.DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Version %(number)s sent to %(email)s.")
            % {"number": revision.number, "email": document.deal.contact.email},
        )
    return redirect(safe_next(request, document.get_absolute_url()))


@login_required_htmx
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(pk)
    _require_edit(request, document)
    services.revoke_link(document, actor=request.user)
    messages.success(
        request, _("The link no longer works. Sending the document again makes a new one.")
    )
    return redirect(document.get_absolute_url())


# Versions, certificates, PDFs -----------------------------------------------------------------


def _revision(document: Document, number: int) -> Revision:
    return get_object_or_404(Revision, document=document, number=number)


@login_required_htmx
def revision(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    document = _document(pk)
    frozen = _revision(document, number)
    return render(
        request,
        "documents/revision.html",
        {
            "document": document,
            "revision": frozen,
            "acceptance": Acceptance.objects.filter(revision=frozen).first(),
            "context_pretty": json.dumps(json.loads(frozen.context), ensure_ascii=False, indent=2),
        },
    )


@login_required_htmx
def revision_raw(request: HttpRequest, pk: int, number: int, part: str) -> HttpResponse:
    document = _document(pk)
    return raw_download(_revision(document, number), part)


@login_required_htmx
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF of what the client sees now (the accepted version or the current draft)."""
    document = _document(pk)
    state = page_state(document)
    if state.problem:
        messages.error(request, str(state.problem))
        return redirect(document.get_absolute_url())
    return pdf_download(
        request, document, html=state.html, title=document.title, revision=state.revision
    )


@login_required_htmx
def revision_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    document = _document(pk)
    frozen = _revision(document, number)
    return pdf_download(request, document, html=frozen.html, title=frozen.title, revision=frozen)


@login_required_htmx
def certificate(request: HttpRequest, pk: int, acceptance_pk: int) -> HttpResponse:
    document = _document(pk)
    acceptance = get_object_or_404(
        Acceptance.objects.select_related("revision"), pk=acceptance_pk, document=document
    )
    return render(
        request,
        "documents/certificate_page.html",
        {**certificate_context(acceptance), "manager_view": True},
    )


@login_required_htmx
def certificate_pdf(request: HttpRequest, pk: int, acceptance_pk: int) -> HttpResponse:
    document = _document(pk)
    acceptance = get_object_or_404(
        Acceptance.objects.select_related("revision"), pk=acceptance_pk, document=document
    )
    html, title = certificate_html(acceptance)
    return pdf_download(request, document, html=html, title=title)


# Templates (owner) ----------------------------------------------------------------------------


@owner_required
def template_list(request: HttpRequest) -> HttpResponse:
    defaults.ensure_default_templates()
    return render(
        request,
        "documents/template_list.html",
        {
            "templates": DocumentTemplate.objects.select_related("updated_by").order_by(
                "kind", "language"
            )
        },
    )


@csp_inline_styles
@owner_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(DocumentTemplate, pk=pk)
    initial = {
        "name": template.name,
        "source": template.source,
        "schedule": schedule_to_text(
            template.payment_schedule or default_schedule(template.language)
        ),
    }
    form = TemplateForm(request.POST or None, initial=initial)
    source_problem: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.update_template(
                template,
                actor=request.user,
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                schedule=form.cleaned_data["schedule"],
            )
        except services.TemplateInvalid as error:
            source_problem = problem_details(error.problem, form.cleaned_data["source"])
            form.add_error("source", str(error.problem))
        except services.DocumentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Template saved. New documents use it."))
            return redirect("documents:template_edit", pk=template.pk)
    sample = defaults.sample_context(template.kind, template.language)
    return render(
        request,
        "documents/template_edit.html",
        {
            "template": template,
            "form": form,
            "placeholders": reference.placeholder_rows(sample),
            "filters": reference.FILTERS,
            "usage": reference.USAGE,
            "active": "document_templates",
            "editable": True,
            "source_problem": source_problem,
        },
    )


@owner_required
@require_POST
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(DocumentTemplate, pk=pk)
    sample = defaults.sample_context(template.kind, template.language)
    source = request.POST.get("source", "")
    try:
        html = sandbox.render_source(source, sample)
    except sandbox.TemplateProblem as problem:
        return _preview_fragment(request, problem=problem, source=source)
    return _preview_fragment(request, html=html, language=template.language)


@owner_required
@require_POST
def template_reset(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(DocumentTemplate, pk=pk)
    services.reset_template(template, actor=request.user)
    messages.success(request, _("The shipped text is back."))
    return redirect("documents:template_edit", pk=template.pk)
