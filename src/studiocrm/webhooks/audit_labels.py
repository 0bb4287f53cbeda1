"""How the audit page names the webhooks app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "webhooks.subscription_created": _("Added a webhook"),
    "webhooks.subscription_updated": _("Changed a webhook"),
    "webhooks.subscription_deleted": _("Deleted a webhook"),
    "webhooks.secret_regenerated": _("Regenerated a webhook secret"),
    "webhooks.subscription_paused": _("Paused a failing webhook"),
}
