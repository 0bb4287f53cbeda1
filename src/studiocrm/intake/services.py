"""Lead intake: a submission from the web form, the embed snippet or the API becomes a contact
and a deal in stage `new`, assigned to a manager who is emailed a one-click link.

Every channel passes an idempotency key (or gets one derived from the lead), stored in the
unique ``Deal.intake_key``: a double submit, a replay or a concurrent duplicate finds the deal
the first submission opened instead of opening another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from studiocrm.clients.models import Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.clients.services import (
    ContactNotChanged,
    change_contact_field,
    match_or_create_contact,
)
from studiocrm.clients.validation import email_problem, phone_problem
from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.deals.client_permissions import can_edit_contact
from studiocrm.deals.models import Deal, Source
from studiocrm.deals.services import can_edit, create_deal, pick_manager
from studiocrm.intake.models import ApiKey, ContactChange, Lead

log = logging.getLogger(__name__)

# Limits shared by every channel (the hosted form, the snippet endpoint and the API).
NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
COMPANY_MAX = 200
MESSAGE_MAX = 5000
URL_MAX = 500
UTM_MAX = 100
# Deal.expected_amount holds 14 digits with 2 decimal places.
BUDGET_MAX = Decimal("999999999999.99")
IDEMPOTENCY_KEY_MAX = 255
# How much of the message goes into the deal title.
TITLE_MESSAGE_CHARS = 60

SOURCES = {Source.WEBSITE, Source.API, Source.EMAIL}


@dataclass(frozen=True)
class LeadData:
    """What a visitor or an integration tells us. Email or phone (at least one) is required."""

    name: str
    email: str = ""
    phone: str = ""
    company: str = ""
    message: str = ""
    budget: Decimal | None = None
    page_url: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class IntakeResult:
    deal: Deal
    created: bool


class IdempotencyKeyReused(ValueError):
    """The idempotency key was used before for a different lead; nothing was created."""

    code = "idempotency_key_reused"

    def __init__(self, deal: Deal) -> None:
        super().__init__("idempotency key reused with a different lead")
        self.deal = deal


class InvalidLead(ValueError):
    """The lead cannot be accepted; ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))
        self.errors = errors


TEXT_LIMITS = {
    "name": NAME_MAX,
    "email": EMAIL_MAX,
    "phone": PHONE_MAX,
    "company": COMPANY_MAX,
    "message": MESSAGE_MAX,
    "page_url": URL_MAX,
    "utm_source": UTM_MAX,
    "utm_medium": UTM_MAX,
    "utm_campaign": UTM_MAX,
}


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored as it is, or None.

    NUL characters and lone surrogates (possible in JSON: "\\ud800") are refused because
    the database cannot store them; everything else, markup included, is kept verbatim.
    """
    if "\x00" in value:
        return _("Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("The text contains invalid characters.")
    return None


def url_problem(value: str) -> str | None:
    if not value:
        return None
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return _("Enter a full http(s) address.")
    return None


def validate_lead(lead: LeadData) -> LeadData:
    """The lead with surrounding whitespace stripped, or InvalidLead saying what is wrong.

    Every channel validates its own input first for field-by-field messages; this is the
    last word, so no channel can put something into the database the others would refuse.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    for name, limit in TEXT_LIMITS.items():
        value = getattr(lead, name)
        if not isinstance(value, str):
            errors.setdefault(name, []).append(_("Must be text."))
            continue
        value = value.strip()
        problem = text_problem(value)
        if problem is None and len(value) > limit:
            problem = _("At most %(limit)d characters.") % {"limit": limit}
        if problem:
            errors.setdefault(name, []).append(problem)
        cleaned[name] = value
    checks = {
        "email": email_problem,
        "phone": phone_problem,
        "page_url": url_problem,
    }
    for name, check in checks.items():
        value = cleaned.get(name)
        if isinstance(value, str) and name not in errors:
            problem = check(value)
            if problem:
                errors.setdefault(name, []).append(problem)
    if "name" not in errors and not cleaned.get("name"):
        errors["name"] = [_("Tell us your name.")]
    if (
        not cleaned.get("email")
        and not cleaned.get("phone")
        and not errors.keys()
        & {
            "email",
            "phone",
        }
    ):
        errors["email"] = [_("Leave an email or a phone number so we can reply.")]
    budget = lead.budget
    if budget is not None:
        try:
            budget = Decimal(budget).quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError, ValueError):
            budget = None
            errors["budget"] = [_("Enter an amount.")]
        else:
            if not Decimal("0") <= budget <= BUDGET_MAX:
                errors["budget"] = [_("Enter an amount between 0 and 999 999 999 999.")]
    if errors:
        raise InvalidLead(errors)
    return replace(lead, budget=budget, **cleaned)  # type: ignore[arg-type]


def intake_key_for(
    lead: LeadData,
    *,
    source: str,
    idempotency_key: str | None,
    api_key: ApiKey | None = None,
) -> str:
    """The value stored in Deal.intake_key for this submission.

    A client-provided key is used when there is one, scoped to the API key that sent it (one
    integration's keys never find another's deal); without one the key is derived from who
    wrote and what (normalised email and phone, the message) and the UTC date, so the same
    lead sent twice on one day opens one deal. The key is scoped by source, so keys of
    different channels never collide, and hashed, so any length or alphabet fits the column.
    """
    if idempotency_key:
        scope = str(api_key.pk) if api_key is not None else "-"
        material = f"client\x1f{scope}\x1f{idempotency_key}"
    else:
        material = "\x1f".join(
            [
                "derived",
                lead.email.strip().lower(),
                normalize_phone(lead.phone),
                " ".join(lead.message.split()),
                timezone.now().astimezone(UTC).date().isoformat(),
            ]
        )
    return f"{source}:{hashlib.sha256(material.encode('utf-8', 'surrogatepass')).hexdigest()}"


def fingerprint(lead: LeadData) -> str:
    """SHA-256 of a validated lead's fields: equal for the same lead sent again."""
    fields = {name: getattr(lead, name) for name in TEXT_LIMITS}
    fields["budget"] = None if lead.budget is None else str(lead.budget)
    material = json.dumps(fields, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(material.encode("ascii")).hexdigest()


GREETING = re.compile(
    r"^(здравствуйте|добрый (день|вечер|утро)|доброе утро|привет|hello|hi|hey|good (morning|"
    r"afternoon|evening)|dear [^,.!]{1,40})\b[\s,.!]*",
    re.IGNORECASE,
)


def derive_title(lead: LeadData) -> str:
    """Company (or the person's name), then the start of the message: 'Acme — New shop…'."""
    who = " ".join((lead.company or lead.name).split())
    # "Здравствуйте! Нужен магазин…" names the deal by its greeting; drop it.
    gist = " ".join(lead.message.split())
    if GREETING.match(gist):
        gist = GREETING.sub("", gist, count=1)
        gist = gist[:1].upper() + gist[1:]
    if len(gist) > TITLE_MESSAGE_CHARS:
        cut = gist[:TITLE_MESSAGE_CHARS].rsplit(" ", 1)[0] or gist[:TITLE_MESSAGE_CHARS]
        gist = cut.rstrip(" ,.;:—-") + "…"
    else:
        # A title is not a sentence: "Acme — Landing page", not "… Landing page."
        gist = gist.rstrip(" ,.;:—-")
    return f"{who} — {gist}" if gist else who


def describe(lead: LeadData) -> str:
    """The deal's description: the message as written, then where the lead came from."""
    lines = []
    if lead.page_url:
        lines.append(_("Page: %(url)s") % {"url": lead.page_url})
    utm = [
        f"{name}={value}"
        for name, value in (
            ("utm_source", lead.utm_source),
            ("utm_medium", lead.utm_medium),
            ("utm_campaign", lead.utm_campaign),
        )
        if value
    ]
    if utm:
        lines.append("UTM: " + ", ".join(utm))
    if not lines:
        return lead.message
    return "\n\n".join(part for part in [lead.message, "\n".join(lines)] if part)


def deal_with_key(key: str) -> Deal | None:
    return Deal.objects.filter(intake_key=key).select_related("lead").first()


def _replay(deal: Deal, lead_fingerprint: str, *, client_key: bool) -> IntakeResult:
    """The answer for a submission whose key was seen before: the first deal, unless the
    client's own key now comes with another lead (that is a bug on their side, not a retry)."""
    first = getattr(deal, "lead", None)
    if client_key and first is not None and first.fingerprint != lead_fingerprint:
        raise IdempotencyKeyReused(deal)
    return IntakeResult(deal=deal, created=False)


def proposed_changes(lead: LeadData, contact: Contact) -> list[tuple[str, str, str]]:
    """(field, value the lead gave, value the contact has) where a lead disagrees with the
    existing contact it matched."""
    changes = []
    if lead.email and lead.email.lower() != (contact.email or "").lower():
        changes.append((ContactChange.Field.EMAIL, lead.email, contact.email))
    if lead.phone and normalize_phone(lead.phone) != contact.phone_normalized:
        changes.append((ContactChange.Field.PHONE, lead.phone, contact.phone))
    return changes


def submit_lead(
    lead: LeadData,
    *,
    source: str,
    idempotency_key: str | None,
    api_key: ApiKey | None = None,
) -> IntakeResult:
    """Match or create the contact and open a deal in stage `new` for an incoming lead.

    The lead is kept on the deal as it was given (``Lead``). A lead never changes an
    existing contact: where it gives another email or phone than the contact it matched, a
    pending ``ContactChange`` is left on the deal for a manager to accept or reject.

    The manager is picked by the studio's rule (round robin or default manager) and gets an
    email through the outbox whose link opens the deal. Everything happens in one
    transaction. A repeated submission (same idempotency key within the source and API key,
    or the same derived key) returns the deal the first one opened with ``created=False``,
    also when both arrive at the same moment: the second insert hits the unique key, its
    savepoint is rolled back (with the contact and the round-robin step it took) and the
    winner's deal is returned. The same client key with a different lead raises
    IdempotencyKeyReused; an invalid lead raises InvalidLead.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown intake source {source!r}")
    lead = validate_lead(lead)
    key = intake_key_for(lead, source=source, idempotency_key=idempotency_key, api_key=api_key)
    lead_fingerprint = fingerprint(lead)
    client_key = bool(idempotency_key)
    existing = deal_with_key(key)
    if existing is not None:
        return _replay(existing, lead_fingerprint, client_key=client_key)
    try:
        with transaction.atomic():
            # The studio row lock taken here also serialises contact matching, so two
            # different leads from one new email cannot both create a contact.
            manager = pick_manager()
            match = match_or_create_contact(
                name=lead.name,
                email=lead.email,
                phone=lead.phone,
                company=lead.company,
                actor=None,
            )
            with translation.override(Studio.load().locale):
                description = describe(lead)
            deal = create_deal(
                title=derive_title(lead),
                client=match.contact.client,
                contact=match.contact,
                actor=None,
                manager=manager,
                source=source,
                description=description,
                expected_amount=lead.budget,
                intake_key=key,
                notify_manager=True,
                utm={
                    "source": lead.utm_source,
                    "medium": lead.utm_medium,
                    "campaign": lead.utm_campaign,
                },
            )
            record = Lead.objects.create(
                deal=deal,
                source=source,
                name=lead.name,
                email=lead.email,
                phone=lead.phone,
                company=lead.company,
                api_key=api_key,
                fingerprint=lead_fingerprint,
                contact_created=match.created,
            )
            changes = [] if match.created else proposed_changes(lead, match.contact)
            for field, value, current in changes:
                ContactChange.objects.create(
                    lead=record,
                    contact=match.contact,
                    field=field,
                    value=value,
                    current_value=current,
                )
            audit.record(
                "intake.lead_received",
                deal,
                actor=None,
                data={
                    "source": source,
                    "contact": match.contact.pk,
                    "contact_created": match.created,
                    "proposed_changes": [field for field, _value, _current in changes],
                    "manager": manager.pk if manager else None,
                    "api_key": api_key.prefix if api_key else None,
                    "page_url": lead.page_url,
                    "utm": {
                        "source": lead.utm_source,
                        "medium": lead.utm_medium,
                        "campaign": lead.utm_campaign,
                    },
                },
            )
    except IntegrityError:
        # A concurrent submission with the same key committed first.
        existing = deal_with_key(key)
        if existing is None:
            raise
        return _replay(existing, lead_fingerprint, client_key=client_key)
    log.info("intake: %s lead opened deal %s", source, deal.pk)
    return IntakeResult(deal=deal, created=True)


class ChangeNotAllowed(Exception):
    """The user may not decide on this proposed change (or it was decided already)."""


def can_decide(user: User, change: ContactChange, *, accepting: bool) -> bool:
    """Accepting changes the contact, so it needs the right to edit the contact; rejecting
    changes nothing but the proposal, so the deal's manager may do it too."""
    if change.status != ContactChange.Status.PENDING:
        return False
    if can_edit_contact(user, change.contact):
        return True
    return not accepting and can_edit(user, change.lead.deal)


def decide_contact_change(change: ContactChange, *, accept: bool, actor: User) -> ContactChange:
    """Accept (apply to the contact) or reject a change a lead proposed. Audited; deciding
    twice or without the right raises ChangeNotAllowed and changes nothing."""
    with transaction.atomic():
        change = (
            ContactChange.objects.select_for_update(of=("self",))
            .select_related("contact__client", "lead__deal")
            .get(pk=change.pk)
        )
        if not can_decide(actor, change, accepting=accept):
            raise ChangeNotAllowed(_("You cannot decide on this change."))
        if accept:
            try:
                change_contact_field(
                    change.contact,
                    field=change.field,
                    value=change.value,
                    actor=actor,
                    reason=f"lead on deal {change.lead.deal_id}",
                )
            except ContactNotChanged as error:
                raise ChangeNotAllowed(_("You cannot decide on this change.")) from error
        change.status = ContactChange.Status.ACCEPTED if accept else ContactChange.Status.REJECTED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(
            "intake.contact_change_" + change.status,
            change.lead.deal,
            actor=actor,
            data={"contact": change.contact_id, "field": change.field, "value": change.value},
        )
    return change


# --- API keys -------------------------------------------------------------------------

API_KEY_TAG = "sck"
_PREFIX_RE = re.compile(r"[0-9a-f]{12}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# Compared against when no key has the prefix, so a miss costs the same as a wrong secret.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_api_key(name: str, *, actor: User) -> tuple[ApiKey, str]:
    """A new key for an integration and its full value, which is never stored or shown again.

    The value is ``sck_<prefix>_<secret>``: a 48-bit public prefix that finds the row and a
    256-bit secret from ``secrets`` of which only the SHA-256 is kept.
    """
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip()[:100] or prefix,
            prefix=prefix,
            secret_hash=_hash_secret(secret),
            created_by=actor,
        )
        audit.record("intake.api_key_created", key, actor=actor, data={"name": key.name})
    return key, f"{API_KEY_TAG}_{prefix}_{secret}"


def revoke_api_key(key: ApiKey, *, actor: User) -> ApiKey:
    """Stop accepting a key. Revoking twice changes nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record("intake.api_key_revoked", key, actor=actor, data={"name": key.name})
    return key


def authenticate_api_key(presented: str) -> ApiKey | None:
    """The active key matching the presented value, or None (missing, wrong or revoked
    keys are indistinguishable to the caller). Marks the key as used."""
    parts = (presented or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_TAG:
        return None
    prefix, secret = parts[1], parts[2]
    if not _PREFIX_RE.fullmatch(prefix) or not _SECRET_RE.fullmatch(secret):
        return None
    key = ApiKey.objects.filter(prefix=prefix).first()
    expected = key.secret_hash if key is not None else _NO_KEY_HASH
    matches = hmac.compare_digest(_hash_secret(secret), expected)
    if key is None or not matches or key.revoked_at is not None:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return key
