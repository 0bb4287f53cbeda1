"""Every state change of briefs and brief templates goes through these functions.

Sending a brief snapshots the template's questions, gives the brief a client link, emails
the client, moves the deal to ``brief_sent`` and schedules a reminder for the manager. The
client's side (autosave, files, submit) and the manager's (reopen, new link, revoke) follow.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.briefs import questions as q
from studiocrm.briefs.models import (
    CHOICE_TYPES,
    FILE,
    OTHER_SUFFIX,
    OTHER_VALUE,
    Brief,
    BriefFile,
    BriefQuestion,
    BriefSection,
    BriefTemplate,
)
from studiocrm.core import audit
from studiocrm.core.models import AuditLog, Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Deal, Task
from studiocrm.portal import files as private_files
from studiocrm.portal.links import LinkTokenLost, revoke

REMINDER_DAYS = 3
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_QUESTION = 5
MAX_BRIEF_BYTES = 50 * 1024 * 1024
MAX_COMMENT_LENGTH = 2000

log = logging.getLogger(__name__)


class BriefError(Exception):
    """A change the brief's state does not allow; the message is for the person asking."""


class NotAllowed(BriefError):
    pass


class BriefNotEditable(BriefError):
    """The client tried to change a brief that is submitted (read-only) or not sent."""


class BriefAlreadySubmitted(BriefNotEditable):
    pass


class MissingAnswers(BriefError):
    """Required questions are unanswered; ``questions`` lists them in order."""

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        super().__init__(_("Please answer the required questions."))
        self.questions = missing


# ---------------------------------------------------------------- reading


def latest_submitted_brief(deal: Deal) -> Brief | None:
    """The deal's most recently submitted brief (status "submitted"), or None."""
    return (
        Brief.objects.filter(deal=deal, status=Brief.Status.SUBMITTED)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def client_link(brief: Brief) -> str:
    """The absolute URL the client opens, for emails and the manager's "copy link"."""
    return absolute_url(reverse("briefs_client:brief", args=[brief.link_token()]))


def suggested_template(deal: Deal) -> BriefTemplate | None:
    """The template to preselect for a deal: an active one in the studio's language made for
    the deal's source, else any active one in that language, else any active one."""
    active = list(BriefTemplate.objects.filter(is_active=True).order_by("name", "pk"))
    locale = Studio.load().locale
    for candidates in (
        [t for t in active if t.language == locale and deal.source in (t.sources or [])],
        [t for t in active if deal.source in (t.sources or [])],
        [t for t in active if t.language == locale],
        active,
    ):
        if candidates:
            return candidates[0]
    return None


def snapshot_questions(template: BriefTemplate) -> list[dict[str, Any]]:
    """The template's questions as the plain dicts a brief keeps (see the Brief docstring)."""
    snapshot = []
    for question in BriefQuestion.objects.filter(template=template).select_related("section"):
        snapshot.append(
            {
                "key": question.key,
                "section": question.section.title,
                "label": question.label,
                "help": question.help,
                "type": question.type,
                "options": [
                    {"value": str(option["value"]), "label": str(option["label"])}
                    for option in (question.options or [])
                ]
                if question.type in CHOICE_TYPES
                else [],
                "allow_other": bool(question.allow_other and question.type in CHOICE_TYPES),
                "required": question.required,
                "show_if": {"key": question.show_if_key, "equals": question.show_if_equals}
                if question.show_if_key
                else None,
            }
        )
    return snapshot


# ---------------------------------------------------------------- manager side


def _check_can_edit(actor: User, deal: Deal) -> None:
    deal_services.check_can_edit(actor, deal, error=NotAllowed)


def send_brief(
    deal: Deal, template: BriefTemplate, *, actor: User, to_email: str | None = None
) -> Brief:
    """Send a brief made from ``template`` to the deal's client.

    Snapshots the questions and emits ``brief.sent``: the reactions email the link (to
    ``to_email`` or the deal contact's email), move the deal to ``brief_sent`` if it is not
    past it, and schedule a reminder for the deal's manager in REMINDER_DAYS days.
    """
    recipient = (to_email if to_email is not None else _contact_email(deal)).strip()
    if not recipient:
        raise BriefError(_("Enter the client's email address to send the brief to."))
    if not template.is_active:
        raise BriefError(_("This template is switched off."))
    with transaction.atomic():
        deal = (
            Deal.objects.select_for_update(of=("self",))
            .select_related("stage", "manager")
            .get(pk=deal.pk)
        )
        _check_can_edit(actor, deal)
        questions = snapshot_questions(template)
        if not questions:
            raise BriefError(_("This template has no questions yet."))
        now = timezone.now()
        brief = Brief(
            deal=deal,
            template=template,
            title=template.name,
            intro=template.intro,
            language=template.language,
            questions=questions,
            status=Brief.Status.SENT,
            sent_to=recipient,
            sent_by=actor,
            sent_at=now,
        )
        brief.issue_token()
        brief.save()
        audit.record(
            "brief.sent",
            brief,
            actor=actor,
            data={"deal": deal.pk, "template": template.pk, "to": recipient},
        )
        events.emit(events.BRIEF_SENT, deal, actor=actor, subject=brief)
    return brief


def _contact_email(deal: Deal) -> str:
    return (deal.contact.email if deal.contact_id and deal.contact else "") or ""


def set_reminder(brief: Brief, task: Task | None) -> None:
    """Remember the manager's "brief not returned" task, closed when the brief comes back."""
    brief.reminder_task = task
    brief.save(update_fields=["reminder_task"])


def _locked_brief(pk: int) -> Brief:
    # ``of=("self",)``: PostgreSQL cannot lock the nullable side of the join to the manager.
    return Brief.objects.select_for_update(of=("self",)).select_related("deal__manager").get(pk=pk)


def _link_derivable(brief: Brief) -> bool:
    try:
        brief.link_token()
    except LinkTokenLost:
        return False
    return True


def reopen_brief(brief: Brief, comment: str, *, actor: User) -> Brief:
    """Let the client edit a submitted brief again, with a comment saying what to add; the
    client gets an email with the comment and the same link."""
    comment = comment.strip()
    if not comment:
        raise BriefError(_("Tell the client what to add or change."))
    if len(comment) > MAX_COMMENT_LENGTH:
        raise BriefError(
            _("The comment is too long; the limit is %(limit)s characters.")
            % {"limit": MAX_COMMENT_LENGTH}
        )
    with transaction.atomic():
        brief = _locked_brief(brief.pk)
        _check_can_edit(actor, brief.deal)
        if brief.status != Brief.Status.SUBMITTED:
            raise BriefError(_("Only a submitted brief can be reopened."))
        if not brief.link_is_usable:
            raise BriefError(_("The client's link is revoked or expired; send a new brief."))
        if not _link_derivable(brief):
            # SECRET_KEY changed without a fallback: the old link is dead anyway.
            brief.issue_token()
            brief.save(update_fields=["token_salt", "token_hash"])
        brief.status = Brief.Status.REOPENED
        brief.reopen_comment = comment
        brief.reopened_at = timezone.now()
        brief.reopen_count += 1
        brief.save(update_fields=["status", "reopen_comment", "reopened_at", "reopen_count"])
        audit.record("brief.reopened", brief, actor=actor, data={"comment": comment})
        events.emit(events.BRIEF_REOPENED, brief.deal, actor=actor, subject=brief)
    return brief


def resend_link(brief: Brief, *, actor: User, new_link: bool = False) -> Brief:
    """Email the client the link again; with ``new_link`` the old link stops working first
    (for a link that went to the wrong person)."""
    with transaction.atomic():
        brief = _locked_brief(brief.pk)
        _check_can_edit(actor, brief.deal)
        if brief.status == Brief.Status.DRAFT:
            raise BriefError(_("This brief was never sent."))
        needs_new = new_link or not brief.link_is_usable or not _link_derivable(brief)
        if needs_new:
            brief.issue_token()
            brief.revoked_at = None
            brief.expires_at = None
            brief.save(update_fields=["token_salt", "token_hash", "revoked_at", "expires_at"])
        sent_count = (
            AuditLog.objects.filter(
                verb="brief.link_resent", object_type="briefs.brief", object_id=str(brief.pk)
            ).count()
            + 1
        )
        audit.record("brief.link_resent", brief, actor=actor, data={"new_link": needs_new})
        events.emit(
            events.BRIEF_LINK_RESENT,
            brief.deal,
            actor=actor,
            subject=brief,
            payload={"sent_count": sent_count},
        )
    return brief


def revoke_brief_link(brief: Brief, *, actor: User) -> Brief:
    """Stop the client's link from working (the brief and its answers stay)."""
    with transaction.atomic():
        brief = _locked_brief(brief.pk)
        _check_can_edit(actor, brief.deal)
        if brief.revoked_at is None:
            revoke(brief)
            audit.record("brief.link_revoked", brief, actor=actor)
    return brief


# ---------------------------------------------------------------- client side


def _lock_for_client(brief: Brief) -> Brief:
    locked = Brief.objects.select_for_update().get(pk=brief.pk)
    if locked.status == Brief.Status.SUBMITTED:
        raise BriefAlreadySubmitted(
            _("This brief has been submitted and can no longer be changed.")
        )
    if not locked.is_editable_by_client or not locked.link_is_usable:
        raise BriefNotEditable(_("This brief can no longer be changed."))
    return locked


def _question(brief: Brief, key: str) -> dict[str, Any]:
    for question in brief.questions:
        if question["key"] == key:
            return question
    raise q.AnswerError(_("Unknown question."))


def save_answer(brief: Brief, key: str, raw: Any, *, other_text: str = "") -> Brief:
    """Store one answer as the client types (autosave). An empty answer removes the key.

    Raises AnswerError (bad value; nothing stored) or BriefNotEditable.
    """
    errors = save_answers(brief, {key: (raw, other_text)})
    if errors:
        raise q.AnswerError(errors[key])
    return brief


def save_answers(brief: Brief, submitted: dict[str, tuple[Any, str]]) -> dict[str, str]:
    """Store several answers at once (the whole form, when the client submits without
    JavaScript). ``submitted`` maps key -> (raw value, "Other" text). Valid answers are
    stored even when others are rejected; returns {key: message} for the rejected ones.

    Raises BriefNotEditable when the brief is no longer open to the client.
    """
    errors: dict[str, str] = {}
    with transaction.atomic():
        locked = _lock_for_client(brief)
        answers = dict(locked.answers)
        for key, (raw, other_text) in submitted.items():
            try:
                question = _question(locked, key)
                if question["type"] == FILE:
                    continue
                value = q.clean_answer(question, raw, other_text=other_text)
            except q.AnswerError as error:
                errors[key] = str(error)
                continue
            _apply(answers, question, value, other_text)
        locked.answers = answers
        locked.answers_saved_at = timezone.now()
        locked.save(update_fields=["answers", "answers_saved_at"])
    brief.answers, brief.answers_saved_at = locked.answers, locked.answers_saved_at
    brief.status = locked.status
    return errors


def _apply(answers: dict[str, Any], question: dict[str, Any], value: Any, other_text: str) -> None:
    key = question["key"]
    other_key = key + OTHER_SUFFIX
    if value is None:
        answers.pop(key, None)
        answers.pop(other_key, None)
        return
    answers[key] = value
    has_other = value == OTHER_VALUE or (isinstance(value, list) and OTHER_VALUE in value)
    if has_other and question.get("allow_other") and other_text.strip():
        answers[other_key] = other_text.strip()
    else:
        answers.pop(other_key, None)


def attach_file(brief: Brief, key: str, upload: UploadedFile) -> BriefFile:
    """Store an uploaded file for a file question after checking its size and real type.

    Raises UploadRejected / AnswerError (nothing stored) or BriefNotEditable.
    """
    checked = private_files.check_upload(upload, max_bytes=MAX_FILE_BYTES)
    with transaction.atomic():
        brief = _lock_for_client(brief)
        question = _question(brief, key)
        if question["type"] != FILE:
            raise q.AnswerError(_("This question does not take files."))
        current = [int(file_id) for file_id in brief.answers.get(key) or []]
        if len(current) >= MAX_FILES_PER_QUESTION:
            raise private_files.UploadRejected(
                _("You can attach up to %(count)s files here; remove one first.")
                % {"count": MAX_FILES_PER_QUESTION}
            )
        stored_bytes = brief.files.aggregate(total=Sum("size"))["total"] or 0
        if stored_bytes + upload.size > MAX_BRIEF_BYTES:
            raise private_files.UploadRejected(
                _("All files of this brief together may not exceed %(limit)s MB.")
                % {"limit": MAX_BRIEF_BYTES // (1024 * 1024)}
            )
        attachment = BriefFile(
            brief=brief,
            question_key=key,
            original_name=checked.safe_name,
            content_type=checked.content_type,
            size=upload.size,
        )
        # The stored name is ours, never the client's.
        try:
            attachment.file.save(f"{uuid.uuid4().hex}.{checked.extension}", upload, save=False)
        except OSError as error:
            # Nothing was stored (a private file appears whole or not at all) and the
            # transaction rolls back: the client may simply try again later.
            log.warning("brief %s: upload not stored: %s", brief.pk, error)
            raise private_files.UploadRejected(private_files.storage_problem(error)) from None
        try:
            attachment.save()
            brief.answers = {**brief.answers, key: [*current, attachment.pk]}
            brief.answers_saved_at = timezone.now()
            brief.save(update_fields=["answers", "answers_saved_at"])
        except Exception:
            attachment.file.storage.delete(attachment.file.name)
            raise
    return attachment


def remove_file(brief: Brief, file_id: int) -> None:
    """Take an attached file off the brief and delete it (after the commit)."""
    with transaction.atomic():
        brief = _lock_for_client(brief)
        attachment = BriefFile.objects.filter(brief=brief, pk=file_id).first()
        if attachment is None:
            return
        key = attachment.question_key
        remaining = [item for item in brief.answers.get(key) or [] if item != attachment.pk]
        answers = dict(brief.answers)
        if remaining:
            answers[key] = remaining
        else:
            answers.pop(key, None)
        brief.answers = answers
        brief.answers_saved_at = timezone.now()
        brief.save(update_fields=["answers", "answers_saved_at"])
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


def submit_brief(brief: Brief) -> Brief:
    """The client sends the answers: the brief becomes read-only and ``brief.submitted`` is
    emitted (the reactions move the deal to ``brief_received`` if it is not past it, close
    the reminder and tell the manager).

    Two simultaneous submits produce one submission: the brief row is locked and the second
    finds it submitted (BriefAlreadySubmitted). Raises MissingAnswers when required visible
    questions are unanswered.
    """
    with transaction.atomic():
        brief = _lock_for_client(brief)
        missing = q.missing_required(brief.questions, brief.answers)
        if missing:
            raise MissingAnswers(missing)
        brief.answers = q.prune_hidden(brief.questions, brief.answers)
        brief.status = Brief.Status.SUBMITTED
        brief.submitted_at = timezone.now()
        brief.save(update_fields=["answers", "status", "submitted_at"])
        audit.record(
            "brief.submitted",
            brief,
            actor=None,
            data={"answers": len(brief.answers), "round": brief.reopen_count},
        )
        brief.deal = Deal.objects.select_related("stage", "manager").get(pk=brief.deal_id)
        events.emit(events.BRIEF_SUBMITTED, brief.deal, subject=brief)
    return brief


def record_first_view(brief: Brief) -> None:
    """The client opened the link for the first time (the portal calls this once)."""
    with transaction.atomic():
        brief = Brief.objects.select_related("deal__manager", "sent_by").get(pk=brief.pk)
        audit.record("brief.first_viewed", brief, actor=None)
        events.emit(events.BRIEF_FIRST_VIEWED, brief.deal, subject=brief)


# ---------------------------------------------------------------- templates (owner)


class TemplateError(BriefError):
    pass


def create_template(
    *, name: str, language: str, intro: str, sources: list[str], actor: User
) -> BriefTemplate:
    with transaction.atomic():
        template = BriefTemplate.objects.create(
            name=name, language=language, intro=intro, sources=sources
        )
        BriefSection.objects.create(template=template, title=_("Questions"), position=0)
        audit.record("brief_template.created", template, actor=actor)
    return template


def update_template(template: BriefTemplate, *, actor: User, **fields: Any) -> BriefTemplate:
    """Change the template's own fields (name, language, intro, sources, is_active)."""
    allowed = {"name", "language", "intro", "sources", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise TemplateError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=template.pk)
        changed = [name for name, value in fields.items() if getattr(template, name) != value]
        for name in changed:
            setattr(template, name, fields[name])
        if changed:
            template.save(update_fields=[*changed, "updated_at"])
            audit.record("brief_template.updated", template, actor=actor, data={"fields": changed})
    return template


def duplicate_template(template: BriefTemplate, *, actor: User) -> BriefTemplate:
    """A copy to adapt (the copy is not a shipped default, so the loader never touches it)."""
    with transaction.atomic():
        copy = BriefTemplate.objects.create(
            name=_("%(name)s (copy)") % {"name": template.name},
            language=template.language,
            intro=template.intro,
            sources=[],
            is_active=template.is_active,
        )
        for section in template.sections.prefetch_related("questions"):
            new_section = BriefSection.objects.create(
                template=copy, title=section.title, position=section.position
            )
            for question in section.questions.all():
                question.pk = None
                question.template = copy
                question.section = new_section
                question.save()
        audit.record("brief_template.duplicated", copy, actor=actor, data={"from": template.pk})
    return copy


def delete_template(template: BriefTemplate, *, actor: User) -> None:
    """Delete a template; briefs already sent keep their questions (template becomes None)."""
    with transaction.atomic():
        audit.record("brief_template.deleted", template, actor=actor, data={"name": template.name})
        template.delete()


def add_section(template: BriefTemplate, title: str, *, actor: User) -> BriefSection:
    title = title.strip()
    if not title:
        raise TemplateError(_("A section needs a title."))
    with transaction.atomic():
        BriefTemplate.objects.select_for_update().get(pk=template.pk)
        last = template.sections.aggregate(last=Max("position"))["last"]
        section = BriefSection.objects.create(
            template=template, title=title[:200], position=(last or 0) + 1
        )
        _touch(template)
        audit.record("brief_template.section_added", template, actor=actor, data={"title": title})
    return section


def rename_section(section: BriefSection, title: str, *, actor: User) -> BriefSection:
    title = title.strip()
    if not title:
        raise TemplateError(_("A section needs a title."))
    with transaction.atomic():
        section.title = title[:200]
        section.save(update_fields=["title"])
        _touch(section.template)
        audit.record("brief_template.section_renamed", section.template, actor=actor)
    return section


def delete_section(section: BriefSection, *, actor: User) -> None:
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=section.template_id)
        if template.sections.count() <= 1:
            raise TemplateError(_("A template needs at least one section."))
        keys = list(section.questions.values_list("key", flat=True))
        _check_no_dependants(template, keys, exclude_keys=keys)
        section.delete()
        _touch(template)
        audit.record(
            "brief_template.section_deleted", template, actor=actor, data={"questions": keys}
        )


def move_section(section: BriefSection, offset: int, *, actor: User) -> None:
    """Move a section up (offset -1) or down (+1)."""
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=section.template_id)
        sections = list(template.sections.all())
        index = next(i for i, item in enumerate(sections) if item.pk == section.pk)
        target = index + offset
        if not 0 <= target < len(sections):
            return
        sections[index], sections[target] = sections[target], sections[index]
        for position, item in enumerate(sections):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
        _check_order_of_conditions(template)
        _touch(template)
        audit.record("brief_template.reordered", template, actor=actor)


def save_question(
    template: BriefTemplate, data: dict[str, Any], *, actor: User, question: BriefQuestion | None
) -> BriefQuestion:
    """Create (question None) or update a question from cleaned form data.

    ``data`` holds section, key, label, help, type, options, allow_other, required,
    show_if_key, show_if_equals. Checks the key is unique in the template and that a show-if
    condition refers to an earlier question.
    """
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=template.pk)
        key = data["key"]
        clash = BriefQuestion.objects.filter(template=template, key=key)
        if question is not None:
            clash = clash.exclude(pk=question.pk)
        if clash.exists():
            raise TemplateError(_("Another question of this template already uses this key."))
        creating = question is None
        if question is None:
            section = data["section"]
            last = section.questions.aggregate(last=Max("position"))["last"]
            question = BriefQuestion(
                template=template, position=(last if last is not None else -1) + 1
            )
        elif question.key != key:
            _check_no_dependants(template, [question.key], exclude_keys=[])
        if question.section_id and question.section_id != data["section"].pk:
            last = data["section"].questions.aggregate(last=Max("position"))["last"]
            question.position = (last if last is not None else -1) + 1
        for name in (
            "section",
            "key",
            "label",
            "help",
            "type",
            "options",
            "allow_other",
            "required",
            "show_if_key",
            "show_if_equals",
        ):
            setattr(question, name, data[name])
        if question.type not in CHOICE_TYPES:
            question.options = []
            question.allow_other = False
        question.save()
        _check_order_of_conditions(template)
        _touch(template)
        audit.record(
            "brief_template.question_added" if creating else "brief_template.question_changed",
            template,
            actor=actor,
            data={"key": key},
        )
    return question


def delete_question(question: BriefQuestion, *, actor: User) -> None:
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=question.template_id)
        _check_no_dependants(template, [question.key], exclude_keys=[question.key])
        question.delete()
        _touch(template)
        audit.record(
            "brief_template.question_deleted", template, actor=actor, data={"key": question.key}
        )


def reorder_questions(
    template: BriefTemplate, order: list[tuple[int, int]], *, actor: User
) -> None:
    """Apply a new order: ``order`` is [(question id, section id), ...] in display order,
    as the drag-and-drop editor sends it. Unknown ids are ignored."""
    with transaction.atomic():
        template = BriefTemplate.objects.select_for_update().get(pk=template.pk)
        questions = {question.pk: question for question in template.questions.all()}
        sections = set(template.sections.values_list("pk", flat=True))
        positions: dict[int, int] = {}
        for question_id, section_id in order:
            question = questions.get(question_id)
            if question is None or section_id not in sections:
                continue
            position = positions.get(section_id, 0)
            positions[section_id] = position + 1
            if question.position != position or question.section_id != section_id:
                question.position = position
                question.section_id = section_id
                question.save(update_fields=["position", "section"])
        _check_order_of_conditions(template)
        _touch(template)
        audit.record("brief_template.reordered", template, actor=actor)


def _touch(template: BriefTemplate) -> None:
    BriefTemplate.objects.filter(pk=template.pk).update(updated_at=timezone.now())


def _check_no_dependants(template: BriefTemplate, keys: list[str], exclude_keys: list[str]) -> None:
    dependants = (
        BriefQuestion.objects.filter(template=template, show_if_key__in=keys)
        .exclude(key__in=exclude_keys)
        .values_list("label", flat=True)
    )
    if dependants:
        raise TemplateError(
            _("Other questions are shown depending on this one: %(labels)s. Change them first.")
            % {"labels": "; ".join(dependants)}
        )


def _check_order_of_conditions(template: BriefTemplate) -> None:
    """Every show-if must refer to a question that comes earlier (raises, rolling back)."""
    seen: set[str] = set()
    for question in BriefQuestion.objects.filter(template=template).select_related("section"):
        if question.show_if_key and question.show_if_key not in seen:
            raise TemplateError(
                _(
                    "“%(label)s” is shown depending on a question that does not come before it. "
                    "Conditions may only refer to earlier questions."
                )
                % {"label": question.label}
            )
        seen.add(question.key)
