"""How the audit page names the transfer app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "transfer.imported": _("Imported a file"),
    "transfer.exported": _("Exported data"),
}
