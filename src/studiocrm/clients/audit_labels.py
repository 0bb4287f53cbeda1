"""How the audit page names the clients app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "model:clients.client": _("Client"),
    "model:clients.contact": _("Contact"),
    "client.created": _("Added a client"),
    "client.updated": _("Changed a client"),
    "contact.created": _("Added a contact"),
    "contact.updated": _("Changed a contact"),
}
