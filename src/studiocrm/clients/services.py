"""State changes of clients and contacts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.forms import ModelForm

from studiocrm.clients.models import Client, Contact
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

    Same email or same phone means the same contact: no duplicates. Must run inside the
    caller's transaction.
    """
    contact = find_contact(email=email, phone=phone)
    if contact is not None:
        changed = []
        if email and not contact.email:
            contact.email = email
            changed.append("email")
        if phone and not contact.phone:
            contact.phone = phone
            contact.phone_normalized = normalize_phone(phone)
            changed += ["phone", "phone_normalized"]
        if changed:
            contact.save(update_fields=changed)
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


def save_client(form: ModelForm, *, actor: User) -> Client:
    with transaction.atomic():
        created = form.instance.pk is None
        changes = audit.field_changes(form)
        client = form.save()
        audit.record(
            "client.created" if created else "client.updated",
            client,
            actor=actor,
            data={"changes": changes},
        )
    return client


def save_contact(form: ModelForm, *, client: Client, actor: User) -> Contact:
    with transaction.atomic():
        changes = audit.field_changes(form)
        contact = form.save(commit=False)
        contact.client = client
        contact.phone_normalized = normalize_phone(contact.phone)
        created = contact.pk is None
        contact.save()
        audit.record(
            "contact.created" if created else "contact.updated",
            contact,
            actor=actor,
            data={"changes": changes},
        )
    return contact
