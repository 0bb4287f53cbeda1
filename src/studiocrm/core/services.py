"""State changes of the studio profile and its users."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.forms import ModelForm
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.urls_util import absolute_url
from studiocrm.notifications.outbox import queue_email


def update_studio(form: ModelForm, *, actor: User) -> Studio:
    """Save the studio profile from a validated form."""
    with transaction.atomic():
        studio = form.save()
        audit.record("studio.updated", studio, actor=actor, data={"fields": form.changed_data})
    return studio


def invite_user(form: ModelForm, *, actor: User) -> User:
    """Create a user without a usable password and email them a link to set one."""
    with transaction.atomic():
        user: User = form.save(commit=False)
        user.set_unusable_password()
        user.save()
        audit.record("user.invited", user, actor=actor, data={"role": user.role})
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = absolute_url(reverse("password_reset_confirm", args=[uid, token]))
        with translation.override(user.language or Studio.load().locale):
            queue_email(
                to=user.email,
                subject=_("You are invited to %(studio)s on studiocrm")
                % {"studio": Studio.load().name},
                body=render_to_string(
                    "core/email/invitation.txt",
                    {"user": user, "link": link, "inviter": actor, "studio": Studio.load()},
                ),
                dedupe_key=f"invitation:{user.pk}",
            )
    return user


def set_user_active(user: User, active: bool, *, actor: User) -> None:
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record("user.activated" if active else "user.deactivated", user, actor=actor)
