"""The client's brief page: fill in (autosave), attach files, submit, read back.

Every view is reached only through the brief's link token (see portal.pages). Views check
input and call one service from ``briefs.services``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studiocrm.briefs import client_form, services
from studiocrm.briefs import questions as q
from studiocrm.briefs.models import FILE, Brief, BriefFile
from studiocrm.portal.files import UploadRejected, attachment_response
from studiocrm.portal.pages import client_link_page, render_portal

# Request bodies larger than these are refused before Django spools them to disk: one file
# for the upload endpoint, all of a brief's files for the whole-form submit (no JavaScript).
UPLOAD_BODY_LIMIT = services.MAX_FILE_BYTES + 256 * 1024
SUBMIT_BODY_LIMIT = services.MAX_BRIEF_BYTES + 256 * 1024


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(request: HttpRequest, brief: Brief, limit: int) -> HttpResponse:
    message = _("The upload is too large; the limit is %(limit)s MB.") % {
        "limit": limit // (1024 * 1024)
    }
    return render_portal(
        request, "briefs/client/_status.html", {"error": message, "brief": brief}, status=413
    )


def _urls(token: str) -> dict[str, str]:
    return {
        name: reverse(f"briefs_client:brief_{name}", args=[token])
        for name in ("save", "upload", "remove_file", "submit", "thanks")
    } | {"page": reverse("briefs_client:brief", args=[token])}


def _token(request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"]


def _files(brief: Brief) -> list[BriefFile]:
    return list(brief.files.all())


def _page_context(brief: Brief, token: str, **extra: Any) -> dict[str, Any]:
    answered, total = q.progress(brief.questions, brief.answers)
    return {
        "brief": brief,
        "urls": _urls(token),
        "token": token,
        "answered": answered,
        "total": total,
        **extra,
    }


def _render_form(
    request: HttpRequest,
    brief: Brief,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, tuple[Any, str]] | None = None,
    flag_missing: bool = False,
    status: int = 200,
) -> HttpResponse:
    token = _token(request)
    sections = client_form.build(
        brief.questions,
        brief.answers,
        files=_files(brief),
        errors=errors,
        typed=typed,
        flag_missing=flag_missing,
    )
    problems = [
        view
        for section in sections
        for view in section.questions
        if view.visible and (view.error or view.missing)
    ]
    context = _page_context(brief, token, sections=sections, problems=problems)
    return render_portal(request, "briefs/client/page.html", context, status=status)


@require_GET
@client_link_page(Brief, on_first_view=services.record_first_view)
def brief_page(request: HttpRequest, brief: Brief) -> HttpResponse:
    if brief.status == Brief.Status.SUBMITTED:
        sections = client_form.build(brief.questions, brief.answers, files=_files(brief))
        context = _page_context(brief, _token(request), sections=sections)
        return render_portal(request, "briefs/client/submitted.html", context)
    if not brief.is_editable_by_client:
        raise Http404
    return _render_form(request, brief)


def _closed(request: HttpRequest, brief: Brief) -> HttpResponse:
    message = _("This brief has been sent already and cannot be changed. Reload the page.")
    return render_portal(
        request, "briefs/client/_status.html", {"error": message, "brief": brief}, status=409
    )


@require_POST
@client_link_page(Brief, count_views=False)
def brief_save(request: HttpRequest, brief: Brief) -> HttpResponse:
    """Autosave of one question (htmx posts the question's inputs and its key)."""
    key = request.POST.get("key", "")
    question = next((item for item in brief.questions if item["key"] == key), None)
    if question is None or question["type"] == FILE:
        return render_portal(
            request,
            "briefs/client/_status.html",
            {"error": _("Unknown question."), "brief": brief},
            status=422,
        )
    raw, other_text = client_form.raw_from_post(question, request.POST)
    try:
        services.save_answer(brief, key, raw, other_text=other_text)
    except q.AnswerError as error:
        return render_portal(
            request, "briefs/client/_status.html", {"error": str(error), "brief": brief}, status=422
        )
    except services.BriefNotEditable:
        return _closed(request, brief)
    context = _page_context(brief, _token(request), saved=True, oob=True)
    return render_portal(request, "briefs/client/_status.html", context)


def _files_fragment(
    request: HttpRequest, brief: Brief, key: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    question = next(item for item in brief.questions if item["key"] == key)
    brief.refresh_from_db(fields=["answers", "answers_saved_at", "status"])
    view = client_form.build([{**question, "show_if": None}], brief.answers, files=_files(brief))[
        0
    ].questions[0]
    view.error = error
    context = _page_context(brief, _token(request), view=view, oob=not error)
    return render_portal(request, "briefs/client/_files.html", context, status=status)


def _file_question(brief: Brief, key: str) -> dict[str, Any] | None:
    return next(
        (item for item in brief.questions if item["key"] == key and item["type"] == FILE), None
    )


@require_POST
@client_link_page(Brief, count_views=False)
def brief_upload(request: HttpRequest, brief: Brief) -> HttpResponse:
    """Attach one file to a file question (htmx, multipart)."""
    if _declared_length(request) > UPLOAD_BODY_LIMIT:
        # Read nothing: answering before the body is parsed keeps a huge upload off the disk.
        return _too_large(request, brief, services.MAX_FILE_BYTES)
    key = request.POST.get("key", "")
    if _file_question(brief, key) is None:
        raise Http404
    upload = request.FILES.get(client_form.file_input_name(key))
    if upload is None:
        return _files_fragment(request, brief, key, error=_("Choose a file."), status=422)
    try:
        services.attach_file(brief, key, upload)
    except (UploadRejected, q.AnswerError) as error:
        return _files_fragment(request, brief, key, error=str(error), status=422)
    except services.BriefNotEditable:
        return _closed(request, brief)
    return _files_fragment(request, brief, key)


@require_POST
@client_link_page(Brief, count_views=False)
def brief_remove_file(request: HttpRequest, brief: Brief) -> HttpResponse:
    key = request.POST.get("key", "")
    if _file_question(brief, key) is None:
        raise Http404
    try:
        file_id = int(request.POST.get("file", ""))
    except ValueError:
        raise Http404 from None
    try:
        services.remove_file(brief, file_id)
    except services.BriefNotEditable:
        return _closed(request, brief)
    return _files_fragment(request, brief, key)


@require_POST
@client_link_page(Brief, count_views=False)
def brief_submit(request: HttpRequest, brief: Brief) -> HttpResponse:
    """Save whatever the form carries (works without JavaScript too), then submit."""
    token = _token(request)
    if brief.status == Brief.Status.SUBMITTED:
        return redirect("briefs_client:brief_thanks", token=token)
    if _declared_length(request) > SUBMIT_BODY_LIMIT:
        return _too_large(request, brief, services.MAX_BRIEF_BYTES)
    typed: dict[str, tuple[Any, str]] = {}
    errors: dict[str, str] = {}
    try:
        if request.POST.get("full_form") == "1":
            typed = {
                question["key"]: client_form.raw_from_post(question, request.POST)
                for question in brief.questions
                if question["type"] != FILE
            }
            errors = services.save_answers(brief, typed)
            errors.update(_attach_posted_files(request, brief))
        if not errors:
            services.submit_brief(brief)
            return redirect("briefs_client:brief_thanks", token=token)
    except services.BriefAlreadySubmitted:
        return redirect("briefs_client:brief_thanks", token=token)
    except services.BriefNotEditable:
        raise Http404 from None
    except services.MissingAnswers:
        brief.refresh_from_db()
        return _render_form(request, brief, flag_missing=True, status=422)
    brief.refresh_from_db()
    rejected = {key: typed[key] for key in errors if key in typed}
    return _render_form(
        request, brief, errors=errors, typed=rejected, flag_missing=True, status=422
    )


def _attach_posted_files(request: HttpRequest, brief: Brief) -> dict[str, str]:
    errors: dict[str, str] = {}
    for question in brief.questions:
        if question["type"] != FILE:
            continue
        for upload in request.FILES.getlist(client_form.file_input_name(question["key"])):
            try:
                services.attach_file(brief, question["key"], upload)
            except (UploadRejected, q.AnswerError) as error:
                errors[question["key"]] = str(error)
    return errors


@require_GET
@client_link_page(Brief, count_views=False)
def brief_thanks(request: HttpRequest, brief: Brief) -> HttpResponse:
    if brief.status != Brief.Status.SUBMITTED:
        return redirect("briefs_client:brief", token=_token(request))
    manager = brief.deal.manager or brief.sent_by
    context = _page_context(brief, _token(request), manager=manager)
    return render_portal(request, "briefs/client/thanks.html", context)


@require_GET
@client_link_page(Brief, count_views=False)
def brief_file(request: HttpRequest, brief: Brief, file_id: int) -> HttpResponse:
    attachment = BriefFile.objects.filter(brief=brief, pk=file_id).first()
    if attachment is None:
        raise Http404
    return attachment_response(
        attachment.file.name,
        attachment.file.storage,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
