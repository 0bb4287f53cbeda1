"""Letters the studio owns: render a ``MessageTemplate`` from plain data and queue it.

A letter is rendered in the documents sandbox (``documents.sandbox.render_source``: no ORM,
bounded time and output, autoescaped), wrapped in the studio's HTML layout (logo, the
manager's and the studio's signature) and given a plain-text alternative. It leaves from the
studio's name and address. A template the owner broke never stops a letter: the shipped
wording is used instead and the owners hear about the problem once per edit.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals.models import Deal
from studiocrm.documents.sandbox import TemplateProblem, render_source
from studiocrm.flow.catalog import BY_KEY
from studiocrm.flow.models import MessageTemplate
from studiocrm.notifications.outbox import queue_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def language_of(language: str) -> str:
    return language if language in dict(settings.LANGUAGES) else Studio.load().locale


def sender(studio: Studio) -> str:
    """ "Студия «Кварц» <hello@kvarts.studio>": the studio's name and address (the
    configured sender's address when the studio has none)."""
    address = studio.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((studio.name, address))


def person(user: User | None) -> dict[str, str]:
    if user is None:
        return {"name": "", "email": "", "phone": ""}
    return {"name": user.get_full_name() or user.username, "email": user.email, "phone": ""}


def base_context(deal: Deal | None, *, manager: User | None = None) -> dict[str, Any]:
    """What every letter may use: the client, the studio, the manager and the deal (empty
    for a letter about no deal, such as the manager's morning digest)."""
    studio = Studio.load()
    if deal is None:
        deal = Deal(title="")
    contact = deal.contact if deal.contact_id else None
    return {
        "client": {
            "name": contact.name if contact else "",
            "company": deal.client.name if deal.client_id else "",
        },
        "studio": {
            "name": studio.name,
            "email": studio.email,
            "phone": studio.phone,
            "website": studio.website,
        },
        "manager": person(manager if manager is not None else deal.manager),
        "deal": {"title": deal.title},
    }


def _stored(key: str, language: str) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(key=key, language=language).first()


def html_to_text(body: str) -> str:
    """The plain-text alternative of a letter's HTML: links written out, paragraphs kept."""
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", body)
    text = re.sub(
        r'(?is)<a\s[^>]*href="([^"]*)"[^>]*>(.*?)</a>',
        lambda match: (
            f"{match.group(2)}: {match.group(1)}"
            if match.group(1) != match.group(2)
            else match.group(1)
        ),
        text,
    )
    text = re.sub(r"(?i)<li[^>]*>", "\n- ", text)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|ul|ol|blockquote|h\d|table|tr)>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _button_styles(body: str) -> str:
    """Mail clients drop <style>; the call-to-action link gets its look inline."""
    return body.replace(
        '<a class="button"',
        '<a class="button" style="display:inline-block;padding:12px 22px;background:#1f4fd1;'
        'color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600"',
    )


def logo_url(studio: Studio) -> str:
    if not studio.logo:
        return ""
    return absolute_url(reverse("flow:logo", args=[studio.logo.name.rsplit("/", 1)[-1]]))


def render(
    key: str,
    language: str,
    context: dict[str, Any],
    *,
    source: tuple[str, str, str] | None = None,
) -> Rendered:
    """Render one letter. ``source`` (subject, HTML, text) previews unsaved edits; else the
    stored template, else the shipped default. Raises TemplateProblem for a broken one."""
    letter = BY_KEY[key]
    if source is None:
        stored = _stored(key, language)
        if stored is not None:
            source = (stored.subject, stored.body_html, stored.body_text)
        else:
            subject, body = letter.default(language)
            source = (subject, body, "")
    subject_source, html_source, text_source = source
    subject = html.unescape(render_source(subject_source, context))
    body = render_source(html_source, context)
    text = html.unescape(render_source(text_source, context)) if text_source.strip() else ""
    studio = Studio.load()
    layout = {
        "subject": subject,
        "body": mark_safe(_button_styles(body)),  # noqa: S308 - the sandbox escaped it
        "studio": context.get("studio", {}),
        "manager": context.get("manager", {}),
        "logo": logo_url(studio),
        "language": language,
        "internal": letter.to_manager,
    }
    with translation.override(language):
        full_html = render_to_string("flow/email/letter.html", layout)
        signature = (
            "" if letter.to_manager else render_to_string("flow/email/signature.txt", layout)
        )
    plain = (text or html_to_text(body)).rstrip() + "\n"
    return Rendered(
        subject=" ".join(subject.split()),
        html=full_html,
        text=plain + ("\n" + signature.strip() + "\n" if signature.strip() else ""),
    )


def render_safely(key: str, language: str, context: dict[str, Any]) -> Rendered:
    """The stored letter, or — when the owner's edit does not render — the shipped wording,
    and the owners are told (once per edit) what to fix."""
    try:
        return render(key, language, context)
    except TemplateProblem as problem:
        stored = _stored(key, language)
        log.warning("letter %s/%s does not render: %s", key, language, problem)
        _report_broken(key, language, stored, problem)
        subject, body = BY_KEY[key].default(language)
        return render(key, language, context, source=(subject, body, ""))


def _report_broken(
    key: str, language: str, stored: MessageTemplate | None, problem: TemplateProblem
) -> None:
    version = f"{stored.pk}:{stored.updated_at.timestamp():.0f}" if stored else "default"
    link = absolute_url(reverse("flow:letter", args=[key, language]))
    for owner in User.objects.filter(role=User.Role.OWNER, is_active=True).exclude(email=""):
        with translation.override(owner.language or Studio.load().locale):
            queue_email(
                to=owner.email,
                subject=_("A letter template needs fixing: %(title)s")
                % {"title": str(BY_KEY[key].title)},
                body=_(
                    "The letter “%(title)s” (%(language)s) could not be rendered: %(problem)s\n\n"
                    "Clients get the standard wording until it is fixed:\n%(link)s\n"
                )
                % {
                    "title": str(BY_KEY[key].title),
                    "language": language,
                    "problem": problem,
                    "link": link,
                },
                dedupe_key=f"letter-broken:{key}:{language}:{version}:{owner.pk}",
            )


def send_letter(
    key: str,
    *,
    to: str,
    deal: Deal | None,
    language: str,
    context: dict[str, Any],
    dedupe_key: str,
    reply_to: str = "",
    manager: User | None = None,
    source: tuple[str, str, str] | None = None,
    attach_to_deal: bool = True,
) -> bool:
    """Queue letter ``key`` to ``to`` in ``language``, inside the caller's transaction.
    Nothing without an address. ``source`` sends unsaved wording (a test from the editor;
    a TemplateProblem then goes to the caller)."""
    if not to:
        return False
    language = language_of(language)
    common = base_context(deal, manager=manager)
    full_context = {**common, **context}
    with translation.override(language):
        if source is not None:
            rendered = render(key, language, full_context, source=source)
        else:
            rendered = render_safely(key, language, full_context)
    studio = Studio.load()
    queue_email(
        to=to,
        subject=rendered.subject,
        body=rendered.text,
        body_html=rendered.html,
        dedupe_key=dedupe_key,
        deal=deal if attach_to_deal else None,
        reply_to=reply_to or studio.email,
        from_email=sender(studio),
    )
    return True


def send_manager_letter(
    key: str,
    recipient: User | None,
    deal: Deal | None,
    *,
    context: dict[str, Any],
    dedupe_key: str,
    reply_to: str = "",
) -> bool:
    """Queue the studio's manager letter ``key`` (``audience="manager"``) to ``recipient`` in
    their language; ``manager`` in the template is the recipient. Nothing without an address."""
    if recipient is None or not recipient.email:
        return False
    return send_letter(
        key,
        to=recipient.email,
        deal=deal,
        language=recipient.language or Studio.load().locale,
        context=context,
        dedupe_key=dedupe_key,
        reply_to=reply_to or "",
        manager=recipient,
    )
