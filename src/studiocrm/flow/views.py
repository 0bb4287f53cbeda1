"""Owner pages: the studio's letters and rules; the deal's automation pause; the logo that
letters show."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from studiocrm.core.http import safe_next
from studiocrm.core.models import Studio
from studiocrm.core.permissions import owner_required
from studiocrm.deals.models import Deal, Event
from studiocrm.deals.services import NotAllowed
from studiocrm.documents.sandbox import TemplateProblem
from studiocrm.flow import checklist as checklists
from studiocrm.flow import services, status
from studiocrm.flow.catalog import BY_KEY, CLIENT_LETTERS, LETTERS
from studiocrm.flow.forms import ChannelsForm, ChecklistForm, LetterForm, RuleForm
from studiocrm.flow.letters import render as render_letter
from studiocrm.flow.models import ManagerChannels, MessageTemplate, Notification, Rule, Timer
from studiocrm.flow.rules import CONDITIONS
from studiocrm.flow.sample import context_for

LANGUAGES = ("ru", "en")

# What a client does that shows a letter or reminder worked.
CLIENT_ANSWERS = (
    "brief.submitted",
    "proposal.accepted",
    "document.signed",
    "document.question",
    "payment.received",
)


@owner_required
def letters(request: HttpRequest) -> HttpResponse:
    edited = set(MessageTemplate.objects.exclude(updated_by=None).values_list("key", "language"))
    rows = [
        {
            "letter": letter,
            "languages": [(language, (letter.key, language) in edited) for language in LANGUAGES],
        }
        for letter in LETTERS
    ]
    return render(
        request,
        "flow/letters.html",
        {
            "client_rows": [row for row in rows if not row["letter"].to_manager],
            "manager_rows": [row for row in rows if row["letter"].to_manager],
            "active": "letters",
        },
    )


def _letter_or_404(key: str, language: str) -> None:
    if key not in BY_KEY or language not in LANGUAGES:
        raise Http404


def _preview_deal(request: HttpRequest) -> Deal | None:
    deal_id = request.POST.get("deal") or request.GET.get("deal")
    if deal_id and str(deal_id).isdigit():
        return Deal.objects.filter(pk=deal_id).first()
    return None


@owner_required
def letter(request: HttpRequest, key: str, language: str) -> HttpResponse:
    _letter_or_404(key, language)
    stored = MessageTemplate.objects.filter(key=key, language=language).first()
    if stored is None:
        subject, body = BY_KEY[key].default(language)
        stored = MessageTemplate(key=key, language=language, subject=subject, body_html=body)
    form = LetterForm(request.POST or None, instance=stored, key=key, language=language)
    if request.method == "POST" and form.is_valid():
        subject, body_html, body_text = form.source()
        if "send_test" in request.POST:
            if services.send_test_letter(
                key,
                language,
                deal=_preview_deal(request),
                actor=request.user,
                source=form.source(),
            ):
                messages.success(
                    request,
                    _("A test letter is on its way to %(email)s.") % {"email": request.user.email},
                )
            else:
                messages.error(request, _("Your profile has no email address."))
            return redirect("flow:letter", key, language)
        services.save_letter(
            key,
            language,
            subject=subject,
            body_html=body_html,
            body_text=body_text,
            actor=request.user,
        )
        messages.success(request, _("Letter saved."))
        return redirect("flow:letter", key, language)
    deals = Deal.objects.order_by("-pk")[:30]
    return render(
        request,
        "flow/letter.html",
        {
            "form": form,
            "letter": BY_KEY[key],
            "language": language,
            "deals": deals,
            "active": "letters",
            "preview": _preview(key, language, form.data if form.is_bound else None, stored, None),
        },
    )


def _preview(
    key: str, language: str, data: object, stored: MessageTemplate, deal: Deal | None
) -> dict[str, str]:
    if data is not None:
        source = (data.get("subject", ""), data.get("body_html", ""), data.get("body_text", ""))
    else:
        source = (stored.subject, stored.body_html, stored.body_text)
    context, _deal = context_for(key, language, deal)
    try:
        rendered = render_letter(key, language, context, source=source)
    except TemplateProblem as problem:
        return {"error": str(problem)}
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}


@owner_required
@require_POST
def letter_preview(request: HttpRequest, key: str, language: str) -> HttpResponse:
    """The live preview (htmx, on every pause in typing) on the deal the owner picked."""
    _letter_or_404(key, language)
    stored = MessageTemplate(key=key, language=language)
    preview = _preview(key, language, request.POST, stored, _preview_deal(request))
    return render(request, "flow/partials/preview.html", {"preview": preview})


@owner_required
@require_POST
def letter_restore(request: HttpRequest, key: str, language: str) -> HttpResponse:
    _letter_or_404(key, language)
    services.restore_letter(key, language, actor=request.user)
    messages.success(request, _("The standard wording is back."))
    return redirect("flow:letter", key, language)


@owner_required
def checklist_defaults(request: HttpRequest) -> HttpResponse:
    """The kickoff checklist a new client gets, in Russian and English."""
    initial = {language: "\n".join(checklists.default_items(language)) for language in LANGUAGES}
    form = ChecklistForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        for language in LANGUAGES:
            checklists.save_defaults(language, form.lines(language), actor=request.user)
        messages.success(request, _("Checklist saved. New clients get it from now on."))
        return redirect("flow:checklist")
    return render(request, "flow/checklist.html", {"form": form, "active": "letters"})


@owner_required
def rules(request: HttpRequest) -> HttpResponse:
    answered = Event.objects.filter(
        deal=OuterRef("deal"), name__in=CLIENT_ANSWERS, at__gt=OuterRef("fired_at")
    )
    done = Timer.objects.filter(status=Timer.Status.DONE).annotate(answered=Exists(answered))
    answered_counts = dict(
        done.filter(answered=True).values_list("rule").annotate(count=Count("pk"))
    )
    rows = Rule.objects.annotate(
        fired=Count("timers", filter=Q(timers__status=Timer.Status.DONE)),
        skipped=Count("timers", filter=Q(timers__status=Timer.Status.SKIPPED)),
        failed=Count("timers", filter=Q(timers__status=Timer.Status.FAILED)),
        waiting=Count("timers", filter=Q(timers__status=Timer.Status.PENDING)),
    ).order_by("order", "pk")  # Meta.ordering does not apply to an aggregating query
    conditions = {code: label for code, (label, _check) in CONDITIONS.items()}
    letter_titles = {letter.key: letter.title for letter in CLIENT_LETTERS}
    return render(
        request,
        "flow/rules.html",
        {
            "rules": [
                {
                    "rule": rule,
                    "answered": answered_counts.get(rule.pk, 0),
                    "condition": conditions.get(rule.condition, rule.condition),
                    "letter": letter_titles.get(rule.template_key, ""),
                }
                for rule in rows
            ],
            "active": "rules",
        },
    )


@owner_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk) if pk else Rule(code="", unit=Rule.Unit.BUSINESS_DAYS)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        if not rule.code:
            rule.code = f"custom-{uuid.uuid4().hex[:12]}"
        services.save_rule(rule, actor=request.user)
        messages.success(request, _("Rule saved."))
        return redirect("flow:rules")
    return render(request, "flow/rule_edit.html", {"form": form, "rule": rule, "active": "rules"})


@owner_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    services.set_rule_enabled(rule, not rule.enabled, actor=request.user)
    return redirect("flow:rules")


@require_POST
def deal_pause(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    deal = get_object_or_404(Deal, pk=pk)
    try:
        services.set_paused(deal, request.POST.get("paused") == "1", actor=request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    return redirect(safe_next(request, deal.get_absolute_url()))


@require_POST
def status_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The manager's "send a status update" with a short note (deal page)."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    deal = get_object_or_404(Deal, pk=pk)
    note = request.POST.get("note", "")
    if len(note) > status.NOTE_MAX_LENGTH:
        messages.error(request, _("The note is too long: keep it under 1000 characters."))
        return redirect(safe_next(request, deal.get_absolute_url()))
    try:
        sent = status.send_status_update(
            deal, note=note, actor=request.user, key=request.POST.get("key", "") or uuid.uuid4().hex
        )
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except status.NoClientAddress:
        messages.error(request, _("The deal's contact has no email address. Add one first."))
    else:
        if sent:
            messages.success(request, _("The status update is on its way to the client."))
    return redirect(safe_next(request, deal.get_absolute_url()))


def logo(request: HttpRequest, name: str) -> HttpResponse:
    """The studio's logo for letters (mail clients load it by URL; it is public anyway)."""
    studio = Studio.load()
    if not studio.logo or studio.logo.name.rsplit("/", 1)[-1] != name:
        raise Http404
    response = FileResponse(studio.logo.open("rb"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- Manager side ----------------------------------------------------------------------


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, polled by htmx every 30 s on every page (one indexed count)."""
    unread = Notification.objects.filter(user=request.user, read_at=None).count()
    return render(request, "flow/partials/bell.html", {"unread": unread})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = list(Notification.objects.filter(user=request.user).select_related("deal")[:100])
    if request.method == "POST":
        Notification.objects.filter(user=request.user, read_at=None).update(read_at=timezone.now())
        return redirect("flow:notifications")
    return render(request, "flow/notifications.html", {"items": items})


@login_required
def my_channels(request: HttpRequest) -> HttpResponse:
    channels, _created = ManagerChannels.objects.get_or_create(user=request.user)
    form = ChannelsForm(request.POST or None, instance=channels)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Notification settings saved."))
        return redirect("flow:my_channels")
    return render(request, "flow/channels.html", {"form": form})
