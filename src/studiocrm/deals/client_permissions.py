"""Who may change a client and its contacts: the deal rule applied to the people on deals.

A client's details and contacts decide where the studio's documents go (the contract's
parties, the address proposals and invoices are emailed to), so changing them is changing
the deals they sit on:

- an owner may change every client and contact;
- a manager may change a client, add contacts to it or edit its contacts only when none of
  the client's deals is assigned to another manager (no deals at all, or each deal theirs or
  unassigned); a contact additionally follows the deals it is the contact of, wherever they
  are filed;
- everyone signed in may read every client (read-only where they may not change it).

It lives with deals because it is the deal rule: ``clients`` below knows nothing of deals.
"""

from __future__ import annotations

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import User


def _deals_of_others(deals, user: User) -> bool:  # noqa: ANN001 - a Deal queryset
    return deals.exclude(manager__isnull=True).exclude(manager_id=user.pk).exists()


def can_edit_client(user: User, client: Client) -> bool:
    """May ``user`` change the client's details or add a contact to it?"""
    if not user.is_active:
        return False
    if user.is_owner:
        return True
    return not _deals_of_others(client.deals.all(), user)


def can_edit_contact(user: User, contact: Contact) -> bool:
    """May ``user`` change this contact (its email and phone are where documents go)?"""
    if not can_edit_client(user, contact.client):
        return False
    return user.is_owner or not _deals_of_others(contact.deals.all(), user)
