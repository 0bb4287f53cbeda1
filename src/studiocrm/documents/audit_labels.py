"""How the audit page names the documents app's actions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from studiocrm.documents.models import Kind

VERBS = {
    "document.created": _("Created a document"),
    "document.updated": _("Changed a document"),
    "document.sent": _("Sent a document"),
    "document.revision_frozen": _("Froze a document revision"),
    "document.accepted": _("The client accepted a document"),
    "document.question": _("The client asked about a document"),
    "document.link_revoked": _("Revoked a document link"),
    "document.expired": _("A proposal expired"),
    "document_template.updated": _("Changed a document template"),
    "document_template.reset": _("Reset a document template to the default text"),
}


def format_value(verb: str, key: str, value: Any, memo: dict[str, Any]) -> str | None:
    if key == "kind" and value in Kind.values:
        return str(Kind(value).label)
    return None
