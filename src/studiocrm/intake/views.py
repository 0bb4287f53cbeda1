"""Public lead intake pages (the hosted form, the snippet endpoint, the thank-you page) and the
owner's "Lead intake" settings page.

The public endpoints are CSRF-exempt on purpose: they are posted from the studio's own site or
from the hosted form inside an iframe on it, where our CSRF cookie is a third-party cookie the
browser does not send, and they change nothing a forged request could abuse (anyone may send a
lead). Abuse is handled by the honeypot, the per-address rate limit, size limits and the
idempotency key instead.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from studiocrm.core.middleware import csp_exempt
from studiocrm.core.models import Studio
from studiocrm.core.permissions import owner_required
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Source
from studiocrm.intake import guards, services
from studiocrm.intake.forms import HONEYPOT_FIELD, ApiKeyForm, LeadForm
from studiocrm.intake.models import ApiKey, ContactChange

log = logging.getLogger(__name__)

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
NEW_KEY_SESSION = "intake_new_api_key"


@dataclass
class Page:
    """How a public intake response is shaped: language, framing, HTML or JSON."""

    request: HttpRequest
    studio: Studio
    language: str
    embed: bool
    wants_json: bool

    @property
    def query(self) -> str:
        params = {"lang": self.language}
        if self.embed:
            params["embed"] = "1"
        return "?" + urlencode(params)

    def context(self, **extra: object) -> dict[str, object]:
        return {
            "studio": self.studio,
            "embed": self.embed,
            "query": self.query,
            "form_url": reverse("intake:form") + self.query,
            "language_links": language_links(self.embed),
            **extra,
        }


def language_links(embed: bool) -> list[dict[str, str]]:
    links = []
    for code, label in settings.LANGUAGES:
        params = {"lang": code, **({"embed": "1"} if embed else {})}
        with translation.override(code):
            links.append({"code": code, "label": str(label), "query": "?" + urlencode(params)})
    return links


def _page(request: HttpRequest, *, json_allowed: bool = False) -> Page:
    studio = Studio.load()
    codes = {code for code, _label in settings.LANGUAGES}
    requested = request.GET.get("lang", "")
    if requested in codes:
        language = requested
    elif studio.locale in codes:
        language = studio.locale
    else:
        language = settings.LANGUAGE_CODE
    accept = request.headers.get("Accept", "")
    return Page(
        request=request,
        studio=studio,
        language=language,
        embed=request.GET.get("embed") == "1",
        wants_json=json_allowed and "application/json" in accept and "text/html" not in accept,
    )


def new_submission_id() -> str:
    return uuid.UUID(bytes=secrets.token_bytes(16), version=4).hex


def _json(page: Page, payload: dict[str, object], status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    # The studio's site may post with fetch(); the answer holds nothing private.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _problem(page: Page, status: int, title: str, message: str) -> HttpResponse:
    if page.wants_json:
        return _json(page, {"ok": False, "detail": message}, status)
    return render(
        page.request,
        "intake/problem.html",
        page.context(title=title, message=message),
        status=status,
    )


def _render_form(page: Page, form: LeadForm, *, status: int = 200) -> HttpResponse:
    return render(
        page.request,
        "intake/form.html",
        page.context(form=form, honeypot=HONEYPOT_FIELD),
        status=status,
    )


def _accepted(page: Page) -> HttpResponse:
    """The same answer for a new lead, a replay and a honeypot hit: nothing to learn."""
    if page.wants_json:
        return _json(page, {"ok": True}, 200)
    return HttpResponseRedirect(reverse("intake:thanks") + page.query)


def _receive(page: Page) -> HttpResponse:
    """Take one posted lead: limits first, then the honeypot, validation and the service."""
    request = page.request
    wait = guards.throttle_address(request)
    if wait:
        log.info("intake: rate limit reached for %s", guards.address_key("", request))
        response = _problem(
            page,
            429,
            _("Too many requests"),
            _("Too many requests from your address. Please wait a minute and try again."),
        )
        response["Retry-After"] = str(wait)
        return response
    if request.content_type not in FORM_CONTENT_TYPES:
        return _problem(
            page,
            415,
            _("Unsupported form encoding"),
            _("Send the form as application/x-www-form-urlencoded or multipart/form-data."),
        )
    try:
        guards.read_body(request)
        data = request.POST
    except guards.BodyTooLarge:
        return _problem(
            page,
            413,
            _("The request is too large"),
            _("Please shorten your message and send it again."),
        )
    except (guards.BadBody, MultiPartParserError, SuspiciousOperation):
        return _problem(
            page,
            400,
            _("The form could not be read"),
            _("The form data was damaged on the way. Please fill it in again."),
        )
    if data.get(HONEYPOT_FIELD, "").strip():
        log.info("intake: honeypot filled, submission dropped")
        return _accepted(page)
    form = LeadForm(data)
    if form.is_valid():
        lead = form.to_lead()
        try:
            try:
                services.submit_lead(
                    lead,
                    source=Source.WEBSITE,
                    idempotency_key=form.cleaned_data["submission_id"] or None,
                )
            except services.IdempotencyKeyReused:
                # The visitor went back, changed the form and sent it again with the
                # page's old submission id: that is a new lead, not a retry.
                services.submit_lead(lead, source=Source.WEBSITE, idempotency_key=None)
        except services.InvalidLead as error:
            form.add_service_errors(error.errors)
        else:
            return _accepted(page)
    if page.wants_json:
        return _json(
            page,
            {
                "ok": False,
                "detail": _("Please correct the errors below."),
                "errors": {name: list(errors) for name, errors in form.errors.items()},
            },
            400,
        )
    if not form.data.get("submission_id"):
        # Keep the retry idempotent even when the page that posted set no id.
        form.data = form.data.copy()
        form.data["submission_id"] = new_submission_id()
    return _render_form(page, form, status=400)


@csp_exempt
@csrf_exempt
@xframe_options_exempt
@never_cache
def lead_form(request: HttpRequest) -> HttpResponse:
    """The hosted form page; `?embed=1` renders it without chrome for an iframe."""
    page = _page(request)
    with translation.override(page.language):
        if request.method == "POST":
            return _receive(page)
        if request.method not in ("GET", "HEAD"):
            return _problem(page, 405, _("Not allowed"), _("Open the form and send it."))
        return _render_form(page, LeadForm(initial={"submission_id": new_submission_id()}))


@csp_exempt
@csrf_exempt
@never_cache
def submit(request: HttpRequest) -> HttpResponse:
    """Where the embed snippet posts: redirects to the thank-you page, or answers JSON when
    the request asks for JSON (Accept: application/json)."""
    page = _page(request, json_allowed=True)
    with translation.override(page.language):
        if request.method != "POST":
            return redirect(reverse("intake:form") + page.query)
        return _receive(page)


@csp_exempt
@require_safe
@xframe_options_exempt
def thanks(request: HttpRequest) -> HttpResponse:
    page = _page(request)
    with translation.override(page.language):
        return render(request, "intake/thanks.html", page.context())


# --- Owner settings ----------------------------------------------------------------------


def snippet_html(studio: Studio) -> str:
    """The copy-ready HTML form for the studio's site, labelled in the studio's language."""
    with translation.override(studio.locale):
        return render_to_string(
            "intake/snippet.html",
            {
                "action": absolute_url(reverse("intake:submit"))
                + "?"
                + urlencode({"lang": studio.locale}),
                "honeypot": HONEYPOT_FIELD,
                "limits": {
                    "name": services.NAME_MAX,
                    "email": services.EMAIL_MAX,
                    "phone": services.PHONE_MAX,
                    "company": services.COMPANY_MAX,
                    "message": services.MESSAGE_MAX,
                },
            },
        ).strip()


def iframe_html(studio: Studio) -> str:
    with translation.override(studio.locale):
        return render_to_string(
            "intake/iframe.html",
            {"src": absolute_url(reverse("intake:form")) + "?embed=1"},
        ).strip()


def describe_rate(rate: str) -> str:
    """'10/m' as '10 requests a minute'; unusual forms ('10/5m') are shown as they are."""
    count, _slash, period = rate.partition("/")
    if not count.isdigit():
        return rate
    number = int(count)
    units = {
        "s": ngettext("%(count)d request a second", "%(count)d requests a second", number),
        "m": ngettext("%(count)d request a minute", "%(count)d requests a minute", number),
        "h": ngettext("%(count)d request an hour", "%(count)d requests an hour", number),
        "d": ngettext("%(count)d request a day", "%(count)d requests a day", number),
    }
    if period.lower() not in units:
        return rate
    return units[period.lower()] % {"count": number}


@owner_required
@never_cache
def settings_page(request: HttpRequest, *, key_form: ApiKeyForm | None = None) -> HttpResponse:
    studio = Studio.load()
    new_key = request.session.pop(NEW_KEY_SESSION, None)
    keys = ApiKey.objects.select_related("created_by").order_by("-created_at", "-id")
    return render(
        request,
        "intake/settings.html",
        {
            "studio": studio,
            "form_url": absolute_url(reverse("intake:form")),
            "snippet": snippet_html(studio),
            "iframe": iframe_html(studio),
            "api_url": absolute_url("/api/v1/leads"),
            "docs_url": absolute_url("/api/docs"),
            "keys": keys,
            "key_form": key_form or ApiKeyForm(),
            "new_key": new_key,
            "rate": describe_rate(settings.INTAKE_RATE),
            "max_body": settings.INTAKE_MAX_BODY_BYTES,
        },
        status=400 if key_form is not None else 200,
    )


@owner_required
@require_POST
def api_key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return settings_page(request, key_form=form)
    key, secret = services.create_api_key(form.cleaned_data["name"], actor=request.user)
    # Shown once on the next page view, then gone: it is stored nowhere else.
    request.session[NEW_KEY_SESSION] = {"name": key.name, "secret": secret}
    return redirect(reverse("intake:settings") + "#api")


@owner_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    services.revoke_api_key(key, actor=request.user)
    messages.success(request, _("Key “%(name)s” revoked.") % {"name": key.name})
    return redirect(reverse("intake:settings") + "#api")


@require_POST
@login_required
def contact_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or reject a change a lead proposed to an existing contact."""
    change = get_object_or_404(ContactChange.objects.select_related("lead__deal"), pk=pk)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        return HttpResponse(status=400)
    try:
        services.decide_contact_change(change, accept=decision == "accept", actor=request.user)
    except services.ChangeNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    if decision == "accept":
        messages.success(request, _("The contact is changed."))
    else:
        messages.success(request, _("The proposed change is rejected."))
    return redirect(change.lead.deal.get_absolute_url())
