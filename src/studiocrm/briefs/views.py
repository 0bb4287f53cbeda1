"""Manager-side brief pages: send, read answers, PDF, reopen, links; the template editor."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studiocrm.briefs import client_form, services
from studiocrm.briefs import questions as q
from studiocrm.briefs.forms import (
    QuestionForm,
    ReopenForm,
    SectionForm,
    SendBriefForm,
    TemplateForm,
)
from studiocrm.briefs.models import Brief, BriefFile, BriefQuestion, BriefSection, BriefTemplate
from studiocrm.briefs.pdf import render_brief_pdf
from studiocrm.core.http import safe_next
from studiocrm.core.permissions import owner_required
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.portal.files import attachment_response
from studiocrm.portal.links import LinkTokenLost
from studiocrm.portal.pages import render_portal


def _back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(safe_next(request, default))


# ---------------------------------------------------------------- briefs


@login_required
@require_POST
def send(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.select_related("contact", "stage"), pk=deal_pk)
    if not can_edit(request.user, deal):
        messages.error(request, _("Only the responsible manager or an owner can send a brief."))
        return _back(request, deal.get_absolute_url())
    form = SendBriefForm(request.POST, deal=deal, initial_template=None)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, deal.get_absolute_url())
    try:
        brief = services.send_brief(
            deal,
            form.cleaned_data["template"],
            actor=request.user,
            to_email=form.cleaned_data["email"],
        )
    except services.BriefError as error:
        messages.error(request, str(error))
        return _back(request, deal.get_absolute_url())
    messages.success(
        request,
        _("The brief is on its way to %(email)s. A reminder is set for %(days)s days from now.")
        % {"email": brief.sent_to, "days": services.REMINDER_DAYS},
    )
    return redirect(brief)


def _brief_for(request: HttpRequest, pk: int) -> Brief:
    return get_object_or_404(
        Brief.objects.select_related("deal__client", "deal__manager", "deal__stage", "template"),
        pk=pk,
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    brief = _brief_for(request, pk)
    editable = can_edit(request.user, brief.deal)
    sections = client_form.build(
        brief.questions, brief.answers, files=brief.files.all(), flag_missing=True
    )
    answered, total = q.progress(brief.questions, brief.answers)
    link = None
    if editable and brief.status != Brief.Status.DRAFT and brief.link_is_usable:
        try:
            link = services.client_link(brief)
        except LinkTokenLost:
            link = None
    missing = q.missing_required(brief.questions, brief.answers)
    return render(
        request,
        "briefs/detail.html",
        {
            "brief": brief,
            "deal": brief.deal,
            "sections": sections,
            "answered": answered,
            "total": total,
            "missing": missing,
            "can_edit": editable,
            "link": link,
            "reopen_form": ReopenForm(),
        },
    )


@login_required
@require_GET
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    brief = _brief_for(request, pk)
    content = render_brief_pdf(brief)
    response = HttpResponse(content, content_type="application/pdf")
    filename = slugify(f"brief-{brief.pk}-{brief.deal.title}")[:80] or f"brief-{brief.pk}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def file(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    attachment = get_object_or_404(BriefFile, brief_id=pk, pk=file_id)
    return attachment_response(
        attachment.file.name,
        attachment.file.storage,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    brief = _brief_for(request, pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tell the client what to add or change."))
        return _back(request, brief.get_absolute_url())
    try:
        services.reopen_brief(brief, form.cleaned_data["comment"], actor=request.user)
    except services.BriefError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The brief is open again; the client got your comment."))
    return _back(request, brief.get_absolute_url())


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    brief = _brief_for(request, pk)
    new_link = request.POST.get("new_link") == "1"
    try:
        services.resend_link(brief, actor=request.user, new_link=new_link)
    except services.BriefError as error:
        messages.error(request, str(error))
    else:
        message = (
            _("A new link was emailed to %(email)s; the old one no longer works.")
            if new_link
            else _("The link was emailed to %(email)s again.")
        )
        messages.success(request, message % {"email": brief.sent_to})
    return redirect(brief)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    brief = _brief_for(request, pk)
    try:
        services.revoke_brief_link(brief, actor=request.user)
    except services.BriefError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The client's link no longer works."))
    return redirect(brief)


# ---------------------------------------------------------------- templates (owner)


@owner_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    templates = BriefTemplate.objects.order_by("language", "name").prefetch_related("questions")
    return render(request, "briefs/template_list.html", {"templates": templates})


@owner_required
def template_create(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        template = services.create_template(
            name=form.cleaned_data["name"],
            language=form.cleaned_data["language"],
            intro=form.cleaned_data["intro"],
            sources=form.cleaned_data["sources"],
            actor=request.user,
        )
        messages.success(request, _("Template created. Now add the questions."))
        return redirect(template)
    return render(request, "briefs/template_form.html", {"form": form})


def _structure(template: BriefTemplate) -> list[tuple[BriefSection, list[BriefQuestion]]]:
    questions = list(template.questions.all().order_by("position", "pk"))
    return [
        (section, [item for item in questions if item.section_id == section.pk])
        for section in template.sections.all()
    ]


@owner_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    form = TemplateForm(request.POST or None, instance=BriefTemplate.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        services.update_template(
            template,
            actor=request.user,
            **{name: form.cleaned_data[name] for name in TemplateForm.Meta.fields},
        )
        messages.success(request, _("Template saved."))
        return redirect(template)
    return render(
        request,
        "briefs/template_edit.html",
        {
            "template": template,
            "form": form,
            "structure": _structure(template),
            "section_form": SectionForm(),
            "sent_count": template.briefs.count(),
        },
    )


@owner_required
@require_POST
def template_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    copy = services.duplicate_template(template, actor=request.user)
    messages.success(request, _("Copy created."))
    return redirect(copy)


@owner_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    services.delete_template(template, actor=request.user)
    messages.success(request, _("Template deleted. Briefs already sent keep their questions."))
    return redirect("briefs:templates")


@owner_required
@require_GET
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The template exactly as the client page shows it, without saving anything."""
    template = get_object_or_404(BriefTemplate, pk=pk)
    questions = services.snapshot_questions(template)
    brief = Brief(title=template.name, intro=template.intro, language=template.language)
    brief.questions = questions
    context = {
        "brief": brief,
        "sections": client_form.build(questions, {}),
        "answered": 0,
        "total": len(q.visible_keys(questions, {})),
        "preview": True,
    }
    with translation.override(template.language):
        response = render_portal(request, "briefs/client/page.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _template_error(request: HttpRequest, error: services.BriefError) -> None:
    messages.error(request, str(error))


@owner_required
def question_create(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    initial = {}
    section_id = request.GET.get("section")
    if section_id and section_id.isdigit():
        initial["section"] = int(section_id)
    form = QuestionForm(request.POST or None, template=template, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_question(template, form.cleaned_data, actor=request.user, question=None)
        except services.TemplateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Question added."))
            return redirect(template)
    return render(
        request, "briefs/question_form.html", {"template": template, "form": form, "question": None}
    )


@owner_required
def question_edit(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    question = get_object_or_404(BriefQuestion, template=template, pk=question_pk)
    form = QuestionForm(request.POST or None, template=template, question=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_question(
                template, form.cleaned_data, actor=request.user, question=question
            )
        except services.TemplateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Question saved."))
            return redirect(template)
    return render(
        request,
        "briefs/question_form.html",
        {"template": template, "form": form, "question": question},
    )


@owner_required
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    question = get_object_or_404(BriefQuestion, template=template, pk=question_pk)
    try:
        services.delete_question(question, actor=request.user)
    except services.TemplateError as error:
        _template_error(request, error)
    else:
        messages.success(request, _("Question removed."))
    return redirect(template)


@owner_required
@require_POST
def question_move(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    """Up/down buttons: the keyboard-friendly twin of drag and drop."""
    template = get_object_or_404(BriefTemplate, pk=pk)
    question = get_object_or_404(BriefQuestion, template=template, pk=question_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    order = [
        (item.pk, item.section_id) for _section, items in _structure(template) for item in items
    ]
    index = next(i for i, (item_pk, _s) in enumerate(order) if item_pk == question.pk)
    target = index + offset
    if 0 <= target < len(order) and order[target][1] == question.section_id:
        order[index], order[target] = order[target], order[index]
        try:
            services.reorder_questions(template, order, actor=request.user)
        except services.TemplateError as error:
            _template_error(request, error)
    return redirect(f"{template.get_absolute_url()}#question-{question.pk}")


@owner_required
@require_POST
def questions_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Drag and drop (SortableJS) posts the new order as JSON: [[question, section], ...]."""
    template = get_object_or_404(BriefTemplate, pk=pk)
    try:
        order = [(int(item[0]), int(item[1])) for item in json.loads(request.POST["order"])]
    except (KeyError, ValueError, TypeError, IndexError):
        return HttpResponseBadRequest(_("Bad order."))
    try:
        services.reorder_questions(template, order, actor=request.user)
    except services.TemplateError as error:
        return HttpResponse(str(error), status=409)
    return HttpResponse(_("Order saved."))


@owner_required
@require_POST
def section_add(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(BriefTemplate, pk=pk)
    form = SectionForm(request.POST)
    if form.is_valid():
        services.add_section(template, form.cleaned_data["title"], actor=request.user)
    else:
        messages.error(request, _("A section needs a title."))
    return redirect(template)


def _section(pk: int, section_pk: int) -> BriefSection:
    section = get_object_or_404(BriefSection.objects.select_related("template"), pk=section_pk)
    if section.template_id != pk:
        raise Http404
    return section


@owner_required
@require_POST
def section_rename(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    section = _section(pk, section_pk)
    form = SectionForm(request.POST)
    if form.is_valid():
        services.rename_section(section, form.cleaned_data["title"], actor=request.user)
    else:
        messages.error(request, _("A section needs a title."))
    return redirect(section.template)


@owner_required
@require_POST
def section_delete(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    section = _section(pk, section_pk)
    try:
        services.delete_section(section, actor=request.user)
    except services.TemplateError as error:
        _template_error(request, error)
    else:
        messages.success(request, _("Section removed with its questions."))
    return redirect(section.template)


@owner_required
@require_POST
def section_move(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    section = _section(pk, section_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.move_section(section, offset, actor=request.user)
    except services.TemplateError as error:
        _template_error(request, error)
    return redirect(section.template)
