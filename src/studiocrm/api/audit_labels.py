"""How the audit page names the API app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "api.token_created": _("Created an API token"),
    "api.token_revoked": _("Revoked an API token"),
}
