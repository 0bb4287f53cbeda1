"""Phone normalisation so that '+7 (999) 123-45-67' and '89991234567' match."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str, default_region: str = "RU") -> str:
    """E.164 if the number parses as possible, else '' (an unusable number matches nothing)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
