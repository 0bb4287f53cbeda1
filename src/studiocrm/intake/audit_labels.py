"""How the audit page names the intake app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "intake.lead_received": _("Received a lead"),
    "intake.api_key_created": _("Created an API key"),
    "intake.api_key_revoked": _("Revoked an API key"),
    "intake.email_received": _("Read an email from the mailbox"),
    "intake.mailbox_saved": _("Changed the mailbox settings"),
}
