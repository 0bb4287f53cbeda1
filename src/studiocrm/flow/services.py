"""Owner changes to the studio's letters and rules, and the per-deal pause."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.deals.models import Deal
from studiocrm.deals.services import check_can_edit
from studiocrm.flow.catalog import BY_KEY
from studiocrm.flow.letters import send_letter
from studiocrm.flow.models import DealPause, MessageTemplate, Rule
from studiocrm.flow.sample import context_for


def save_letter(
    key: str, language: str, *, subject: str, body_html: str, body_text: str, actor: User
) -> MessageTemplate:
    """Store the owner's wording of a letter (validated by the form first)."""
    with transaction.atomic():
        template, _created = MessageTemplate.objects.select_for_update().get_or_create(
            key=key, language=language, defaults={"subject": subject, "body_html": body_html}
        )
        template.subject = subject
        template.body_html = body_html
        template.body_text = body_text
        template.updated_at = timezone.now()
        template.updated_by = actor
        template.save()
        audit.record("letter.saved", template, actor=actor, data={"key": key, "language": language})
    return template


def restore_letter(key: str, language: str, *, actor: User) -> MessageTemplate:
    subject, body = BY_KEY[key].default(language)
    return save_letter(key, language, subject=subject, body_html=body, body_text="", actor=actor)


def send_test_letter(
    key: str, language: str, *, deal: Deal | None, actor: User, source: tuple[str, str, str]
) -> bool:
    """Queue the letter, as it stands in the editor, to the owner's own address."""
    if not actor.email:
        return False
    context, sample_deal = context_for(key, language, deal)
    return send_letter(
        key,
        to=actor.email,
        deal=sample_deal,
        language=language,
        context=context,
        dedupe_key=f"letter-test:{key}:{language}:{uuid.uuid4().hex}",
        source=source,
        attach_to_deal=False,
    )


def save_rule(rule: Rule, *, actor: User) -> Rule:
    with transaction.atomic():
        rule.save()
        audit.record("rule.saved", rule, actor=actor, data={"code": rule.code})
    return rule


def set_rule_enabled(rule: Rule, enabled: bool, *, actor: User) -> Rule:
    with transaction.atomic():
        Rule.objects.filter(pk=rule.pk).update(enabled=enabled)
        rule.enabled = enabled
        audit.record("rule.enabled" if enabled else "rule.disabled", rule, actor=actor)
    return rule


def set_paused(deal: Deal, paused: bool, *, actor: User) -> None:
    """ "This client wants no reminders": timers of a paused deal are skipped when due."""
    check_can_edit(actor, deal)
    with transaction.atomic():
        if paused:
            DealPause.objects.get_or_create(deal=deal, defaults={"paused_by": actor})
        else:
            DealPause.objects.filter(deal=deal).delete()
        audit.record(
            "deal.automation_paused" if paused else "deal.automation_resumed", deal, actor=actor
        )


def is_paused(deal: Deal) -> bool:
    return DealPause.objects.filter(deal=deal).exists()
