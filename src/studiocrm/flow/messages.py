"""How the sales flow writes to a manager (client letters are the studio's own templates:
``flow.letters``).

It only queues outbox rows (in the caller's transaction; delivery runs after commit), in the
manager's language (else the studio's). Subjects are untranslated sources (``gettext_noop``)
translated here, inside the reader's language, or a callable that builds the subject there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal
from studiocrm.notifications.outbox import queue_email

Subject = str | Callable[[], str]


def _subject(subject: Subject, params: dict[str, Any] | None) -> str:
    if callable(subject):
        return subject()
    return _(subject) % (params or {})


def manager_language(user: User) -> str:
    """The language a manager reads: their own, else the studio's."""
    return user.language or Studio.load().locale


def responsible_manager(deal: Deal) -> User | None:
    """Who hears about a deal when it has nobody else: its manager, else the studio's
    default manager, else the first owner (each active and with an email address)."""
    if deal.manager and deal.manager.is_active and deal.manager.email:
        return deal.manager
    studio = Studio.load()
    if studio.default_manager and studio.default_manager.is_active and studio.default_manager.email:
        return studio.default_manager
    return (
        User.objects.filter(is_active=True, role=User.Role.OWNER)
        .exclude(email="")
        .order_by("pk")
        .first()
    )


def email_manager(
    recipient: User | None,
    deal: Deal | None,
    *,
    template: str,
    subject: Subject,
    dedupe_key: str,
    context: dict[str, Any],
    subject_params: dict[str, Any] | None = None,
    html_template: str = "",
    reply_to: str = "",
) -> bool:
    """Queue an email to a manager in the manager's language. Nothing without an address."""
    if recipient is None or not recipient.email:
        return False
    with translation.override(manager_language(recipient)):
        context = {"manager": recipient, "deal": deal, **context}
        queue_email(
            to=recipient.email,
            subject=_subject(subject, subject_params),
            body=render_to_string(template, context),
            body_html=render_to_string(html_template, context) if html_template else "",
            dedupe_key=dedupe_key,
            deal=deal,
            reply_to=reply_to,
        )
    return True
