"""The client's pages of a document, reached only through its link token.

Every view goes through ``portal.pages.client_link_page``: wrong, revoked or expired tokens
get the one 404 (rate limited per IP), pages carry no-referrer / noindex / no-store headers,
and the first view notifies the manager (the page counts visits itself, see
``_count_visit``). The portal marks its pages csrf_exempt (the token
is the secret); accepting and asking re-add the CSRF token check inside it (see ``csrf``),
because a signature must come from a form the client submitted on this page.

A token opens its own document and the files made from it, nothing else: every lookup below
starts from the document the token resolved to.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited

from studiocrm.clients import services as client_services
from studiocrm.clients.forms import ClientDetailsForm
from studiocrm.core.http import client_ip
from studiocrm.documents import csrf, estimate_data, page_cache, services
from studiocrm.documents.csrf import no_referrer_csrf_protect
from studiocrm.documents.forms import AcceptForm, QuestionForm
from studiocrm.documents.models import Acceptance, Document, Kind, Revision
from studiocrm.documents.presenting import (
    PageState,
    certificate_context,
    certificate_html,
    client_page_queryset,
    find_for_page,
    page_stamps,
    page_state,
    pdf_download,
    picker_data,
    raw_download,
    state_key,
    studio_values,
)
from studiocrm.documents.rendering import sha256_text
from studiocrm.portal.links import record_view
from studiocrm.portal.pages import client_link_page, render_portal

QUESTION_RATE = "10/h"
VISIT_SECONDS = 600
PAGE_CACHE_VERSION = "2"
PAGE_CACHE_SECONDS = 3600
# Rendered into a cached page instead of a real token; swapped for one on every response.
CSRF_PLACEHOLDER = "csrf-placeholder-9d1c7f0e"
ACCEPT_RATE = "30/h"

# Studio templates may style with inline style attributes; scripts stay our own origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _queryset() -> Any:
    return client_page_queryset()


def _count_visit(request: HttpRequest, document: Document) -> None:
    """Count a visit, not every reload: one view per browser and address per VISIT_SECONDS
    (a client pressing F5 while reading is one view). The first view ever notifies the
    manager. A signed-in studio user opening the link is not the client and is not counted.
    """
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return
    visitor = sha256_text(f"{client_ip(request)}|{request.META.get('HTTP_USER_AGENT', '')}")
    marker = f"documents:visit:{document.pk}:{document.token_hash[:16]}:{visitor[:24]}"
    if not page_cache.add_once(marker, VISIT_SECONDS):
        return
    first = record_view(document)
    services.mark_viewed(document)
    if first:
        services.record_first_view(document)


def _token(request: HttpRequest) -> str:
    return str(request.resolver_match.kwargs["token"]) if request.resolver_match else ""


def _meta(request: HttpRequest) -> services.RequestMeta:
    return services.RequestMeta(
        ip=client_ip(request) or None, user_agent=request.META.get("HTTP_USER_AGENT", "")[:500]
    )


def _selection_from(request_data: Any) -> dict[str, Any] | None:
    option = request_data.get("option")
    if option is None:
        return None
    return {"option": option, "optional": request_data.getlist("optional")}


def _picker(document: Document, selection: dict[str, Any] | None) -> dict[str, Any] | None:
    """The proposal picker for a selection, priced on the server from the current estimate."""
    if document.kind != Kind.PROPOSAL:
        return None
    return picker_data(estimate_data.DealEstimate(document.deal, document.language), selection)


def _render_page(
    request: HttpRequest,
    document: Document,
    *,
    state: PageState | None = None,
    accept_form: AcceptForm | None = None,
    question_form: QuestionForm | None = None,
    selection: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
    children: list[dict[str, Any]] | None = None,
    csrf_token: str | None = None,
    details_form: ClientDetailsForm | None = None,
) -> HttpResponse:
    state = state or page_state(document)
    together = _together(document)
    if state.problem is not None:
        # A broken template must not show the client a traceback or half a document.
        status = 503
    token = _token(request)
    extra = {"csrf_token": csrf_token} if csrf_token is not None else {}
    response = render_portal(
        request,
        "documents/client/page.html",
        {
            "document": document,
            "state": state,
            "token": token,
            "picker": (state.picker if selection is None else _picker(document, selection))
            if state.needs_acceptance
            else None,
            "accept_form": accept_form
            or AcceptForm(initial={"fingerprint": state.fingerprint, **_known_signer(document)}),
            "question_form": question_form or QuestionForm(initial=_known_signer(document)),
            "consent_text": services.consent_text(
                document.language, document.kind, together=bool(together)
            ),
            "accept_button": services.accept_button_label(
                document.kind, document.language, together=bool(together)
            ),
            "together": together,
            "consent_version": services.CONSENT_VERSION,
            "error": error,
            "done": request.GET.get("done", ""),
            "children": _children(document) if children is None else children,
            "details_form": details_form or _details_form(document),
            "missing_details": _missing_details(document),
            "expired": services.is_expired(document),
            **extra,
        },
        status=status,
    )
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _known_signer(document: Document) -> dict[str, str]:
    """Who the client is, so they do not type it again: the name and email they signed with
    last on this deal (the proposal, the contract), else the deal's contact person."""
    last = (
        Acceptance.objects.filter(document__deal_id=document.deal_id)
        .order_by("-accepted_at", "-pk")
        .values("signer_name", "signer_email")
        .first()
    )
    if last:
        return {"name": last["signer_name"], "email": last["signer_email"]}
    contact = document.deal.contact
    if contact is None:
        return {}
    return {"name": contact.name, "email": contact.email}


def _asks_for_details(document: Document) -> bool:
    """A contract waiting for the signature asks the client for their legal details."""
    return document.kind == Kind.CONTRACT and document.needs_acceptance


def _details_form(document: Document, data: Any = None) -> ClientDetailsForm | None:
    if not _asks_for_details(document):
        return None
    return ClientDetailsForm(data, instance=document.deal.client, russian=document.language == "ru")


def _missing_details(document: Document) -> list[str]:
    if not _asks_for_details(document):
        return []
    with translation.override(document.language):
        return client_services.missing_details(document.deal.client)


def _children(document: Document) -> list[dict[str, Any]]:
    """The parts a contract is signed in (the contract and its sent appendices), each with its
    link and state, for the "what is still to sign" list of a contract's or appendix's page."""
    if document.kind not in (Kind.CONTRACT, Kind.APPENDIX):
        return []
    contract = document if document.kind == Kind.CONTRACT else document.parent
    if contract is None:
        return []
    parts = [contract] + list(
        contract.children.filter(kind=Kind.APPENDIX)
        .exclude(status=Document.Status.DRAFT)
        .order_by("sequence", "pk")
    )
    return [
        {
            "id": part.pk,
            "title": part.title,
            "url": reverse("documents_client:page", args=[part.link_token()]),
            "status": part.status,
            "current": part.pk == document.pk,
            "updated": part.updated_at.isoformat(),
        }
        for part in parts
        if part.status != Document.Status.DRAFT
    ]


def _together(document: Document) -> list[dict[str, Any]]:
    """The appendices the client may sign together with this contract, with the fingerprint
    of the version each page shows now."""
    if document.kind != Kind.CONTRACT or not document.needs_acceptance:
        return []
    rows = []
    for appendix in services.appendices_to_sign_with(document):
        state = page_state(appendix)
        if state.problem is None and state.fingerprint:
            rows.append(
                {
                    "id": appendix.pk,
                    "title": appendix.title,
                    "url": reverse("documents_client:page", args=[appendix.link_token()]),
                    "fingerprint": state.fingerprint,
                }
            )
    return rows


def _together_from(data: Any) -> dict[int, str]:
    """{appendix id: fingerprint} from the accept form's "together" fields ("id:fingerprint")."""
    parts: dict[int, str] = {}
    for value in data.getlist("together")[:20]:
        identifier, _sep, fingerprint = str(value).partition(":")
        if identifier.isdigit() and len(fingerprint) == 64:
            parts[int(identifier)] = fingerprint
    return parts


def _open(document: Document) -> None:
    if document.status == Document.Status.DRAFT:
        raise Http404


@require_GET
@client_link_page(Document, count_views=False, lookup=find_for_page)
def page(request: HttpRequest, document: Document) -> HttpResponse:
    _open(document)
    _count_visit(request, document)
    if request.GET:  # a selection without JavaScript, or a message after a form
        return _render_page(request, document, selection=_selection_from(request.GET))
    # The plain page is the same for every reload until something it shows changes, so its
    # HTML is cached under a key of all it depends on, with a placeholder where this
    # request's CSRF token goes (every response still gets a fresh masked token).
    studio = getattr(request, "studio", None)
    children = _children(document)
    key = _page_key(document, studio, children)
    parts = page_cache.get_parts(key, PAGE_CACHE_SECONDS, CSRF_PLACEHOLDER)
    if parts is None:
        stamps = getattr(document, "page_stamps", None) or page_stamps(document)
        state = page_state(document, studio=studio, stamps=stamps)
        response = _render_page(
            request, document, state=state, children=children, csrf_token=CSRF_PLACEHOLDER
        )
        if response.status_code != 200 or state.problem is not None:
            return _with_csrf(request, response)
        parts = page_cache.set_parts(
            key, response.content.decode(), PAGE_CACHE_SECONDS, CSRF_PLACEHOLDER
        )
    body = parts[0] if len(parts) == 1 else csrf.get_token(request).encode().join(parts)
    response = HttpResponse(body)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _page_key(document: Document, studio: Any, children: list[dict[str, Any]]) -> str:
    """The cache key of the plain page: a hash of everything it shows.

    Computed from the document, its stamps and the studio; a process remembers the key it
    computed for the same raw inputs (the row ``find_for_page`` read, the studio's fields,
    the language, whether it has expired, the contract's parts), so a reload of an unchanged
    page does not hash them again. Any change to any of them is a different entry."""
    expired = services.is_expired(document)
    language = translation.get_language()
    row = getattr(document, "page_row", None)
    inputs = None
    if row is not None and studio is not None:
        inputs = (row, studio_values(studio), language, expired, repr(children))
        known = page_cache.known_key(inputs)
        if known is not None:
            return known
    stamps = getattr(document, "page_stamps", None) or page_stamps(document)
    key = "documents:page:" + sha256_text(
        repr(
            (
                PAGE_CACHE_VERSION,
                state_key(document, stamps, studio),
                document.token_hash,
                document.status,
                document.title,
                children,
                language,
                studio and _studio_branding(studio),
                # What _known_signer reads, without its queries: the deal's latest
                # acceptance, and the contact's fields (in the stamps' related columns).
                stamps.deal_acceptance_id,
                document.valid_until,
                expired,
            )
        )
    )
    if inputs is not None:
        page_cache.remember_key(inputs, key, PAGE_CACHE_SECONDS)
    return key


def _studio_branding(studio: Any) -> tuple[Any, ...]:
    """What the page frame shows of the studio, and the time zone its dates are in."""
    return (studio.name, str(studio.logo), studio.email, studio.phone, studio.time_zone)


def _with_csrf(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Put this request's masked CSRF token where the placeholder is."""
    if CSRF_PLACEHOLDER.encode() in response.content:
        response.content = response.content.replace(
            CSRF_PLACEHOLDER.encode(), csrf.get_token(request).encode()
        )
    return response


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def choose(request: HttpRequest, document: Document) -> HttpResponse:
    """The picker with totals for the chosen option and optional lines (htmx). Read-only:
    the totals are computed here from the current estimate, whatever the client sends."""
    _open(document)
    picker = _picker(document, _selection_from(request.GET))
    if picker is None:
        raise Http404
    response = render_portal(
        request,
        "documents/client/_picker.html",
        {"picker": picker, "document": document, "token": _token(request)},
    )
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@require_POST
@client_link_page(Document, count_views=False, queryset=_queryset)
@no_referrer_csrf_protect  # inside the portal wrapper, which marks itself csrf_exempt
def accept(request: HttpRequest, document: Document) -> HttpResponse:
    _open(document)
    if is_ratelimited(
        request, group="documents-accept", key="ip", rate=ACCEPT_RATE, increment=True
    ):
        return _render_page(
            request, document, error=_("Too many attempts. Please wait a few minutes."), status=429
        )
    form = AcceptForm(request.POST)
    selection = _selection_from(request.POST)
    if not form.is_valid():
        return _render_page(request, document, accept_form=form, selection=selection, status=422)
    signer = services.Signer(name=form.cleaned_data["name"], email=form.cleaned_data["email"])
    together = _together_from(request.POST) if document.kind == Kind.CONTRACT else {}
    try:
        if together:
            services.accept_together(
                document,
                fingerprints={document.pk: form.cleaned_data["fingerprint"], **together},
                signer=signer,
                request_meta=_meta(request),
            )
        else:
            services.accept_document(
                document,
                fingerprint=form.cleaned_data["fingerprint"],
                signer=signer,
                request_meta=_meta(request),
                selection=selection,
            )
    except services.StaleRevision as error:
        document.refresh_from_db()
        fresh = page_state(document)
        form = AcceptForm(
            initial={
                "fingerprint": fresh.fingerprint,
                "name": form.cleaned_data["name"],
                "email": form.cleaned_data["email"],
            }
        )
        return _render_page(
            request,
            document,
            state=fresh,
            accept_form=form,
            selection=selection,
            error=str(error),
            status=409,
        )
    except services.AlreadyAccepted:
        return redirect(f"{reverse('documents_client:page', args=[_token(request)])}?done=already")
    except services.DocumentError as error:
        return _render_page(request, document, selection=selection, error=str(error), status=409)
    return redirect(f"{reverse('documents_client:page', args=[_token(request)])}?done=accepted")


@require_POST
@client_link_page(Document, count_views=False, queryset=_queryset)
@no_referrer_csrf_protect
def ask(request: HttpRequest, document: Document) -> HttpResponse:
    _open(document)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        return _render_page(request, document, question_form=form, status=422)
    if is_ratelimited(
        request, group="documents-question", key="ip", rate=QUESTION_RATE, increment=True
    ):
        return _render_page(
            request,
            document,
            question_form=form,
            error=_(
                "You have sent many questions in a short time. Please wait a while or call us."
            ),
            status=429,
        )
    try:
        services.ask_question(
            document,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            text=form.cleaned_data["text"],
            request_meta=_meta(request),
        )
    except services.DocumentError as error:
        return _render_page(request, document, question_form=form, error=str(error), status=422)
    return redirect(
        f"{reverse('documents_client:page', args=[_token(request)])}?done=asked#question"
    )


@require_POST
@client_link_page(Document, count_views=False, queryset=_queryset)
@no_referrer_csrf_protect
def renew(request: HttpRequest, document: Document) -> HttpResponse:
    """The client of an expired proposal asks the studio for a new one (one request until
    the studio sends it again, however often the button is pressed)."""
    _open(document)
    if is_ratelimited(
        request, group="documents-question", key="ip", rate=QUESTION_RATE, increment=True
    ):
        return _render_page(
            request, document, error=_("Too many attempts. Please wait a few minutes."), status=429
        )
    try:
        services.request_new_proposal(document, request_meta=_meta(request))
    except services.DocumentError as error:
        return _render_page(request, document, error=str(error), status=409)
    return redirect(f"{reverse('documents_client:page', args=[_token(request)])}?done=renewal")


@require_POST
@client_link_page(Document, count_views=False, queryset=_queryset)
@no_referrer_csrf_protect
def details(request: HttpRequest, document: Document) -> HttpResponse:
    """The client fills in or corrects their legal details for the contract."""
    _open(document)
    if not _asks_for_details(document):
        raise Http404
    if is_ratelimited(
        request, group="documents-details", key="ip", rate=ACCEPT_RATE, increment=True
    ):
        return _render_page(
            request, document, error=_("Too many attempts. Please wait a few minutes."), status=429
        )
    form = _details_form(document, request.POST)
    assert form is not None
    if not form.is_valid():
        return _render_page(request, document, details_form=form, status=422)
    client_services.save_details_from_client(
        document.deal.client,
        form,
        document_id=document.pk,
        ip=client_ip(request) or None,
    )
    return redirect(
        f"{reverse('documents_client:page', args=[_token(request)])}?done=details#details"
    )


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def pdf(request: HttpRequest, document: Document) -> HttpResponse:
    _open(document)
    state = page_state(document)
    if state.problem is not None:
        raise Http404
    return pdf_download(
        request, document, html=state.html, title=document.title, revision=state.revision
    )


def _revision(document: Document, number: int) -> Revision:
    return get_object_or_404(Revision, document=document, number=number)


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def revision(request: HttpRequest, document: Document, number: int) -> HttpResponse:
    """A version the client accepted (only accepted versions are shown to the client)."""
    _open(document)
    frozen = _revision(document, number)
    acceptance = Acceptance.objects.filter(revision=frozen).first()
    if acceptance is None:
        raise Http404
    response = render_portal(
        request,
        "documents/client/revision.html",
        {
            "document": document,
            "revision": frozen,
            "acceptance": acceptance,
            "token": _token(request),
        },
    )
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def revision_pdf(request: HttpRequest, document: Document, number: int) -> HttpResponse:
    _open(document)
    frozen = _revision(document, number)
    if not Acceptance.objects.filter(revision=frozen).exists():
        raise Http404
    return pdf_download(request, document, html=frozen.html, title=frozen.title, revision=frozen)


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def revision_raw(request: HttpRequest, document: Document, number: int, part: str) -> HttpResponse:
    _open(document)
    frozen = _revision(document, number)
    if not Acceptance.objects.filter(revision=frozen).exists():
        raise Http404
    return raw_download(frozen, part)


def _acceptance(document: Document, acceptance_pk: int | None) -> Acceptance:
    queryset = Acceptance.objects.select_related("revision", "document").filter(document=document)
    if acceptance_pk is None:
        found = queryset.order_by("-accepted_at", "-pk").first()
        if found is None:
            raise Http404
        return found
    return get_object_or_404(queryset, pk=acceptance_pk)


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def certificate(
    request: HttpRequest, document: Document, acceptance_pk: int | None = None
) -> HttpResponse:
    acceptance = _acceptance(document, acceptance_pk)
    response = render_portal(
        request,
        "documents/client/certificate.html",
        {**certificate_context(acceptance), "token": _token(request)},
    )
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@require_GET
@client_link_page(Document, count_views=False, queryset=_queryset)
def certificate_pdf(request: HttpRequest, document: Document, acceptance_pk: int) -> HttpResponse:
    acceptance = _acceptance(document, acceptance_pk)
    html, title = certificate_html(acceptance)
    return pdf_download(request, document, html=html, title=title)
