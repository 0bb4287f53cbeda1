"""How a contact's email and phone are checked wherever they enter the system (lead form,
embed endpoint, API, client and contact forms, brief and document send forms, signing).

Email: as a mail server would take it (the ``email-validator`` library, no DNS lookups): a
dotted, globally deliverable domain, no bracketed IP literals, at most 64 characters before
the @. Phone: a number the ``phonenumbers`` library calls valid (not only possible) for the
studio's region (``PHONE_REGION``), so "0000000000" is refused.
"""

from __future__ import annotations

import email_validator
import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EMAIL_MAX = 254


def phone_region() -> str:
    """The region a number without a country code is read in (ISO 3166 alpha-2)."""
    return getattr(settings, "PHONE_REGION", "RU")


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an address a mail server would accept, or None ('' is fine)."""
    if not value:
        return None
    if len(value) > EMAIL_MAX:
        return _("Enter a valid email address.")
    try:
        email_validator.validate_email(
            value,
            check_deliverability=False,
            strict=True,
            allow_domain_literal=False,
            allow_quoted_local=False,
            test_environment=getattr(settings, "EMAIL_ALLOW_TEST_DOMAINS", False),
        )
    except email_validator.EmailNotValidError:
        return _("Enter a valid email address.")
    return None


def valid_phone_e164(raw: str) -> str:
    """The E.164 form of a valid phone number, or '' when it is not one."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, phone_region())
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_problem(value: str) -> str | None:
    """Why ``value`` is not a usable phone number, or None ('' is fine)."""
    if value and not valid_phone_e164(value):
        return _("Enter a phone number with the area code, e.g. +7 999 123-45-67.")
    return None


def validate_contact_email(value: str) -> None:
    """Django validator form of email_problem."""
    problem = email_problem((value or "").strip())
    if problem:
        raise ValidationError(problem, code="invalid_email")


def validate_contact_phone(value: str) -> None:
    """Django validator form of phone_problem."""
    problem = phone_problem((value or "").strip())
    if problem:
        raise ValidationError(problem, code="invalid_phone")


class ContactEmailField(forms.EmailField):
    """An email form field checked by email_problem (instead of Django's looser check)."""

    default_validators = [validate_contact_email]
