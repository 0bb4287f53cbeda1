"""State changes of the studio profile and its users."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
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
        changes = audit.field_changes(form)
        studio = form.save()
        audit.record("studio.updated", studio, actor=actor, data={"changes": changes})
    return studio


def update_profile(form: ModelForm, *, actor: User) -> User:
    """Save a user's own name, email and language."""
    with transaction.atomic():
        changes = audit.field_changes(form)
        user = form.save()
        if changes:
            audit.record("user.profile_updated", user, actor=actor, data={"changes": changes})
    return user


def set_user_role(user: User, role: str, *, actor: User) -> None:
    """Make a user an owner or a manager (owners only; never one's own role, so the studio
    cannot lose its last owner by a slip)."""
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner can change roles."))
    if user.pk == actor.pk:
        raise PermissionDenied(_("You cannot change your own role."))
    if role not in User.Role.values:
        raise ValueError(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.role == role:
            return
        previous = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit.record("user.role_changed", locked, actor=actor, data={"from": previous, "to": role})


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
