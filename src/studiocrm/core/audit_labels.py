"""How the audit page names core's actions, and labels shared by every app's rows."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from studiocrm.core.models import User

VERBS = {
    "studio.updated": _("Changed the studio settings"),
    "user.invited": _("Invited a user"),
    "user.activated": _("Activated a user"),
    "user.deactivated": _("Deactivated a user"),
    "user.role_changed": _("Changed a user's role"),
    "user.profile_updated": _("Changed a profile"),
    # Keys of the details that are not fields of the object itself.
    "field:reason": _("Reason"),
    "field:amount": _("Amount"),
    "field:total": _("Total"),
    "field:name": _("Name"),
    "field:role": _("Role"),
    "field:kind": _("Kind"),
    "field:deal": _("Deal"),
    "field:client": _("Client"),
    "field:note": _("Note"),
    "field:comment": _("Comment"),
    "field:revision": _("Revision"),
    "field:provider": _("Payment method"),
    "field:currency": _("Currency"),
    "field:source": _("Source"),
    "field:ip": _("IP address"),
    "field:title": _("Title"),
    "field:problems": _("Problems"),
    "field:lost_reason": _("Reason the deal was lost"),
    "field:secret_key": _("Secret key"),
    "field:webhook_secret": _("Webhook signing secret"),
}


def format_value(verb: str, key: str, value: Any, memo: dict[str, Any]) -> str | None:
    if verb == "user.role_changed" and value in User.Role.values:
        return str(User.Role(value).label)
    if verb == "user.invited" and key == "role" and value in User.Role.values:
        return str(User.Role(value).label)
    return None
