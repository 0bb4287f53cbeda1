"""State changes of clients and contacts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.forms import ModelForm

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.permissions import can_edit_contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.core import audit
from studiocrm.core.models import User


@dataclass
class ContactMatch:
    contact: Contact
    created: bool


def find_contact(*, email: str = "", phone: str = "") -> Contact | None:
    """The existing contact with the same email (case-insensitive) or the same phone."""
    email = (email or "").strip()
    if email:
        contact = Contact.objects.filter(email__iexact=email).order_by("pk").first()
        if contact:
            return contact
    normalized = normalize_phone(phone)
    if normalized:
        return Contact.objects.filter(phone_normalized=normalized).order_by("pk").first()
    return None


def match_or_create_contact(
    *, name: str, email: str = "", phone: str = "", company: str = "", actor: User | None = None
) -> ContactMatch:
    """Find the contact an incoming lead belongs to, or create the client and contact.

    Same email or same phone means the same contact: no duplicates. An existing contact is
    returned as it is, never changed: what the caller was told that differs from it (another
    email, a new phone) is the caller's to propose (see intake's ContactChange), because
    whoever sends a lead can give any phone number. Must run inside the caller's transaction.
    """
    contact = find_contact(email=email, phone=phone)
    if contact is not None:
        return ContactMatch(contact=contact, created=False)
    client = Client.objects.create(
        kind=Client.Kind.COMPANY if company else Client.Kind.PERSON,
        name=company or name,
    )
    contact = Contact.objects.create(
        client=client,
        name=name,
        email=email,
        phone=phone,
        phone_normalized=normalize_phone(phone),
    )
    audit.record("client.created", client, actor=actor, data={"source": "intake"})
    return ContactMatch(contact=contact, created=True)


class ContactNotChanged(Exception):
    """The contact cannot take this value (the field is unknown or the actor may not)."""


CHANGEABLE_FIELDS = ("email", "phone")


def change_contact_field(
    contact: Contact, *, field: str, value: str, actor: User, reason: str
) -> Contact:
    """Set one of the contact's addresses (``email`` or ``phone``) to ``value``, under the
    contact's row lock, with an audit row saying what it was, what it is and why."""
    if field not in CHANGEABLE_FIELDS:
        raise ContactNotChanged(f"unknown contact field {field!r}")
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("client").get(pk=contact.pk)
        if not can_edit_contact(actor, contact):
            raise ContactNotChanged("not allowed")
        old = getattr(contact, field)
        setattr(contact, field, value)
        changed = [field]
        if field == "phone":
            contact.phone_normalized = normalize_phone(value)
            changed.append("phone_normalized")
        contact.save(update_fields=changed)
        audit.record(
            "contact.updated",
            contact,
            actor=actor,
            data={"fields": [field], "from": old, "to": value, "reason": reason},
        )
    return contact


def save_client(form: ModelForm, *, actor: User) -> Client:
    with transaction.atomic():
        created = form.instance.pk is None
        client = form.save()
        audit.record(
            "client.created" if created else "client.updated",
            client,
            actor=actor,
            data={"fields": form.changed_data},
        )
    return client


def save_contact(form: ModelForm, *, client: Client, actor: User) -> Contact:
    with transaction.atomic():
        contact = form.save(commit=False)
        contact.client = client
        contact.phone_normalized = normalize_phone(contact.phone)
        created = contact.pk is None
        contact.save()
        audit.record("contact.created" if created else "contact.updated", contact, actor=actor)
    return contact
