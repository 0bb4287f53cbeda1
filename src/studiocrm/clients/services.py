"""State changes of clients and contacts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.forms import ModelForm

from studiocrm.clients import declension
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


# Nominative field → its genitive field, filled by clients.declension.
GENITIVE_FIELDS = {
    "signatory_name": ("signatory_name_genitive", declension.person_genitive),
    "signatory_position": ("signatory_position_genitive", declension.phrase_genitive),
    "signatory_basis": ("signatory_basis_genitive", declension.phrase_genitive),
}

# What a contract with a company needs from the client, and with a person.
COMPANY_DETAILS = (
    "legal_name",
    "tax_id",
    "registration_number",
    "address",
    "signatory_name",
    "signatory_position",
    "signatory_basis",
    "bank_name",
    "bank_code",
    "bank_account",
)
PERSON_DETAILS = ("legal_name", "address")


def suggest_genitive(client: Client, changed: list[str]) -> list[str]:
    """Fill the genitive forms of the nominatives in ``changed`` (and empty ones). A genitive
    the caller changed itself is kept. Returns the fields it set."""
    updated = []
    for nominative, (genitive, decline) in GENITIVE_FIELDS.items():
        if genitive in changed:
            continue
        if nominative in changed or not getattr(client, genitive):
            value = getattr(client, nominative)
            setattr(client, genitive, decline(value) if value else "")
            updated.append(genitive)
    return updated


def missing_details(client: Client) -> list[str]:
    """The verbose names of what a contract with this client still lacks."""
    needed = COMPANY_DETAILS if client.kind == Client.Kind.COMPANY else PERSON_DETAILS
    return [
        str(Client._meta.get_field(name).verbose_name)
        for name in needed
        if not str(getattr(client, name) or "").strip()
    ]


class ContactNotChanged(Exception):
    """The contact cannot take this value (the field is unknown or the actor may not)."""


CHANGEABLE_FIELDS = ("email", "phone")


def change_contact_field(
    contact: Contact, *, field: str, value: str, actor: User, reason: str
) -> Contact:
    """Set one of the contact's addresses (``email`` or ``phone``) to ``value``, under the
    contact's row lock, with an audit row saying what it was, what it is and why. The caller
    has checked that ``actor`` may (``deals.client_permissions.can_edit_contact``: the rule
    follows the contact's deals, which this ground-floor app does not know)."""
    if field not in CHANGEABLE_FIELDS:
        raise ContactNotChanged(f"unknown contact field {field!r}")
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("client").get(pk=contact.pk)
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
        changes = audit.field_changes(form)
        client = form.save(commit=False)
        suggest_genitive(client, list(form.changed_data))
        client.save()
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


def save_details_from_client(
    client: Client, form: ModelForm, *, document_id: int, ip: str | None
) -> Client:
    """The client filled in their legal details on a document's page.

    Saves only the fields of the form, under a row lock, suggests the genitive forms, and
    writes an audit row (actor: nobody; the document and address say where it came from) that
    the manager sees in the client's history.
    """
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        changed = [
            name
            for name in form.fields
            if (getattr(locked, name) or "") != (form.cleaned_data.get(name) or "")
        ]
        for name in changed:
            setattr(locked, name, form.cleaned_data.get(name) or "")
        updated = suggest_genitive(locked, changed)
        if changed or updated:
            locked.save(update_fields=sorted({*changed, *updated}))
        audit.record(
            "client.details_from_client",
            locked,
            actor=None,
            data={"fields": changed, "document": document_id, "ip": ip or ""},
        )
    return locked
